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
 * @param pairs the distinct true pairs ({@link MatchPairs#pairs})
 * @param pairsWithUnencodedId true pairs naming an id that is not among the encoded items (they count as misses)
 * @param nonMatchRows rows of the match file labelled non-matches, not scored
 * @param duplicatePairs rows of the match file repeating a true pair, counted once
 * @param misses rows written to {@code evaluation/misses}
 */
public record Evaluation(Map<String, Object> aToB, Map<String, Object> bToA, String scorer,
    Map<String, Object> settings, String model, long pairs, long pairsWithUnencodedId, long nonMatchRows,
    long duplicatePairs, int listSize, long misses) {

  /** {@link #metrics(RankedLists, Map, int)} with recall@K for every one of {@link RankingMetrics#DEFAULT_KS}. */
  public static Map<String, Object> metrics(RankedLists lists, Map<String, Set<String>> truth) {
    return metrics(lists, truth, RankingMetrics.DEFAULT_KS[RankingMetrics.DEFAULT_KS.length - 1]);
  }

  /**
   * The metrics of ranked lists of up to {@code listSize} items against true partners, rounded to 6 decimals,
   * plus query and pair counts: recall@K for the usual K up to {@code listSize}, and for {@code listSize}.
   */
  public static Map<String, Object> metrics(RankedLists lists, Map<String, Set<String>> truth, int listSize) {
    RankingMetrics.Result result = RankingMetrics.compute(lists.ids(), truth, ks(listSize));
    Map<String, Object> out = new LinkedHashMap<>();
    result.values().forEach((k, v) -> out.put(k, Math.round(v * 1e6) / 1e6));
    out.put("queries", result.queries());
    out.put("pairs", result.pairs());
    return out;
  }

  /** The K of recall@K for lists of {@code listSize}: {@link RankingMetrics#DEFAULT_KS} up to it, and itself. */
  static int[] ks(int listSize) {
    int largest = RankingMetrics.DEFAULT_KS[RankingMetrics.DEFAULT_KS.length - 1];
    return java.util.stream.IntStream.concat(java.util.Arrays.stream(RankingMetrics.DEFAULT_KS),
        java.util.stream.IntStream.of(Math.min(listSize, largest))).filter(k -> k <= listSize).distinct().sorted()
        .toArray();
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
    m.put("non_match_rows", nonMatchRows);
    m.put("duplicate_pairs", duplicatePairs);
    m.put("list_size", listSize);
    return m;
  }

  /** The run summary's evaluation counts. */
  public Map<String, Object> counts() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("pairs", pairs);
    m.put("pairs_with_unencoded_id", pairsWithUnencodedId);
    m.put("non_match_rows", nonMatchRows);
    m.put("duplicate_pairs", duplicatePairs);
    m.put("misses", misses);
    return m;
  }
}
