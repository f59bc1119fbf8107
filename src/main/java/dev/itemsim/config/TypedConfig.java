package dev.itemsim.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import dev.itemsim.InvalidInputException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Typed reads from a loaded configuration; every failure names the key, the value and what was expected. */
public final class TypedConfig {
  private final Config config;

  public TypedConfig(Config config) {
    this.config = config;
  }

  public String string(String key) {
    try {
      return config.getString(key);
    } catch (ConfigException e) {
      throw wrong(key, "a string", e);
    }
  }

  public String requiredString(String key) {
    String value = string(key);
    if (value.isBlank()) {
      throw new InvalidInputException(key + " is required (set it in the job spec or with --set " + key + "=...)");
    }
    return value;
  }

  public int intIn(String key, int min, int max) {
    int value;
    try {
      value = config.getInt(key);
    } catch (ConfigException e) {
      throw wrong(key, "an integer", e);
    }
    if (value < min || value > max) {
      throw new InvalidInputException(key + " = " + value + " is out of range " + min + ".." + max);
    }
    return value;
  }

  public boolean bool(String key) {
    try {
      return config.getBoolean(key);
    } catch (ConfigException e) {
      throw wrong(key, "true or false", e);
    }
  }

  /** A list of strings (a single string is a list of one). */
  public java.util.List<String> stringList(String key) {
    try {
      return config.getStringList(key);
    } catch (ConfigException.WrongType e) {
      return java.util.List.of(string(key));
    } catch (ConfigException e) {
      throw wrong(key, "a list of strings", e);
    }
  }

  public double doubleIn(String key, double min, double max) {
    double value;
    try {
      value = config.getDouble(key);
    } catch (ConfigException e) {
      throw wrong(key, "a number", e);
    }
    if (!(value >= min && value <= max)) {
      throw new InvalidInputException(key + " = " + value + " is out of range " + min + ".." + max);
    }
    return value;
  }

  public String oneOf(String key, Set<String> allowed) {
    String value = string(key);
    if (!allowed.contains(value)) {
      throw new InvalidInputException(key + " = '" + value + "' is not one of " + allowed);
    }
    return value;
  }

  /** Every leaf below {@code prefix} as strings, keys relative to the prefix's parent (e.g. spark.master). */
  public Map<String, String> flatStrings(String prefix) {
    Map<String, String> out = new LinkedHashMap<>();
    if (!config.hasPath(prefix)) {
      return out;
    }
    for (Map.Entry<String, ConfigValue> e : config.getConfig(prefix).entrySet()) {
      out.put(prefix + "." + e.getKey(), String.valueOf(e.getValue().unwrapped()));
    }
    return out;
  }

  public Config raw() {
    return config;
  }

  private static InvalidInputException wrong(String key, String expected, ConfigException e) {
    return new InvalidInputException(key + " must be " + expected + ": " + e.getMessage(), e);
  }
}
