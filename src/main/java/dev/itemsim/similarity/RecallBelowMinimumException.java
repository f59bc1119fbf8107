package dev.itemsim.similarity;

/**
 * Approximate lists found fewer of the exact neighbours of the sampled queries than
 * {@code similarity.ivf.minRecall} asks (with {@code similarity.ivf.onLowRecall = fail}); the command line
 * exits with code 4 and the run replaces no table. The message says what was measured and what to change.
 */
public final class RecallBelowMinimumException extends RuntimeException {
  private final transient SearchFacts facts;

  public RecallBelowMinimumException(String message, SearchFacts facts) {
    super(message);
    this.facts = facts;
  }

  /** What the search ran and measured, for the run summary. */
  public SearchFacts facts() {
    return facts;
  }
}
