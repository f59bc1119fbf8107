package dev.itemsim.eval;

import dev.itemsim.InvalidInputException;
import dev.itemsim.catalog.PairRows;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/**
 * The true-match pairs {@code (id_a, id_b)} of a labelled pair file ({@link PairRows}): its rows labelled a
 * match (all rows without a {@code label} column), each pair once.
 *
 * @param pairs the distinct true pairs, in file order
 * @param rows the file's data rows
 * @param nonMatches rows labelled a non-match (0 or false), which are not true pairs
 * @param duplicates true-pair rows repeating an earlier one
 */
public record MatchPairs(List<String[]> pairs, long rows, long nonMatches, long duplicates) {
  /** The configuration key of the match file, which its errors name. */
  public static final String KEY = "eval.matches";

  /** The pairs of {@code path} as pairs of two catalogues: an id may be the same in both. */
  public static MatchPairs read(SparkSession spark, String path) {
    return read(spark, path, false);
  }

  /**
   * The pairs of {@code path}; with {@code oneCatalogue} both ids are of the same catalogue, so a pair of an
   * item with itself fails naming its row (an item is never in its own list).
   *
   * @throws InvalidInputException if a row cannot be read ({@link PairRows#read}), or no row is a true pair
   */
  public static MatchPairs read(SparkSession spark, String path, boolean oneCatalogue) {
    List<PairRows.Pair> rows = PairRows.read(spark, path, KEY, "Match file");
    Set<List<String>> seen = new LinkedHashSet<>();
    long nonMatches = 0;
    long duplicates = 0;
    for (PairRows.Pair r : rows) {
      if (!r.match()) {
        nonMatches++;
        continue;
      }
      if (oneCatalogue && r.a().equals(r.b())) {
        throw new InvalidInputException("Match file " + KEY + " = " + path + ", row " + r.row() + ": id_a and id_b "
            + "are the same item '" + r.a() + "' (with one catalogue an item is never in its own list)");
      }
      if (!seen.add(List.of(r.a(), r.b()))) {
        duplicates++;
      }
    }
    if (seen.isEmpty()) {
      throw new InvalidInputException("Match file " + KEY + " = " + path + " has no true pairs"
          + (nonMatches > 0 ? ": all " + nonMatches + " rows are labelled non-matches (label 0 or false)" : ""));
    }
    List<String[]> pairs = new ArrayList<>(seen.size());
    seen.forEach(p -> pairs.add(new String[] {p.get(0), p.get(1)}));
    return new MatchPairs(pairs, rows.size(), nonMatches, duplicates);
  }

  /** Partners of every a ({@code aToB}) or of every b. */
  public Map<String, Set<String>> partners(boolean aToB) {
    Map<String, Set<String>> out = new LinkedHashMap<>();
    for (String[] p : pairs) {
      out.computeIfAbsent(aToB ? p[0] : p[1], k -> new HashSet<>()).add(aToB ? p[1] : p[0]);
    }
    return out;
  }
}
