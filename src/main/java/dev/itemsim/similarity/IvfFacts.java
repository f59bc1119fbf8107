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
 * @param recallQueries queries whose exact lists measure recall (0: not measured; with auto, the half of the
 *     sample that did not choose nprobe)
 * @param recall recall@N of the approximate lists over those queries (null: not measured)
 * @param minRecall the recall below which the run fails or warns ({@code similarity.ivf.minRecall})
 * @param onLowRecall fail or warn
 * @param auto what {@code nprobe = auto} measured before choosing {@code nprobe} (null when nprobe was set)
 * @param phaseMs wall time of each phase: train, layout, search, recall (with auto: train, layout, recall, search;
 *     recall then includes the comparison after the search)
 */
public record IvfFacts(int lists, int nprobe, int assignments, long trainingSample, int segments, long largestList,
    double scoredFraction, int recallQueries, Double recall, double minRecall, String onLowRecall, AutoNprobe auto,
    Map<String, Long> phaseMs) {

  /**
   * How {@code nprobe = auto} chose, from the sampled queries' exact lists before the search: the recall@N it
   * aimed at, and the recall@N with nprobe 1, 2, ... (as many as the layout stored) of all sampled queries, of the
   * {@code choiceQueries} that chose (the smallest nprobe whose one-sided 95 % lower confidence bound, in
   * {@code choiceLowerBoundByNprobe}, reaches the aim), and of the others, whose measured recall after the search
   * is {@link IvfFacts#recall}.
   */
  public record AutoNprobe(double aimedRecall, List<Double> recallByNprobe, int choiceQueries,
      List<Double> choiceRecallByNprobe, List<Double> choiceLowerBoundByNprobe, List<Double> checkRecallByNprobe) {}

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
      Map<String, Object> chose = new LinkedHashMap<>();
      chose.put("aimed_recall", auto.aimedRecall());
      chose.put("recall_by_nprobe", auto.recallByNprobe());
      chose.put("choice_queries", auto.choiceQueries());
      chose.put("choice_recall_by_nprobe", auto.choiceRecallByNprobe());
      chose.put("choice_lower_bound_by_nprobe", auto.choiceLowerBoundByNprobe());
      chose.put("check_recall_by_nprobe", auto.checkRecallByNprobe());
      out.put("nprobe_auto", chose);
    }
    out.put("phase_ms", phaseMs);
    return out;
  }
}
