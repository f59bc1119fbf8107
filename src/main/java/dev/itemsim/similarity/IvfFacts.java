package dev.itemsim.similarity;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an approximate (IVF) search did and how good its lists were, for logs and the run summary.
 *
 * @param lists inverted lists (k-means centroids) the corpus was split into
 * @param nprobe lists each query searched
 * @param assignments lists each corpus item was stored in
 * @param trainingSample corpus vectors the centroids were trained on
 * @param segments list segments written (lists longer than a block are cut into several)
 * @param largestList items in the longest list
 * @param scoredFraction candidate pairs scored, as a fraction of all query × corpus pairs
 * @param recallQueries queries whose exact lists were computed to measure recall (0: not measured)
 * @param recall recall@N of the approximate lists over those queries (null: not measured)
 * @param minRecall the recall below which the run fails or warns ({@code similarity.ivf.minRecall})
 * @param onLowRecall fail or warn
 * @param auto what {@code nprobe = auto} measured before choosing {@code nprobe} (null when nprobe was set)
 * @param phaseMs wall time of each phase: train, layout, search, recall
 */
public record IvfFacts(int lists, int nprobe, int assignments, long trainingSample, int segments, long largestList,
    double scoredFraction, int recallQueries, Double recall, double minRecall, String onLowRecall, AutoNprobe auto,
    Map<String, Long> phaseMs) {

  /**
   * How {@code nprobe = auto} chose: the recall@N it aimed at, and the recall@N of the sampled queries with
   * nprobe 1, 2, ... (as many as the layout stored), read from their exact lists before the search.
   */
  public record AutoNprobe(double aimedRecall, List<Double> recallByNprobe) {}

  /** The JSON form written to the run summary. */
  public Map<String, Object> asMap() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("lists", lists);
    out.put("nprobe", nprobe);
    out.put("assignments", assignments);
    out.put("training_sample", trainingSample);
    out.put("segments", segments);
    out.put("largest_list", largestList);
    out.put("scored_fraction", scoredFraction);
    out.put("recall_queries", recallQueries);
    if (recall != null) {
      out.put("recall_at_n", recall);
    }
    out.put("min_recall", minRecall);
    out.put("on_low_recall", onLowRecall);
    if (auto != null) {
      out.put("nprobe_auto", Map.of("aimed_recall", auto.aimedRecall(), "recall_by_nprobe", auto.recallByNprobe()));
    }
    out.put("phase_ms", phaseMs);
    return out;
  }
}
