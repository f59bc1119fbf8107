package dev.itemsim.eval;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The evaluate job's result: ranking metrics of both directions and how they were obtained, in the shape of
 * {@code evaluation/metrics.json}.
 *
 * @param aToB metrics of catalogue A's lists over B ({@link #metrics})
 * @param bToA the reverse direction (the same lists as {@code aToB} for one catalogue)
 * @param scorer the retriever's name
 * @param settings the scorer's settings that shaped the lists
 * @param pairsWithUnencodedId true pairs naming an id that is not among the encoded items (they count as misses)
 * @param misses rows written to {@code evaluation/misses}
 */
public record Evaluation(Map<String, Object> aToB, Map<String, Object> bToA, String scorer,
    Map<String, Object> settings, String model, long pairs, long pairsWithUnencodedId, int listSize, long misses) {

  /** The metrics of ranked lists against true partners, rounded to 6 decimals, plus query and pair counts. */
  public static Map<String, Object> metrics(RankedLists lists, Map<String, Set<String>> truth) {
    RankingMetrics.Result result = RankingMetrics.compute(lists.ids(), truth, RankingMetrics.DEFAULT_KS);
    Map<String, Object> out = new LinkedHashMap<>();
    result.values().forEach((k, v) -> out.put(k, Math.round(v * 1e6) / 1e6));
    out.put("queries", result.queries());
    out.put("pairs", result.pairs());
    return out;
  }

  /** {@code metrics.json}'s object. */
  public Map<String, Object> asMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("a_to_b", aToB);
    m.put("b_to_a", bToA);
    m.put("scorer", scorer);
    m.put("settings", settings);
    m.put("model", model);
    m.put("pairs", pairs);
    m.put("pairs_with_unencoded_id", pairsWithUnencodedId);
    m.put("list_size", listSize);
    return m;
  }

  /** The run summary's evaluation counts. */
  public Map<String, Object> counts() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("pairs", pairs);
    m.put("pairs_with_unencoded_id", pairsWithUnencodedId);
    m.put("misses", misses);
    return m;
  }
}
