package dev.itemsim.config;

import java.util.Collection;
import java.util.Locale;

/** Nearest-name suggestions for mistyped keys and options. */
public final class Suggestions {
  private Suggestions() {}

  /** The candidate with the smallest case-insensitive edit distance to {@code name}. */
  public static String nearest(String name, Collection<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    String lower = name.toLowerCase(Locale.ROOT);
    for (String candidate : candidates) {
      int d = editDistance(lower, candidate.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return best;
  }

  /**
   * {@link #nearest}, when it is close enough to be a likely typo of {@code name}: at most a quarter of its
   * characters (at least one) differ; otherwise null.
   */
  public static String likelyTypo(String name, Collection<String> candidates) {
    String best = nearest(name, candidates);
    return best != null && editDistance(name.toLowerCase(Locale.ROOT), best.toLowerCase(Locale.ROOT))
        <= Math.max(1, name.length() / 4) ? best : null;
  }

  static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
