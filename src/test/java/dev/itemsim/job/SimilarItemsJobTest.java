package dev.itemsim.job;

import static dev.itemsim.job.JobTestSupport.catalog;
import static dev.itemsim.job.JobTestSupport.product;
import static dev.itemsim.job.JobTestSupport.run;
import static dev.itemsim.job.JobTestSupport.spec;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.itemsim.similarity.ScoreChunks;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SimilarItemsJobTest {
  private static final java.time.LocalDate DATE = java.time.LocalDate.of(2026, 3, 1);
  private static final String PARTITION = OutputLayout.similarItems(DATE);
  private static final String REJECTED = OutputLayout.rejected(DATE);
  @TempDir
  static Path dir;
  static Path catalog;
  private final SparkSession spark = SparkTestSupport.spark();

  @BeforeAll
  static void writeCatalog() {
    catalog = catalog(dir, "catalog", 60, List.of(
        product(null, "Item without id", "Sony"),
        product("", "Item with blank id", "Sony"),
        product("dup-1", "Sony Turntable PSLX350H", "Sony"),
        product("dup-1", "Bose Acoustimass 5 speakers", "Bose"),
        product("no-text", "   ", null)));
  }

  @Test
  void writesTablesThatMeetTheContract() throws Exception {
    Path out = dir.resolve("contract");
    JobTestSupport.Result result = run(spec(dir, catalog, out));
    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out()).contains("succeeded").contains(PARTITION);

    List<Row> rows = spark.read().parquet(out.resolve(PARTITION).toString()).collectAsList();
    assertThat(spark.read().parquet(out.resolve(PARTITION).toString()).schema().simpleString())
        .isEqualTo("struct<item_id:string,rank:int,neighbor_id:string,score:float,model:string>");
    Map<String, List<Row>> byItem = new HashMap<>();
    rows.forEach(r -> byItem.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(r));
    assertThat(byItem).hasSize(60);
    for (List<Row> list : byItem.values()) {
      list.sort((a, b) -> Integer.compare(a.getInt(1), b.getInt(1)));
      assertThat(list).hasSize(5);
      for (int k = 0; k < list.size(); k++) {
        Row r = list.get(k);
        assertThat(r.getInt(1)).isEqualTo(k + 1);
        assertThat(r.getString(2)).isNotEqualTo(r.getString(0));
        assertThat(byItem).containsKey(r.getString(2));
        assertThat(r.getString(4)).isEqualTo("builtin:all-minilm-l6-v2");
        if (k > 0) {
          Row prev = list.get(k - 1);
          assertThat(r.getFloat(3)).isLessThanOrEqualTo(prev.getFloat(3));
          if (r.getFloat(3) == prev.getFloat(3)) {
            assertThat(r.getString(2)).isGreaterThan(prev.getString(2));
          }
        }
      }
    }

    Row embeddingSchema = null;
    List<Row> embeddings = spark.read().parquet(out.resolve(OutputLayout.EMBEDDINGS).toString()).collectAsList();
    assertThat(spark.read().parquet(out.resolve(OutputLayout.EMBEDDINGS).toString()).schema().simpleString())
        .startsWith("struct<item_id:string,model:string,text_hash:string,embedding:array<float>");
    assertThat(embeddings).hasSize(60);
    assertThat(embeddings.get(0).getList(3)).hasSize(384);

    Map<String, Long> reasons = new HashMap<>();
    spark.read().parquet(out.resolve(REJECTED).toString()).collectAsList()
        .forEach(r -> reasons.merge(r.getString(0), 1L, Long::sum));
    assertThat(reasons).containsOnly(Map.entry("null_id", 1L), Map.entry("blank_id", 1L),
        Map.entry("duplicate_id", 2L), Map.entry("blank_text", 1L));

    JsonNode summary = onlySummary(out);
    JsonNode counts = summary.get("counts");
    assertThat(summary.get("status").asText()).isEqualTo("succeeded");
    assertThat(counts.get("items_read").asLong()).isEqualTo(65);
    assertThat(counts.get("items_encoded").asLong() + counts.get("items_rejected").asLong()).isEqualTo(65);
    assertThat(counts.get("pairs_written").asLong()).isEqualTo(rows.size());
    assertThat(counts.get("rejected_by_reason").get("duplicate_id").asLong()).isEqualTo(2);
    assertThat(summary.get("stage_ms").has("encode")).isTrue();
    // linux-x86_64 (tests, CI) always has the bundled OpenBLAS: the top-N ran natively, not on Java BLAS
    assertThat(summary.get("kernel").asText()).startsWith("native-blas(bundled-openblas ");
    assertThat(summary.get("scan").asText()).isEqualTo(ScoreChunks.best().name());
    assertThat(summary.get("config_digest").asText()).hasSize(24);
    // where encoding ran: local mode is one JVM, which loads a model at most once
    assertThat(counts.get("encode_jvms").asInt()).isEqualTo(1);
    assertThat(counts.get("encoder_loads").asInt()).isBetween(0, 1);
    assertThat(counts.get("encode_tasks").asInt()).isPositive();
    assertThat(summary.get("encoder_devices").get("cpu").asInt()).isEqualTo(counts.get("encode_tasks").asInt());
    assertThat(summary.get("spark").get("task_failures").asInt()).isZero();
    assertThat(summary.has("encoder_fallback")).isFalse();
  }

  @Test
  void secondRunIsIdenticalAndReplacesThePartitionWhole() throws Exception {
    Path out = dir.resolve("rerun");
    Path spec = spec(dir, catalog, out);
    assertThat(run(spec).exitCode()).isZero();
    List<String> first = sortedRows(out.resolve(PARTITION));
    Set<String> firstFiles = files(out.resolve(PARTITION));
    assertThat(run(spec).exitCode()).isZero();
    assertThat(sortedRows(out.resolve(PARTITION))).isEqualTo(first);
    Set<String> secondFiles = files(out.resolve(PARTITION));
    assertThat(secondFiles).hasSameSizeAs(firstFiles).doesNotContainAnyElementsOf(firstFiles);
    assertThat(out.resolve(OutputLayout.STAGING)).satisfiesAnyOf(p -> assertThat(p).doesNotExist(),
        p -> assertThat(p).isEmptyDirectory());

    // a smaller catalogue for the same date replaces the partition, nothing of the old one remains
    Path smaller = catalog(dir, "smaller", 20, List.of());
    assertThat(run(spec(dir, smaller, out)).exitCode()).isZero();
    assertThat(spark.read().parquet(out.resolve(PARTITION).toString()).select("item_id").distinct().count())
        .isEqualTo(20);
  }

  @Test
  void failedRunLeavesThePreviousPartitionIntact() throws Exception {
    Path out = dir.resolve("failed");
    assertThat(run(spec(dir, catalog, out)).exitCode()).isZero();
    List<String> before = sortedRows(out.resolve(PARTITION));
    Set<String> beforeFiles = files(out.resolve(PARTITION));

    // every row of this catalogue is rejected (no text): the run must stop with exit code 3
    Path blank = catalog(dir, "blank", 0, List.of(product("a", " ", null), product("b", null, null)));
    JobTestSupport.Result failed = run(spec(dir, blank, out));
    assertThat(failed.exitCode()).isEqualTo(3);
    assertThat(failed.err()).contains("2 of 2 rows rejected").contains("blank_text=2");
    // no table of the stopped run is published: the previous run's set stays whole
    assertThat(sortedRows(out.resolve(PARTITION))).isEqualTo(before);
    assertThat(files(out.resolve(PARTITION))).isEqualTo(beforeFiles);
    assertThat(spark.read().parquet(out.resolve(REJECTED).toString()).count()).isEqualTo(5);
    List<JsonNode> summaries;
    try (Stream<Path> runs = Files.list(out.resolve(OutputLayout.RUNS))) {
      summaries = runs.filter(p -> p.getFileName().toString().endsWith(".json")).map(SimilarItemsJobTest::readJson)
          .toList();
    }
    assertThat(summaries.stream().map(j -> j.get("status").asText())).containsExactlyInAnyOrder("succeeded", "failed");
    JsonNode stopped = summaries.stream().filter(j -> j.get("status").asText().equals("failed")).findFirst().orElseThrow();
    assertThat(stopped.get("error").asText()).contains("2 of 2 rows rejected");
    // its rejected rows are kept beside its summary, and the message says where
    String kept = stopped.get("rejected_path").asText();
    assertThat(failed.err()).contains(kept);
    assertThat(spark.read().parquet(kept).count()).isEqualTo(2);
  }

  @Test
  void catalogueSmallerThanTopNListsEveryOtherItem() throws Exception {
    Path tiny = catalog(dir, "tiny", 3, List.of());
    Path out = dir.resolve("tiny-out");
    assertThat(run(spec(dir, tiny, out), "similarity.topN=10").exitCode()).isZero();
    List<Row> rows = spark.read().parquet(out.resolve(PARTITION).toString()).collectAsList();
    assertThat(rows).hasSize(3 * 2);
  }

  @Test
  void minScoreDropsWeakNeighbours() throws Exception {
    Path out = dir.resolve("min-score");
    assertThat(run(spec(dir, catalog, out), "similarity.minScore=0.6").exitCode()).isZero();
    List<Row> rows = spark.read().parquet(out.resolve(PARTITION).toString()).collectAsList();
    assertThat(rows).isNotEmpty().allSatisfy(r -> assertThat(r.getFloat(3)).isGreaterThanOrEqualTo(0.6f));
    assertThat(rows.size()).isLessThan(60 * 5);
  }

  @Test
  void filtersHoldOnBothRankingPaths() throws Exception {
    SparkSession spark = this.spark;
    Path withGroups = dir.resolve("groups");
    spark.read().parquet(catalog.toString())
        .withColumn("category", org.apache.spark.sql.functions.expr("cast(abs(hash(id)) % 3 as string)"))
        .withColumn("seller", org.apache.spark.sql.functions.expr(
            "case when abs(hash(title)) % 4 = 0 then null else cast(abs(hash(title)) % 5 as string) end"))
        .write().parquet(withGroups.toString());
    Map<String, Row> attributes = new HashMap<>();
    spark.read().parquet(withGroups.toString()).filter("id is not null").collectAsList()
        .forEach(r -> attributes.put(r.getAs("id"), r));
    for (String scorer : List.of("embedding", "hybrid")) {
      Path out = dir.resolve("filters-" + scorer);
      JobTestSupport.Result result = run(spec(dir, withGroups, out, "text.template = \"{title} | {brand}\""),
          "similarity.scorer=" + scorer, "similarity.sameValueOf=category",
          "similarity.excludeSameValueOf=seller");
      assertThat(result.exitCode()).as(result.err()).isZero();
      List<Row> rows = spark.read().parquet(out.resolve(PARTITION).toString()).collectAsList();
      assertThat(rows).isNotEmpty();
      for (Row r : rows) {
        Row item = attributes.get(r.getString(0));
        Row neighbor = attributes.get(r.getString(2));
        assertThat((String) neighbor.getAs("category")).isEqualTo(item.getAs("category"));
        if (item.getAs("seller") != null) {
          assertThat((String) neighbor.getAs("seller")).isNotEqualTo(item.getAs("seller"));
        }
      }
    }
  }

  @Test
  void collapsesDuplicateTexts() throws Exception {
    Path dupes = catalog(dir, "dupes", 30, List.of(
        product("copy-a", "Sony Turntable - PSLX350H", null),
        product("copy-b", "Sony Turntable - PSLX350H", null),
        product("copy-c", "Sony Turntable - PSLX350H", null)));
    Path out = dir.resolve("collapse");
    assertThat(run(spec(dir, dupes, out), "similarity.collapseDuplicateTexts=true").exitCode()).isZero();
    List<Row> rows = spark.read().parquet(out.resolve(PARTITION).toString()).collectAsList();
    Set<String> copies = Set.of("copy-a", "copy-b", "copy-c");
    for (Row r : rows) {
      // a copy never lists another copy, and other items list the group once, by its lowest id
      if (copies.contains(r.getString(0))) {
        assertThat(copies).doesNotContain(r.getString(2));
      }
      assertThat(r.getString(2)).isNotIn("copy-b", "copy-c");
    }
    assertThat(rows.stream().map(r -> r.getString(0)).distinct().count()).isEqualTo(33);
  }

  @Test
  void searchesASecondCatalogue() throws Exception {
    Path a = catalog(dir, "side-a", 15, List.of());
    Path b = dir.resolve("side-b");
    spark.read().parquet("sample-data/catalog").filter("source = 'google'").orderBy("id").limit(25)
        .write().parquet(b.toString());
    Set<String> bIds = new HashSet<>(spark.read().parquet(b.toString()).select("id").as(
        org.apache.spark.sql.Encoders.STRING()).collectAsList());
    Path out = dir.resolve("cross");
    JobTestSupport.Result result = run(spec(dir, a, out), "search.against=" + b);
    assertThat(result.exitCode()).as(result.err()).isZero();
    List<Row> rows = spark.read().parquet(out.resolve(PARTITION).toString()).collectAsList();
    assertThat(rows).hasSize(15 * 5);
    assertThat(rows).allSatisfy(r -> assertThat(bIds).contains(r.getString(2)));
    assertThat(spark.read().parquet(out.resolve(OutputLayout.EMBEDDINGS_AGAINST).toString()).count()).isEqualTo(25);
  }

  private List<String> sortedRows(Path partition) {
    return spark.read().parquet(partition.toString()).orderBy("item_id", "rank").collectAsList().stream()
        .map(Row::toString).toList();
  }

  private static Set<String> files(Path partition) throws Exception {
    try (Stream<Path> s = Files.list(partition)) {
      return new HashSet<>(s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".parquet")).toList());
    }
  }

  private static JsonNode onlySummary(Path out) throws Exception {
    try (Stream<Path> runs = Files.list(out.resolve(OutputLayout.RUNS))) {
      List<Path> files = runs.toList();
      assertThat(files).hasSize(1);
      assertThat(files.get(0).getFileName().toString()).startsWith("2026-03-01_").endsWith(".json");
      return readJson(files.get(0));
    }
  }

  private static JsonNode readJson(Path p) {
    try {
      return new ObjectMapper().readTree(p.toFile());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
