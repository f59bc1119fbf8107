package dev.itemsim.embed;

import dev.itemsim.InvalidInputException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Parses a configuration value into one of an enum's constants, case-insensitively, naming the key on failure. */
final class Choices {
  private Choices() {}

  static <E extends Enum<E>> E parse(Class<E> type, String key, String value) {
    String wanted = value == null ? "" : value.trim().toUpperCase(Locale.ROOT);
    for (E e : type.getEnumConstants()) {
      if (e.name().equals(wanted)) {
        return e;
      }
    }
    throw new InvalidInputException(key + " = '" + value + "': use " + Arrays.stream(type.getEnumConstants())
        .map(e -> e.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")));
  }
}
