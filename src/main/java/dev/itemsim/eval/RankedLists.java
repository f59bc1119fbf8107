package dev.itemsim.eval;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Neighbour lists by query id, best first, as gathered from a ranking's rows. */
public record RankedLists(Map<String, List<Neighbor>> lists) {

  /** One listed neighbour. */
  public record Neighbor(String id, float score) {}

  /** Gathers {@code item_id, rank, neighbor_id, score} rows on the driver. */
  public static RankedLists collect(Dataset<Row> rows) {
    Map<String, List<Row>> byItem = new HashMap<>();
    for (Row r : rows.select("item_id", "rank", "neighbor_id", "score").collectAsList()) {
      byItem.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(r);
    }
    Map<String, List<Neighbor>> lists = new HashMap<>();
    byItem.forEach((id, list) -> {
      list.sort(Comparator.comparingInt(r -> r.getInt(1)));
      lists.put(id, list.stream().map(r -> new Neighbor(r.getString(2), r.getFloat(3))).toList());
    });
    return new RankedLists(lists);
  }

  public List<Neighbor> of(String queryId) {
    return lists.getOrDefault(queryId, List.of());
  }

  /** Neighbour ids only, for {@link RankingMetrics}. */
  public Map<String, List<String>> ids() {
    Map<String, List<String>> out = new HashMap<>();
    lists.forEach((k, v) -> out.put(k, v.stream().map(Neighbor::id).toList()));
    return out;
  }

  /** 1-based rank of {@code neighborId} in {@code queryId}'s list, 0 when not listed. */
  public int rankOf(String queryId, String neighborId) {
    List<Neighbor> list = of(queryId);
    for (int k = 0; k < list.size(); k++) {
      if (list.get(k).id().equals(neighborId)) {
        return k + 1;
      }
    }
    return 0;
  }
}
