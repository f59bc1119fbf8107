package dev.itemsim.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Ranking quality of neighbour lists against true partners.
 *
 * <ul>
 *   <li>{@code recall@K}: of all true pairs (q, p), the fraction whose partner p is among q's first K
 *       neighbours. A query with two partners contributes two pairs.
 *   <li>{@code mrr}: mean over queries that have at least one partner of 1 / rank of the first true partner
 *       in the list (0 when none is listed).
 *   <li>{@code ndcg@10}: mean over the same queries of DCG@10 / ideal DCG@10 with binary gains
 *       (DCG = Σ 1/log2(rank + 1) over listed true partners within rank 10).
 * </ul>
 * Queries without any list (e.g. rejected rows) count as misses; lists of queries without partners are
 * ignored.
 */
public final class RankingMetrics {
  public static final int[] DEFAULT_KS = {1, 5, 10, 20, 50};

  private RankingMetrics() {}

  /** Metric values, by name in a stable order ({@code recall@1 ... mrr, ndcg@10}), plus counts. */
  public record Result(Map<String, Double> values, long queries, long pairs) {
    public double get(String name) {
      return values.get(name);
    }
  }

  public static Result compute(Map<String, List<String>> ranked, Map<String, Set<String>> truth, int[] ks) {
    long[] hits = new long[ks.length];
    long pairs = 0;
    long queries = 0;
    double reciprocalRanks = 0;
    double ndcg = 0;
    for (Map.Entry<String, Set<String>> e : truth.entrySet()) {
      Set<String> partners = e.getValue();
      if (partners.isEmpty()) {
        continue;
      }
      queries++;
      pairs += partners.size();
      List<String> list = ranked.getOrDefault(e.getKey(), List.of());
      boolean firstFound = false;
      double dcg = 0;
      for (int rank = 1; rank <= list.size(); rank++) {
        if (!partners.contains(list.get(rank - 1))) {
          continue;
        }
        if (!firstFound) {
          reciprocalRanks += 1.0 / rank;
          firstFound = true;
        }
        if (rank <= 10) {
          dcg += 1 / log2(rank + 1);
        }
        for (int k = 0; k < ks.length; k++) {
          if (rank <= ks[k]) {
            hits[k]++;
          }
        }
      }
      double ideal = 0;
      for (int i = 1; i <= Math.min(10, partners.size()); i++) {
        ideal += 1 / log2(i + 1);
      }
      ndcg += dcg / ideal;
    }
    Map<String, Double> values = new LinkedHashMap<>();
    for (int k = 0; k < ks.length; k++) {
      values.put("recall@" + ks[k], pairs == 0 ? 0 : (double) hits[k] / pairs);
    }
    values.put("mrr", queries == 0 ? 0 : reciprocalRanks / queries);
    values.put("ndcg@10", queries == 0 ? 0 : ndcg / queries);
    return new Result(values, queries, pairs);
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
