package dev.itemsim.embed;

import java.util.Locale;

/** How token vectors become one sentence vector. */
public enum Pooling {
  /** Average of the token vectors where the attention mask is 1 (sentence-transformers' default). */
  MEAN,
  /** The vector of the first token ([CLS]). */
  CLS;

  public static Pooling parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new dev.itemsim.InvalidInputException("encoder.pooling = '" + value + "': use auto, mean or cls");
    }
  }
}
