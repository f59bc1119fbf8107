package dev.itemsim.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The error analysis of an evaluation: one row per true pair whose partner is not ranked first, with the
 * partner's rank and score and the items ranked above it.
 */
public final class Misses {
  public static final StructType SCHEMA = new StructType()
      .add("direction", DataTypes.StringType, false)
      .add("query_id", DataTypes.StringType, false)
      .add("query_text", DataTypes.StringType, true)
      .add("expected_id", DataTypes.StringType, false)
      .add("expected_text", DataTypes.StringType, true)
      .add("expected_rank", DataTypes.IntegerType, true)
      .add("expected_score", DataTypes.FloatType, true)
      .add("ranked_above", DataTypes.createArrayType(new StructType()
          .add("neighbor_id", DataTypes.StringType, false)
          .add("score", DataTypes.FloatType, false)
          .add("text", DataTypes.StringType, true)), false);

  private Misses() {}

  /** The true pairs of {@code truth} whose partner is not listed at all: the pairs whose score must be looked up. */
  public static List<String[]> unlisted(RankedLists lists, Map<String, Set<String>> truth) {
    List<String[]> out = new ArrayList<>();
    truth.forEach((query, partners) -> partners.forEach(p -> {
      if (lists.rankOf(query, p) == 0) {
        out.add(new String[] {query, p});
      }
    }));
    return out;
  }

  /**
   * Rows ({@link #SCHEMA}) of one direction.
   *
   * @param unlistedScores scorer's score of unlisted pairs, keyed {@code query + '\u0000' + partner}
   *     (absent: an id was not encoded)
   * @param context items ranked above a miss kept per row
   */
  public static List<Row> rows(String direction, RankedLists lists, Map<String, Set<String>> truth,
      Map<String, String> queryTexts, Map<String, String> corpusTexts, Map<String, Float> unlistedScores,
      int context) {
    List<Row> out = new ArrayList<>();
    truth.forEach((query, partners) -> {
      List<RankedLists.Neighbor> list = lists.of(query);
      for (String expected : partners) {
        int rank = lists.rankOf(query, expected);
        if (rank == 1) {
          continue;
        }
        int shown = Math.min(context, rank == 0 ? list.size() : rank - 1);
        List<Row> above = new ArrayList<>(shown);
        for (int k = 0; k < shown; k++) {
          RankedLists.Neighbor n = list.get(k);
          above.add(RowFactory.create(n.id(), n.score(), corpusTexts.get(n.id())));
        }
        Float score = rank > 0 ? Float.valueOf(list.get(rank - 1).score()) : unlistedScores.get(key(query, expected));
        out.add(RowFactory.create(direction, query, queryTexts.get(query), expected, corpusTexts.get(expected),
            rank == 0 ? null : rank, score, above));
      }
    });
    return out;
  }

  public static String key(String query, String partner) {
    return query + '\u0000' + partner;
  }
}
