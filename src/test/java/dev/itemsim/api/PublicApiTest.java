package dev.itemsim.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The public API from a user's own Spark session, with no itemsim configuration file: this class and
 * {@link ReadmeExample} use only {@code dev.itemsim.api} (the session comes from the shared test fixture, a
 * plain {@code local[2]} session).
 */
class PublicApiTest {
  @TempDir
  Path dir;
  private final SparkSession spark = SparkTestSupport.spark();

  private Path smallCatalog(int n) {
    Path out = dir.resolve("catalog-" + n);
    spark.read().parquet("sample-data/catalog").orderBy("id").limit(n).write().parquet(out.toString());
    return out;
  }

  @Test
  void theReadmeExampleRunsAndIsWhatTheReadmeShows() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    String source = Files.readString(Path.of("src/test/java/dev/itemsim/api/ReadmeExample.java"));
    String example = source.substring(source.indexOf("// README:start") + "// README:start".length(),
        source.indexOf("    // README:end")).stripTrailing();
    assertThat(normalise(readme)).contains(normalise(example));

    ReadmeExample.Result r = ReadmeExample.run(spark, smallCatalog(120).toString(), dir.resolve("model").toString());
    assertThat(r.embedded().schema().apply("embedding").dataType().simpleString()).isEqualTo("array<float>");
    for (Dataset<Row> lists : List.of(r.similar(), r.blended())) {
      assertThat(lists.columns()).containsExactly("item_id", "rank", "neighbor_id", "score");
      assertThat(lists.count()).isEqualTo(120 * 10);
      assertThat(lists.filter("item_id = neighbor_id").count()).isZero();
    }
    // the saved pipeline reloads and gives the same vectors
    Dataset<Row> products = r.embedded().select("id", "text");
    Map<String, List<Float>> before = vectors(r.embedded(), "id", "embedding");
    Map<String, List<Float>> after = vectors(PipelineModel.load(dir.resolve("model").toString()).transform(products),
        "id", "embedding");
    assertThat(after).isEqualTo(before);
  }

  @Test
  void nearestNeighborsMatchesBruteForceCosineAndSearchesASecondDataset() {
    Dataset<Row> items = spark.sql("select id, array(cast(sin(id) as float), cast(cos(id * 3) as float), "
        + "cast(id % 7 + 0.5 as float)) as v from range(0, 300)");
    Dataset<Row> top = new NearestNeighbors().setIdCol("id").setVectorCol("v").setTopN(3).setBlockSize(64)
        .search(items);
    List<Row> vectors = items.collectAsList();
    Map<String, double[]> unit = new HashMap<>();
    for (Row r : vectors) {
      List<Float> v = r.getList(1);
      double norm = Math.sqrt(v.stream().mapToDouble(x -> x * x).sum());
      unit.put(String.valueOf(r.getLong(0)), v.stream().mapToDouble(x -> x / norm).toArray());
    }
    for (Row r : top.filter("rank = 1").collectAsList()) {
      double[] q = unit.get(r.getString(0));
      String best = unit.entrySet().stream().filter(e -> !e.getKey().equals(r.getString(0)))
          .max((a, b) -> Double.compare(dot(q, a.getValue()), dot(q, b.getValue()))).orElseThrow().getKey();
      assertThat(dot(q, unit.get(r.getString(2)))).isCloseTo(dot(q, unit.get(best)),
          org.assertj.core.data.Offset.offset(1e-6));
      assertThat((double) r.getFloat(3)).isCloseTo(dot(q, unit.get(best)), org.assertj.core.data.Offset.offset(1e-5));
    }
    Dataset<Row> corpus = items.filter("id % 2 = 0");
    Dataset<Row> cross = new NearestNeighbors().setIdCol("id").setVectorCol("v").setTopN(2).search(items, corpus);
    assertThat(cross.count()).isEqualTo(300 * 2);
    assertThat(cross.selectExpr("cast(neighbor_id as long) % 2 as odd").filter("odd = 1").count()).isZero();
  }

  @Test
  void badInputNamesTheColumnOrTheRow() {
    Dataset<Row> items = spark.sql("select id, array(cast(id as float), 0f) as v from range(0, 5)");
    assertThatThrownBy(() -> new NearestNeighbors().setIdCol("id").setVectorCol("nope").search(items))
        .hasMessageContaining("no column 'nope'");
    assertThatThrownBy(() -> new NearestNeighbors().setIdCol("id").setVectorCol("v").search(items).count())
        .hasStackTraceContaining("Item '0': its vector is all zeros");
    assertThatThrownBy(() -> new TextEmbedder().setInputCol("id").transform(items))
        .hasMessageContaining("inputCol 'id' has type bigint");
    assertThatThrownBy(() -> new TextEmbedder().setEngine("tensorflow"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void repeatedIdsNullTextsAndVectorsOfAnotherLengthAreRefusedNamingTheItem() {
    Dataset<Row> items = spark.sql("select cast(id as string) as id, array(cast(id + 1 as float), 1f) as v, "
        + "concat('item ', id) as text from range(0, 6)");
    Dataset<Row> twice = items.union(items.filter("id = '3'"));
    NearestNeighbors nn = new NearestNeighbors().setIdCol("id").setVectorCol("v").setTopN(2);
    assertThatThrownBy(() -> nn.search(items, twice)).hasMessageContaining("Item id '3' appears twice");
    assertThatThrownBy(() -> nn.search(twice, items)).hasMessageContaining("Item id '3' appears twice");
    assertThatThrownBy(() -> nn.search(twice)).hasMessageContaining("Item id '3' appears twice");

    Dataset<Row> longer = items.selectExpr("id", "if(id = '4', array(1f, 2f, 3f), v) as v", "text");
    assertThatThrownBy(() -> nn.search(longer).count()).hasStackTraceContaining("item '4' has 3 values");
    assertThatThrownBy(() -> nn.search(items, longer).count()).hasStackTraceContaining("item '4' has 3 values");
    Dataset<Row> wide = items.selectExpr("id", "array(1f, 2f, 3f) as v", "text");
    assertThatThrownBy(() -> nn.search(items, wide)).hasMessageContaining("both sides of a search");

    Dataset<Row> untitled = items.selectExpr("id", "v", "if(id in ('2', '5'), null, text) as text");
    assertThatThrownBy(() -> new HybridSearch().setIdCol("id").setVectorCol("v").setTextCol("text").search(untitled))
        .hasMessageContaining("2 rows with a null 'text', the first by id '2'");
  }

  private static Map<String, List<Float>> vectors(Dataset<Row> rows, String id, String vector) {
    Map<String, List<Float>> out = new HashMap<>();
    for (Row r : rows.select(id, vector).collectAsList()) {
      out.put(String.valueOf(r.get(0)), r.getList(1));
    }
    return out;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int k = 0; k < a.length; k++) {
      s += a[k] * b[k];
    }
    return s;
  }

  private static String normalise(String code) {
    return code.replaceAll("\\s+", " ").trim();
  }
}
