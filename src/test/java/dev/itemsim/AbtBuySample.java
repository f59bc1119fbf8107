package dev.itemsim;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Row;

/** A small labelled slice of the shipped Abt-Buy benchmark, for the jobs that read match pairs. */
public final class AbtBuySample {
  private AbtBuySample() {}

  /**
   * The first {@code pairs} Abt-Buy match pairs and the products they name, written into {@code dir} as the
   * benchmark ships them: {@code a.csv}, {@code b.csv} ({@code id,title,brand,category}) and {@code pairsFile}
   * ({@code id_a,id_b}); returned in that order.
   */
  public static Path[] firstPairs(Path dir, int pairs, String pairsFile) throws Exception {
    List<String> matches = Files.readAllLines(Path.of("sample-data/abt-buy/matches.csv")).subList(1, pairs + 1);
    Set<String> aIds = new HashSet<>();
    Set<String> bIds = new HashSet<>();
    matches.forEach(m -> {
      aIds.add(m.split(",")[0]);
      bIds.add(m.split(",")[1]);
    });
    Path a = products("sample-data/abt-buy/products_a.csv", aIds, dir.resolve("a.csv"));
    Path b = products("sample-data/abt-buy/products_b.csv", bIds, dir.resolve("b.csv"));
    Path m = dir.resolve(pairsFile);
    List<String> lines = new ArrayList<>(List.of("id_a,id_b"));
    lines.addAll(matches);
    Files.write(m, lines);
    return new Path[] {a, b, m};
  }

  private static Path products(String csv, Set<String> ids, Path out) throws Exception {
    List<Row> rows = dev.itemsim.catalog.CatalogReader.read(SparkTestSupport.spark(), csv, "csv")
        .select("id", "title", "brand").collectAsList();
    List<String> lines = new ArrayList<>(List.of("id,title,brand,category"));
    for (Row r : rows) {
      if (ids.contains(r.getString(0))) {
        lines.add(r.getString(0) + "," + quote(r.getString(1)) + "," + quote(r.getString(2)) + ",");
      }
    }
    Files.write(out, lines);
    return out;
  }

  private static String quote(String s) {
    return s == null ? "" : "\"" + s.replace("\"", "\"\"") + "\"";
  }
}
