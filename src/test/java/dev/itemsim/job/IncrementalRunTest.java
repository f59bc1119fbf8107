package dev.itemsim.job;

import dev.itemsim.TestFiles;
import static dev.itemsim.job.JobTestSupport.catalog;
import static dev.itemsim.job.JobTestSupport.product;
import static dev.itemsim.job.JobTestSupport.run;
import static dev.itemsim.job.JobTestSupport.spec;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nightly runs on one output path with the real model: vectors of unchanged texts are reused, the lists are
 * updated, and the tables equal those of a full run ({@code run.full = true}) on the same catalogue; what
 * cannot start from the previous run starts from scratch and says why.
 */
@Tag("integration")
class IncrementalRunTest {
  private static final LocalDate DATE = LocalDate.of(2026, 3, 1);
  private static final String EMBEDDING = "similarity.scorer = embedding";
  @TempDir
  static Path dir;
  static Path base;
  static Path baseOutput;
  private final SparkSession spark = SparkTestSupport.spark();

  @BeforeAll
  static void firstNight() throws Exception {
    base = catalog(dir, "night-0", 40, List.of(product("copy-1", "Sony Turntable - PSLX350H", "Sony"),
        product("copy-2", "Sony Turntable - PSLX350H", "Sony")));
    baseOutput = dir.resolve("base-output");
    JobTestSupport.Result first = run(spec(dir, base, baseOutput, EMBEDDING));
    assertThat(first.exitCode()).as(first.err()).isZero();
  }

  @Test
  void aRerunReusesEveryVectorAndKeepsEveryList() throws Exception {
    Path out = copyOf(baseOutput, "rerun");
    JobTestSupport.Result again = run(spec(dir, base, out, EMBEDDING));
    assertThat(again.exitCode()).as(again.err()).isZero();
    JsonNode summary = latestSummary(out);
    assertThat(summary.get("run_mode").asText()).isEqualTo("incremental");
    assertThat(summary.has("full_reasons")).isFalse();
    JsonNode counts = summary.get("counts");
    assertThat(counts.get("items_encoded").asLong()).isZero();
    assertThat(counts.get("items_reused").asLong()).isEqualTo(42);
    assertThat(counts.get("items_deleted").asLong()).isZero();
    assertThat(counts.get("lists_recomputed").asLong()).isZero();
    assertThat(counts.get("lists_updated").asLong()).isEqualTo(42);
    assertThat(summary.get("encoder_fingerprint").asText()).matches("v1-[0-9a-f]{32}");
    assertThat(similarRows(out)).isEqualTo(similarRows(baseOutput));
    assertThat(embeddingRows(out)).isEqualTo(embeddingRows(baseOutput));
  }

  @Test
  void changedNewAndDeletedItemsGiveTheTablesOfAFullRun() throws Exception {
    Path night1 = churned("night-1", baseOutput, 3, 2, 3);
    Path out = copyOf(baseOutput, "churn");
    JobTestSupport.Result incremental = run(spec(dir, night1, out, EMBEDDING));
    assertThat(incremental.exitCode()).as(incremental.err()).isZero();
    JsonNode counts = latestSummary(out).get("counts");
    assertThat(latestSummary(out).get("run_mode").asText()).isEqualTo("incremental");
    assertThat(counts.get("items_encoded").asLong()).isEqualTo(3 + 2);
    assertThat(counts.get("items_reused").asLong()).isEqualTo(42 - 3 - 3);
    assertThat(counts.get("items_deleted").asLong()).isEqualTo(3);
    assertThat(counts.get("lists_recomputed").asLong()).isGreaterThanOrEqualTo(5);

    Path full = dir.resolve("churn-full");
    assertThat(run(spec(dir, night1, full, EMBEDDING), "run.full=true").exitCode()).isZero();
    assertThat(latestSummary(full).get("full_reasons").toString()).contains("encode: run.full = true")
        .contains("top-n: run.full = true");
    assertSameTables(out, full);
  }

