package dev.itemsim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * One local[2] Spark session for the whole test JVM, UI off, serializing with Kryo as many production clusters do
 * (with itemsim's registrator, which the jobs install themselves; the integration suite's launched and submitted
 * jobs keep Spark's default serializer, except one of each that sets Kryo); and sample titles from sample-data/.
 */
public final class SparkTestSupport {
  private static SparkSession spark;

  private SparkTestSupport() {}

  public static synchronized SparkSession spark() {
    if (spark == null) {
      spark = SparkSession.builder()
          .master("local[2]")
          .appName("itemsim-tests")
          .config("spark.ui.enabled", "false")
          .config("spark.ui.showConsoleProgress", "false")
          .config("spark.sql.shuffle.partitions", "4")
          .config("spark.driver.host", "127.0.0.1")
          .config("spark.plugins", dev.itemsim.similarity.NativeBlasPlugin.class.getName())
          .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
          .config("spark.kryo.registrator", ItemsimKryoRegistrator.class.getName())
          .getOrCreate();
    }
    return spark;
  }

  /** The first {@code n} product titles of the Abt-Buy tables (A then B), as shipped in sample-data. */
  public static List<String> sampleTitles(int n) {
    try {
      List<String> titles = new java.util.ArrayList<>();
      for (String file : List.of("sample-data/abt-buy/products_a.csv", "sample-data/abt-buy/products_b.csv")) {
        try (var reader = Files.newBufferedReader(Path.of(file))) {
          reader.lines().skip(1).map(SparkTestSupport::secondCsvField).filter(t -> !t.isBlank())
              .limit(n - titles.size()).forEach(titles::add);
        }
      }
      return titles;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Up to {@code n} titles of the Chinese sample catalogue. */
  public static List<String> chineseTitles(int n) {
    try (var reader = Files.newBufferedReader(Path.of("sample-data/zh-products/products.csv"))) {
      return reader.lines().skip(1).map(SparkTestSupport::secondCsvField).limit(n).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String secondCsvField(String line) {
    int comma = line.indexOf(',');
    String rest = line.substring(comma + 1);
    if (rest.startsWith("\"")) {
      int end = rest.indexOf("\",", 1);
      return rest.substring(1, end < 0 ? rest.length() : end).replace("\"\"", "\"");
    }
    int next = rest.indexOf(',');
    return next < 0 ? rest : rest.substring(0, next);
  }
}
