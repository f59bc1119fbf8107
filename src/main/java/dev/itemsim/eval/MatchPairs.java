package dev.itemsim.eval;

import static org.apache.spark.sql.functions.col;

import dev.itemsim.InvalidInputException;
import dev.itemsim.catalog.CatalogReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;

/** True-match pairs {@code (id_a, id_b)}, read from CSV (with a header) or Parquet. */
public record MatchPairs(List<String[]> pairs) {

  public static MatchPairs read(SparkSession spark, String path) {
    String format = path.toLowerCase(java.util.Locale.ROOT).endsWith(".csv") ? "csv" : "parquet";
    Dataset<Row> raw = CatalogReader.read(spark, path, format);
    List<String> columns = new ArrayList<>(Arrays.asList(raw.columns()));
    columns.remove(CatalogReader.CORRUPT_COLUMN);
    columns.remove(CatalogReader.SOURCE_FILE_COLUMN);
    if (!columns.contains("id_a") || !columns.contains("id_b")) {
      throw new InvalidInputException("Match file " + path + " needs columns id_a and id_b; columns found: "
          + String.join(", ", columns));
    }
    List<String[]> pairs = new ArrayList<>();
    int line = 0;
    for (Row r : raw.select(col("id_a").cast(DataTypes.StringType), col("id_b").cast(DataTypes.StringType))
        .collectAsList()) {
      line++;
      if (r.isNullAt(0) || r.isNullAt(1) || r.getString(0).isBlank() || r.getString(1).isBlank()) {
        throw new InvalidInputException("Match file " + path + ", row " + line + ": id_a and id_b must both be set");
      }
      pairs.add(new String[] {r.getString(0), r.getString(1)});
    }
    if (pairs.isEmpty()) {
      throw new InvalidInputException("Match file " + path + " has no pairs");
    }
    return new MatchPairs(pairs);
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