  @Test
  void filtersAndCollapsedCopiesAreUpdatedExactly() throws Exception {
    String[] settings = {EMBEDDING, "similarity.sameValueOf = source", "similarity.excludeSameValueOf = brand",
        "similarity.collapseDuplicateTexts = true", "text.template = \"{title}\""};
    Path out = dir.resolve("filters");
    assertThat(run(spec(dir, base, out, settings)).exitCode()).isZero();
    Path night1 = churned("night-1-filters", out, 3, 2, 2);
    JobTestSupport.Result incremental = run(spec(dir, night1, out, settings));
    assertThat(incremental.exitCode()).as(incremental.err()).isZero();
    assertThat(latestSummary(out).get("run_mode").asText()).isEqualTo("incremental");
    Path full = dir.resolve("filters-full");
    assertThat(run(spec(dir, night1, full, settings), "run.full=true").exitCode()).isZero();
    assertSameTables(out, full);
  }

  @Test
  void anotherModelInvalidatesEveryVectorAndList() throws Exception {
    Path out = copyOf(baseOutput, "model-change");
    JobTestSupport.Result other = run(spec(dir, base, out, EMBEDDING), "encoder.model=builtin:all-minilm-l6-v2-q");
    assertThat(other.exitCode()).as(other.err()).isZero();
    JsonNode summary = latestSummary(out);
    assertThat(summary.get("run_mode").asText()).isEqualTo("full");
    assertThat(summary.get("counts").get("items_reused").asLong()).isZero();
    assertThat(summary.get("counts").get("items_encoded").asLong()).isEqualTo(42);
    assertThat(summary.get("full_reasons").toString()).contains("encode: the encoder changed")
        .contains("top-n: no previous vector was reused");
    // the truncation length changes vectors too
    JobTestSupport.Result shorter = run(spec(dir, base, out, EMBEDDING), "encoder.model=builtin:all-minilm-l6-v2-q",
        "encoder.maxTokens=16");
    assertThat(shorter.exitCode()).isZero();
    assertThat(latestSummary(out).get("counts").get("items_reused").asLong()).isZero();
    // the batch size does not
    JobTestSupport.Result batch = run(spec(dir, base, out, EMBEDDING), "encoder.model=builtin:all-minilm-l6-v2-q",
        "encoder.maxTokens=16", "encoder.batchSize=3");
    assertThat(batch.exitCode()).isZero();
    assertThat(latestSummary(out).get("run_mode").asText()).isEqualTo("incremental");
    assertThat(latestSummary(out).get("counts").get("items_reused").asLong()).isEqualTo(42);
  }

  @Test
  void anOutputOfTheOlderLayoutGivesAFullRunThatSaysWhy() throws Exception {
    Path out = copyOf(baseOutput, "old-layout");
    // what itemsim wrote before: no state/, no encoder_fingerprint beside the vectors
    TestFiles.deleteTree(out.resolve(OutputLayout.STATE));
    Path embeddings = out.resolve(OutputLayout.EMBEDDINGS);
    Dataset<Row> old = spark.read().parquet(embeddings.toString()).drop(PreviousVectors.FINGERPRINT);
    Path rewritten = dir.resolve("old-embeddings");
    old.write().parquet(rewritten.toString());
    TestFiles.deleteTree(embeddings);
    Files.move(rewritten, embeddings);

    JobTestSupport.Result result = run(spec(dir, base, out, EMBEDDING));
    assertThat(result.exitCode()).as(result.err()).isZero();
    JsonNode summary = latestSummary(out);
    assertThat(summary.get("run_mode").asText()).isEqualTo("full");
    assertThat(summary.get("full_reasons").toString()).contains("has no column encoder_fingerprint")
        .contains("layout 2");
    assertThat(similarRows(out)).isEqualTo(similarRows(baseOutput));

    // a state of another layout version
    Path manifest = out.resolve(OutputLayout.STATE).resolve(NeighborState.MANIFEST);
    Files.writeString(manifest, Files.readString(manifest).replace("\"layout_version\" : 2", "\"layout_version\" : 1"));
    assertThat(run(spec(dir, base, out, EMBEDDING)).exitCode()).isZero();
    summary = latestSummary(out);
    assertThat(summary.get("full_reasons").toString()).contains("layout version 1");
    assertThat(summary.get("counts").get("items_reused").asLong()).isEqualTo(42);

    // and the run after it is incremental again
    assertThat(run(spec(dir, base, out, EMBEDDING)).exitCode()).isZero();
    assertThat(latestSummary(out).get("run_mode").asText()).isEqualTo("incremental");
  }

