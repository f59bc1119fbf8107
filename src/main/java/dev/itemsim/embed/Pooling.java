package dev.itemsim.embed;

/** How token vectors become one sentence vector. */
public enum Pooling {
  /** Average of the token vectors where the attention mask is 1 (sentence-transformers' default). */
  MEAN,
  /** The vector of the first token ([CLS]). */
  CLS;

  public static Pooling parse(String value) {
    return Choices.parse(Pooling.class, "encoder.pooling", value);
  }
}
