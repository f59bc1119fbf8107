package dev.itemsim.similarity;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * One item's neighbours best first — ids and scores, in itemsim's order (higher score first, equal scores by
 * the lower id, {@link CollectedItems#compareIds}) — and whether the list is a complete answer or a prefix.
 *
 * <p>A list is a <em>prefix</em> of a ranking over some set of candidates: its entries are exactly that
 * set's best {@code size()} candidates. It is {@code truncated} when candidates may follow (the set has
 * more than it holds), else it holds every candidate of the set. Two prefixes over disjoint or overlapping
 * sets {@linkplain #merge merge} into a prefix over their union.
 */
public record ScoredList(String[] ids, float[] scores, boolean truncated) implements Serializable {
  public static final ScoredList EMPTY = new ScoredList(new String[0], new float[0], false);

  public ScoredList {
    if (ids.length != scores.length) {
      throw new IllegalArgumentException(ids.length + " ids but " + scores.length + " scores");
    }
  }

  public int size() {
    return ids.length;
  }

  /** From array columns (Spark rows give {@code List}s); a null list is empty. */
  public static ScoredList of(List<String> ids, List<Float> scores, boolean truncated) {
    if (ids == null) {
      return new ScoredList(new String[0], new float[0], truncated);
    }
    float[] s = new float[scores.size()];
    for (int k = 0; k < s.length; k++) {
      s[k] = scores.get(k);
    }
    return new ScoredList(ids.toArray(String[]::new), s, truncated);
  }

  /** Whether {@code (scoreA, idA)} ranks before {@code (scoreB, idB)} in itemsim's order. */
  static boolean before(float scoreA, String idA, float scoreB, String idB) {
    int c = Float.compare(scoreA + 0.0f, scoreB + 0.0f);
    return c > 0 || c == 0 && CollectedItems.compareIds(idA, idB) < 0;
  }

  /** This list without the entries whose id {@code drop} names; truncated stays as it was. */
  public ScoredList without(java.util.function.Predicate<String> drop) {
    int kept = 0;
    String[] ids2 = new String[ids.length];
    float[] scores2 = new float[ids.length];
    for (int k = 0; k < ids.length; k++) {
      if (!drop.test(ids[k])) {
        ids2[kept] = ids[k];
        scores2[kept++] = scores[k];
      }
    }
    return new ScoredList(Arrays.copyOf(ids2, kept), Arrays.copyOf(scores2, kept), truncated);
  }

  /** The first {@code n} entries; truncated when entries were cut or the list already was. */
  public ScoredList first(int n) {
    if (n >= ids.length) {
      return this;
    }
    return new ScoredList(Arrays.copyOf(ids, n), Arrays.copyOf(scores, n), true);
  }

  /**
   * The longest list that is certainly a prefix of the ranking over the union of both lists' candidate sets,
   * at most {@code limit} entries. Entries come in order from either list (an id in both is taken once, at
   * its first place); once a truncated list is used up, unseen candidates of its set could rank next, so the
   * merge stops there. The result is truncated unless both inputs are complete and nothing was cut.
   */
  public static ScoredList merge(ScoredList a, ScoredList b, int limit) {
    String[] ids = new String[Math.min(limit, a.size() + b.size())];
    float[] scores = new float[ids.length];
    java.util.Set<String> seen = new java.util.HashSet<>();
    int i = 0;
    int j = 0;
    int n = 0;
    while (n < ids.length) {
      boolean aLeft = i < a.size();
      boolean bLeft = j < b.size();
      if (!aLeft && a.truncated || !bLeft && b.truncated || !aLeft && !bLeft) {
        break;
      }
      boolean fromA = !bLeft || aLeft && before(a.scores[i], a.ids[i], b.scores[j], b.ids[j]);
      String id = fromA ? a.ids[i] : b.ids[j];
      float score = fromA ? a.scores[i++] : b.scores[j++];
      if (seen.add(id)) {
        ids[n] = id;
        scores[n++] = score;
      }
    }
    boolean more = i < a.size() || j < b.size() || a.truncated || b.truncated;
    return new ScoredList(Arrays.copyOf(ids, n), Arrays.copyOf(scores, n), more);
  }
}