  /**
   * Previous tables emptied by hand (or by a failed copy) hold no Parquet at all: Spark cannot even infer their
   * schema, which it reports as a checked exception. The run is then full and says why, instead of failing.
   */
  @Test
  void emptiedPreviousTablesGiveAFullRunThatSaysWhy() throws Exception {
    Path out = copyOf(baseOutput, "emptied");
    TestFiles.deleteTree(out.resolve(OutputLayout.EMBEDDINGS));
    Files.createDirectories(out.resolve(OutputLayout.EMBEDDINGS));
    Path lists = out.resolve(OutputLayout.STATE).resolve(NeighborState.LISTS);
    TestFiles.deleteTree(lists);
    Files.createDirectories(lists);

    JobTestSupport.Result result = run(spec(dir, base, out, EMBEDDING));
    assertThat(result.exitCode()).as(result.err()).isZero();
    JsonNode summary = latestSummary(out);
    assertThat(summary.get("run_mode").asText()).isEqualTo("full");
    assertThat(summary.get("full_reasons").toString()).contains("previous embeddings table")
        .contains("is unreadable").contains("UNABLE_TO_INFER_SCHEMA");
    assertThat(similarRows(out)).isEqualTo(similarRows(baseOutput));

    // the state too: with the vectors back, the lists alone are the emptied table
    TestFiles.deleteTree(lists);
    Files.createDirectories(lists);
    result = run(spec(dir, base, out, EMBEDDING));
    assertThat(result.exitCode()).as(result.err()).isZero();
    summary = latestSummary(out);
    assertThat(summary.get("counts").get("items_reused").asLong()).isEqualTo(42);
    assertThat(summary.get("full_reasons").toString()).contains("the previous run's lists are unreadable");
  }

  /** A file that is not Parquet among the previous vectors' (someone's notes, a half-copied part): a full run. */
  @Test
  void aStrayFileAmongThePreviousVectorsGivesAFullRunThatSaysWhy() throws Exception {
    Path out = copyOf(baseOutput, "stray");
    Files.writeString(out.resolve(OutputLayout.EMBEDDINGS).resolve("notes.txt"), "copied from the old cluster\n");

    JobTestSupport.Result result = run(spec(dir, base, out, EMBEDDING));
    assertThat(result.exitCode()).as(result.err()).isZero();
    JsonNode summary = latestSummary(out);
    assertThat(summary.get("run_mode").asText()).isEqualTo("full");
    assertThat(summary.get("full_reasons").toString()).contains("previous embeddings table").contains("notes.txt");
    assertThat(similarRows(out)).isEqualTo(similarRows(baseOutput));
    assertThat(out.resolve(OutputLayout.EMBEDDINGS).resolve("notes.txt")).doesNotExist();  // replaced whole
  }

  @Test
  void aRunThatFailsAtAnyStageLeavesThePreviousTablesAndTheCache() throws Exception {
    FailingFileSystem.register(spark.sparkContext().hadoopConfiguration());
    Path local = copyOf(baseOutput, "failing");
    String out = FailingFileSystem.uri(local);
    Path night1 = churned("night-1-failing", baseOutput, 2, 2, 2);
    Map<String, String> before = files(local);
    List<String> stages = List.of("/rejected/", "/embeddings/", "/similar_items/", "/state/lists/",
        "/state/manifest.json", "/_commit");
    try {
      for (String stage : stages) {
        FailingFileSystem.failCreating(stage);
        JobTestSupport.Result failed = run(spec(dir, night1, Path.of(out), EMBEDDING));
        FailingFileSystem.heal();
        assertThat(FailingFileSystem.fired()).as(stage).isTrue();
        assertThat(failed.exitCode()).as(stage + ": " + failed.err()).isNotZero();
        assertThat(files(local)).as("after a failure writing " + stage).isEqualTo(before);
        assertThat(local.resolve(OutputLayout.STAGING)).satisfiesAnyOf(p -> assertThat(p).doesNotExist(),
            p -> assertThat(p).isEmptyDirectory());
      }
      // a failure while the tables are swapped in: rolled back in the same run
      FailingFileSystem.failRenamingTo("/" + OutputLayout.STATE, false);
      assertThat(run(spec(dir, night1, Path.of(out), EMBEDDING)).exitCode()).isNotZero();
      FailingFileSystem.heal();
      assertThat(files(local)).as("after a failed swap").isEqualTo(before);
    } finally {
      FailingFileSystem.heal();
    }
    JobTestSupport.Result healthy = run(spec(dir, night1, local, EMBEDDING));
    assertThat(healthy.exitCode()).as(healthy.err()).isZero();
    assertThat(latestSummary(local).get("run_mode").asText()).isEqualTo("incremental");
    Path full = dir.resolve("failing-full");
    assertThat(run(spec(dir, night1, full, EMBEDDING), "run.full=true").exitCode()).isZero();
    assertSameTables(local, full);
  }

