package dev.itemsim.similarity;

import java.io.Serializable;

/**
 * Which candidates may become neighbours, from per-item value codes (dictionary-encoded column values):
 * {@code similarity.sameValueOf} keeps only candidates with the query's value (a missing value is a value of
 * its own), {@code similarity.excludeSameValueOf} drops candidates sharing the query's value (a missing value
 * excludes nothing). Checked only for candidates that already beat a list's threshold, so it costs nothing
 * on the hot path. Either array pair may be null (no such rule).
 */
public record NeighborFilter(int[] sameQuery, int[] sameCorpus, int[] excludeQuery, int[] excludeCorpus)
    implements Serializable {

  /** Code of a missing value. */
  public static final int MISSING = -1;

  /** Whether corpus item {@code candidate} may be a neighbour of query item {@code query}. */
  public boolean allows(int query, int candidate) {
    if (sameQuery != null && sameQuery[query] != sameCorpus[candidate]) {
      return false;
    }
    return excludeQuery == null || excludeQuery[query] == MISSING || excludeQuery[query] != excludeCorpus[candidate];
  }

  /**
   * Dictionary codes of one column's values on both sides, sharing one dictionary: element 0 for the
   * queries, 1 for the corpus; null and blank values get {@link #MISSING}.
   */
  static int[][] codes(String[] queryValues, String[] corpusValues) {
    java.util.Map<String, Integer> dictionary = new java.util.HashMap<>();
    return new int[][] {codes(queryValues, dictionary), codes(corpusValues, dictionary)};
  }

  private static int[] codes(String[] values, java.util.Map<String, Integer> dictionary) {
    int[] codes = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      String v = values[i];
      codes[i] = v == null || v.isBlank() ? MISSING : dictionary.computeIfAbsent(v, k -> dictionary.size());
    }
    return codes;
  }

  /** The same rules with query and corpus swapped (for the column side of a symmetric scan). */
  NeighborFilter reversed() {
    return new NeighborFilter(sameCorpus, sameQuery, excludeCorpus, excludeQuery);
  }
}
