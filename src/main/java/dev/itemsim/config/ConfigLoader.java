package dev.itemsim.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import dev.itemsim.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Builds a job's configuration: {@code itemsim/conf/defaults.conf} (from the jar) &lt; an optional profile
 * ({@code itemsim/conf/PROFILE.conf}) &lt; the job spec file &lt; {@code --set key=value} overrides.
 *
 * <p>Every key must exist in the defaults, except below {@code spark.}, which passes through to Spark.
 * An unknown key fails with its origin (file and line) and the nearest known key.
 */
public final class ConfigLoader {
  static final String DEFAULTS = "itemsim/conf/defaults.conf";
  private static final String SPARK_PREFIX = "spark.";

  private ConfigLoader() {}

  /** Whether {@code value} comes from the defaults file rather than a profile, job spec or {@code --set}. */
  public static boolean isDefault(ConfigValue value) {
    return DEFAULTS.equals(value.origin().resource());
  }

  public static Config defaults() {
    return ConfigFactory.parseResources(DEFAULTS, ConfigParseOptions.defaults().setAllowMissing(false));
  }

  public static Config load(Path jobFile, String profile, List<String> overrides) {
    Config defaults = defaults();
    Config layered = parseOverrides(overrides)
        .withFallback(parseJob(jobFile))
        .withFallback(profile(profile));
    try {
      layered = layered.resolveWith(defaults);
    } catch (ConfigException e) {
      throw new InvalidInputException("Configuration: " + e.getMessage(), e);
    }
    rejectUnknownKeys(layered, defaults);
    return layered.withFallback(defaults).resolve();
  }

  private static Config parseJob(Path jobFile) {
    if (jobFile == null) {
      return ConfigFactory.empty();
    }
    if (!Files.isRegularFile(jobFile)) {
      throw new InvalidInputException("Job spec " + jobFile + " does not exist or is not a file");
    }
    try {
      return ConfigFactory.parseFile(jobFile.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
    } catch (ConfigException e) {
      throw new InvalidInputException("Job spec " + jobFile + " is not valid HOCON: " + e.getMessage(), e);
    }
  }

  private static Config profile(String profile) {
    if (profile == null || profile.isBlank()) {
      return ConfigFactory.empty();
    }
    String resource = "itemsim/conf/" + profile + ".conf";
    if (ConfigLoader.class.getClassLoader().getResource(resource) == null) {
      throw new InvalidInputException("Unknown profile '" + profile + "': use local or cluster");
    }
    return ConfigFactory.parseResources(resource);
  }

  /**
   * {@code key=value} pairs; values stay strings and are converted by the typed getters, except a value in
   * brackets, which is read as a HOCON list ({@code exclude=[purchase,return]}).
   */
  static Config parseOverrides(List<String> overrides) {
    Config config = ConfigFactory.empty();
    for (String override : overrides) {
      int eq = override.indexOf('=');
      if (eq <= 0) {
        throw new InvalidInputException("--set expects key=value, got '" + override + "'");
      }
      String key = override.substring(0, eq).trim();
      String value = override.substring(eq + 1).trim();
      try {
        config = ConfigFactory.empty("--set " + key)
            .withValue(key, value.startsWith("[") ? listValue(key, value)
                : ConfigValueFactory.fromAnyRef(value, "--set " + key))
            .withFallback(config);
      } catch (ConfigException.BadPath e) {
        throw new InvalidInputException("--set: '" + key + "' is not a valid key", e);
      }
    }
    return config;
  }

  /** {@code value} ({@code [a, b, ...]}) as a HOCON list, or an error naming {@code key}. */
  private static ConfigValue listValue(String key, String value) {
    ConfigValue parsed;
    try {
      parsed = ConfigFactory.parseString("value = " + value,
          ConfigParseOptions.defaults().setOriginDescription("--set " + key)).getValue("value");
    } catch (ConfigException e) {
      throw new InvalidInputException("--set " + key + ": '" + value + "' is not a HOCON list such as [a, b]: "
          + e.getMessage(), e);
    }
    if (parsed.valueType() != com.typesafe.config.ConfigValueType.LIST) {
      throw new InvalidInputException("--set " + key + ": '" + value + "' is not a HOCON list such as [a, b]");
    }
    return parsed;
  }

  static void rejectUnknownKeys(Config config, Config defaults) {
    Set<String> known = new TreeSet<>();
    for (Map.Entry<String, ConfigValue> e : defaults.entrySet()) {
      known.add(e.getKey());
    }
    for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
      String key = e.getKey();
      if (key.startsWith(SPARK_PREFIX) || known.contains(key)) {
        continue;
      }
      String typo = Suggestions.likelyTypo(key, known);
      throw new InvalidInputException("Unknown configuration key '" + key + "' (" + e.getValue().origin()
          .description() + "); " + (typo != null ? "did you mean '" + typo + "'?"
          : "every key is listed, with its default, in conf/defaults.conf"));
    }
  }
}