  @Test
  void aRunKilledAfterItsCommitWasDecidedIsCompletedAndTheNextStartsFromIt() throws Exception {
    FailingFileSystem.register(spark.sparkContext().hadoopConfiguration());
    Path local = copyOf(baseOutput, "killed");
    Path night1 = churned("night-1-killed", baseOutput, 2, 2, 2);
    // the first table swap dies: the commit manifest is written, the staged tables stay for the next run
    FailingFileSystem.failRenamingTo("/" + OutputLayout.EMBEDDINGS, true);
    try {
      SimilarItemsConfig config = SimilarItemsConfig.from(dev.itemsim.config.ConfigLoader.load(
          spec(dir, night1, Path.of(FailingFileSystem.uri(local)), EMBEDDING), "local", List.of()));
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> new SimilarItemsJob(spark, config).execute())
          .hasMessageContaining("simulated kill");
    } finally {
      FailingFileSystem.heal();
    }
    assertThat(local.resolve(OutputLayout.STAGING)).isNotEmptyDirectory();
    // the next run completes that publication (its state included) and updates from it
    Path night2 = churned("night-2-killed", baseOutput, 1, 1, 1);
    JobTestSupport.Result next = run(spec(dir, night2, local, EMBEDDING));
    assertThat(next.exitCode()).as(next.err()).isZero();
    assertThat(latestSummary(local).get("run_mode").asText()).isEqualTo("incremental");
    Path full = dir.resolve("killed-full");
    assertThat(run(spec(dir, night2, full, EMBEDDING), "run.full=true").exitCode()).isZero();
    assertSameTables(local, full);
  }

  @Test
  void tablesLeftInStagingByAKilledRunAreNeverRead() throws Exception {
    Path out = copyOf(baseOutput, "poisoned");
    // a run killed before its commit: staged embeddings with other vectors, staged lists, no manifest
    Path staged = out.resolve(OutputLayout.STAGING).resolve("2026-03-01_killed");
    spark.read().parquet(out.resolve(OutputLayout.EMBEDDINGS).toString())
        .withColumn("embedding", org.apache.spark.sql.functions.expr("transform(embedding, x -> -x)"))
        .write().parquet(staged.resolve(OutputLayout.EMBEDDINGS).toString());
    TestFiles.copyTree(out.resolve(OutputLayout.STATE), staged.resolve(OutputLayout.STATE));
    JobTestSupport.Result result = run(spec(dir, base, out, EMBEDDING));
    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(latestSummary(out).get("run_mode").asText()).isEqualTo("incremental");
    assertThat(staged).doesNotExist();
    assertThat(similarRows(out)).isEqualTo(similarRows(baseOutput));
    assertThat(embeddingRows(out)).isEqualTo(embeddingRows(baseOutput));
  }

  @Test
  void hybridListsFollowTheFrozenWeightsUntilTheCatalogueDrifts() throws Exception {
    Path out = dir.resolve("hybrid");
    assertThat(run(spec(dir, base, out)).exitCode()).isZero();
    JsonNode first = latestSummary(out);
    assertThat(first.get("full_reasons").toString()).contains("no previous embeddings table");
    // unchanged catalogue: the frozen weights are the fitted ones, every list is kept
    JobTestSupport.Result rerun = run(spec(dir, base, out));
    assertThat(rerun.exitCode()).as(rerun.err()).isZero();
    assertThat(latestSummary(out).get("run_mode").asText()).isEqualTo("incremental");
    assertThat(latestSummary(out).get("counts").get("lists_recomputed").asLong()).isZero();

    Path night1 = churned("night-1-hybrid", out, 1, 1, 0);
    assertThat(run(spec(dir, night1, out), "run.incremental.idfDrift=0.2").exitCode()).isZero();
    JsonNode updated = latestSummary(out);
    assertThat(updated.get("run_mode").asText()).isEqualTo("incremental");
    Path full = dir.resolve("hybrid-full");
    assertThat(run(spec(dir, night1, full), "run.full=true").exitCode()).isZero();
    double agreement = agreement(similarRows(out), similarRows(full));
    assertThat(agreement).as("share of (item, rank) pairs as in a full run").isGreaterThanOrEqualTo(0.9);

    // past the drift limit the weights are counted again and every item ranked
    Path night2 = churned("night-2-hybrid", out, 1, 0, 0);
    assertThat(run(spec(dir, night2, out), "run.incremental.idfDrift=0.05").exitCode()).isZero();
    assertThat(latestSummary(out).get("full_reasons").toString()).contains("lexical weights refitted");
    Path full2 = dir.resolve("hybrid-full-2");
    assertThat(run(spec(dir, night2, full2), "run.full=true").exitCode()).isZero();
    assertSameLists(out, full2);
  }

  /** Share of {@code item rank neighbour} rows of {@code b} also in {@code a}. */
  private static double agreement(List<String> a, List<String> b) {
    java.util.Set<String> first = new java.util.HashSet<>();
    a.forEach(r -> first.add(r.substring(0, r.lastIndexOf(' '))));
    return b.stream().filter(r -> first.contains(r.substring(0, r.lastIndexOf(' ')))).count() / (double) b.size();
  }

  /**
   * The similar_items and embeddings tables of two outputs agree: the same lists (neighbours, ranks) with
   * scores within 1e-5, the same items and texts with vectors of cosine ≥ 0.99999 (a full run encodes every
   * text again, in other batches).
   */
  private void assertSameTables(Path a, Path b) {
    assertSameLists(a, b);
    Map<String, Row> va = vectors(a);
    Map<String, Row> vb = vectors(b);
    assertThat(va.keySet()).isEqualTo(vb.keySet());
    va.forEach((id, r) -> {
      Row other = vb.get(id);
      assertThat(r.getString(1)).isEqualTo(other.getString(1));
      float[] x = dev.itemsim.similarity.CollectedItems.floats(r.getList(2));
      float[] y = dev.itemsim.similarity.CollectedItems.floats(other.getList(2));
      assertThat(dev.itemsim.embed.Vectors.cosine(x, y)).as(id).isGreaterThanOrEqualTo(0.99999);
    });
  }

  /**
   * The same lists: rank by rank scores within 1e-5, and the same neighbours in the same order except inside
   * a run of scores within 1e-5 of each other (a full run encodes every text again, in other batches, which
   * moves vectors in their last bits and may reorder exact ties); the last run may be cut anywhere.
   */
  private void assertSameLists(Path a, Path b) {
    Map<String, List<String[]>> listsA = byItem(similarRows(a));
    Map<String, List<String[]>> listsB = byItem(similarRows(b));
    assertThat(listsA.keySet()).isEqualTo(listsB.keySet());
    float tolerance = 1e-5f;
    listsA.forEach((item, x) -> {
      List<String[]> y = listsB.get(item);
      assertThat(x).as(item).hasSameSizeAs(y);
      for (int k = 0; k < x.size(); k++) {
        assertThat(Float.parseFloat(x.get(k)[3])).as(item + " rank " + (k + 1))
            .isCloseTo(Float.parseFloat(y.get(k)[3]), org.assertj.core.data.Offset.offset(tolerance));
      }
      for (int from = 0; from < x.size(); ) {
        int to = from + 1;
        while (to < x.size() && Float.parseFloat(x.get(from)[3]) - Float.parseFloat(x.get(to)[3]) <= tolerance) {
          to++;
        }
        if (to < x.size()) {
          assertThat(ids(y.subList(from, to))).as(item + " ranks " + (from + 1) + ".." + to)
              .containsExactlyInAnyOrderElementsOf(ids(x.subList(from, to)));
        }
        from = to;
      }
    });
  }

  private static Map<String, List<String[]>> byItem(List<String> rows) {
    Map<String, List<String[]>> out = new HashMap<>();
    rows.forEach(r -> {
      String[] f = r.split(" ");
      out.computeIfAbsent(f[0], k -> new ArrayList<>()).add(f);
    });
    return out;
  }

  private static List<String> ids(List<String[]> rows) {
    return rows.stream().map(r -> r[2]).toList();
  }

  private Map<String, Row> vectors(Path out) {
    Map<String, Row> byId = new HashMap<>();
    spark.read().parquet(out.resolve(OutputLayout.EMBEDDINGS).toString()).select("item_id", "text_hash", "embedding")
        .collectAsList().forEach(r -> byId.put(r.getString(0), r));
    return byId;
  }

  private List<String> similarRows(Path out) {
    return spark.read().parquet(new OutputLayout(out.toString()).similarItemsPath(DATE))
        .orderBy("item_id", "rank").collectAsList().stream()
        .map(r -> r.getString(0) + " " + r.getInt(1) + " " + r.getString(2) + " " + r.getFloat(3)).toList();
  }

  private List<String> embeddingRows(Path out) {
    return spark.read().parquet(out.resolve(OutputLayout.EMBEDDINGS).toString()).orderBy("item_id")
        .collectAsList().stream().map(Row::toString).toList();
  }

  /**
   * The previous night's catalogue with {@code changed} titles changed, {@code added} new products and
   * {@code deleted} products removed — the first of them the product listed most often in {@code output}.
   */
  private Path churned(String name, Path output, int changed, int added, int deleted) {
    Dataset<Row> items = spark.read().parquet(base.toString());
    Map<String, Long> listed = new HashMap<>();
    spark.read().parquet(new OutputLayout(output.toString()).similarItemsPath(DATE)).groupBy("neighbor_id").count()
        .collectAsList().forEach(r -> listed.put(r.getString(0), r.getLong(1)));
    List<String> ids = items.select("id").orderBy("id").collectAsList().stream().map(r -> r.getString(0))
        .filter(listed::containsKey).toList();
    List<String> byListings = new ArrayList<>(ids);
    byListings.sort(Comparator.comparing((String id) -> -listed.get(id)).thenComparing(id -> id));
    List<String> drop = new ArrayList<>(byListings.subList(0, deleted));
    List<String> change = ids.stream().filter(id -> !drop.contains(id)).skip(5).limit(changed).toList();
    Dataset<Row> kept = items.filter(org.apache.spark.sql.functions.not(col("id").isin(drop.toArray())))
        .withColumn("title", when(col("id").isin(change.toArray()), concat(col("title"), lit(" (refurbished)")))
            .otherwise(col("title")));
    List<Row> fresh = new ArrayList<>();
    for (int i = 0; i < added; i++) {
      fresh.add(product("new-" + name + "-" + i, "Panasonic Lumix digital camera model " + (100 + i), "Panasonic"));
    }
    Dataset<Row> all = kept.unionByName(spark.createDataFrame(fresh, items.schema()));
    Path out = dir.resolve(name);
    all.coalesce(1).write().mode(SaveMode.Overwrite).parquet(out.toString());
    return out;
  }

  private static Path copyOf(Path output, String name) throws Exception {
    Path copy = dir.resolve(name);
    TestFiles.copyTree(output, copy);
    return copy;
  }



  /** Every file of the live tables (not _runs, _lock, _staging) with its content digest. */
  private static Map<String, String> files(Path root) throws Exception {
    Map<String, String> out = new java.util.TreeMap<>();
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.filter(Files::isRegularFile).toList()) {
        String rel = root.relativize(p).toString();
        if (!rel.startsWith("_")) {
          out.put(rel, dev.itemsim.embed.SparkEncoding.textHash(new String(Files.readAllBytes(p),
              java.nio.charset.StandardCharsets.ISO_8859_1)));
        }
      }
    }
    return out;
  }

  private static JsonNode latestSummary(Path out) throws Exception {
    try (Stream<Path> runs = Files.list(out.resolve(OutputLayout.RUNS))) {
      Path latest = runs.filter(p -> p.toString().endsWith(".json")).max(Comparator.comparing(Path::toString))
          .orElseThrow();
      return new ObjectMapper().readTree(latest.toFile());
    }
  }
}
