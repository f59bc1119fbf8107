package dev.itemsim.job;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.SparkTestSupport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The match job on the shipped sample inputs, run through the command line with the shipped specs: search
 * queries find their products, user profiles recommend what a history suggests but never what was bought,
 * ads and products find each other both ways, and left rows that cannot be matched are counted and written.
 */
@Tag("integration")
class MatchJobTest {
  private static final LocalDate DATE = LocalDate.parse(SampleRuns.RUN_DATE);

  @TempDir
  Path dir;

  private final SparkSession spark = SparkTestSupport.spark();

  private static JobTestSupport.Result run(String spec, Path output, String... sets) {
    List<String> all = new ArrayList<>(List.of("output.path=" + output, "run.date=" + SampleRuns.RUN_DATE));
    all.addAll(List.of(sets));
    JobTestSupport.Result r = JobTestSupport.run(Path.of(spec), all.toArray(String[]::new));
    assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
    return r;
  }

  /** Each left id's list, in rank order. */
  private Map<String, List<String>> lists(Path output) {
    Dataset<Row> matches = spark.read().parquet(new OutputLayout(output.toString())
        .resolve(OutputLayout.matches(DATE)).toString());
    assertThat(matches.columns()).containsExactly("left_id", "rank", "item_id", "score");
    Map<String, List<String>> out = new LinkedHashMap<>();
    float previous = Float.MAX_VALUE;
    String previousId = null;
    for (Row r : matches.orderBy("left_id", "rank").collectAsList()) {
      List<String> list = out.computeIfAbsent(r.getString(0), k -> new ArrayList<>());
      if (!r.getString(0).equals(previousId)) {
        previous = Float.MAX_VALUE;
        previousId = r.getString(0);
      }
      assertThat(r.getInt(1)).as("ranks of %s", r.getString(0)).isEqualTo(list.size() + 1);
      assertThat(r.getFloat(3)).as("scores of %s", r.getString(0)).isLessThanOrEqualTo(previous);
      previous = r.getFloat(3);
      list.add(r.getString(2));
    }
    return out;
  }

  /** {@code id -> expected ids} from a two-column CSV with a header. */
  private static Map<String, Set<String>> expected(String file) throws IOException {
    Map<String, Set<String>> out = new LinkedHashMap<>();
    try (Stream<String> lines = Files.lines(Path.of(file))) {
      lines.skip(1).forEach(line -> {
        int comma = line.indexOf(',');
        out.computeIfAbsent(line.substring(0, comma), k -> new java.util.HashSet<>()).add(line.substring(comma + 1));
      });
    }
    return out;
  }

  private Map<String, String> texts(Path output) {
    Map<String, String> out = new HashMap<>();
    for (Row r : spark.read().parquet(output.resolve(OutputLayout.EMBEDDINGS).toString()).select("item_id", "text")
        .collectAsList()) {
      out.put(r.getString(0), r.getString(1).toLowerCase(Locale.ROOT));
    }
    return out;
  }

  private static JsonNode summary(Path output) throws IOException {
    try (Stream<Path> files = Files.list(output.resolve(OutputLayout.RUNS))) {
      Path file = files.filter(p -> p.getFileName().toString().startsWith("match_")
          && p.toString().endsWith(".json")).sorted().reduce((a, b) -> b).orElseThrow();
      return new ObjectMapper().readTree(file.toFile());
    }
  }

  /** Mean recall@k of the lists against the expected ids, over every left id with expectations. */
  private static double recall(Map<String, List<String>> lists, Map<String, Set<String>> expected, int k) {
    double sum = 0;
    for (Map.Entry<String, Set<String>> e : expected.entrySet()) {
      List<String> list = lists.getOrDefault(e.getKey(), List.of());
      long found = list.subList(0, Math.min(k, list.size())).stream().filter(e.getValue()::contains).count();
      sum += (double) found / e.getValue().size();
    }
    return sum / expected.size();
  }

  @Test
  void sampleQueriesFindTheirExpectedProducts() throws IOException {
    Path out = SampleRuns.folder("match").resolve("out");
    JobTestSupport.Result r = run("jobs/match.conf", out, "match.catalogEmbeddings=" + SampleRuns.similarItems());
    Map<String, List<String>> lists = lists(out);
    Map<String, Set<String>> expected = expected("sample-data/queries/expected.csv");
    assertThat(lists).hasSize(expected.size()).allSatisfy((q, list) -> assertThat(list).hasSize(10));
    double recall = recall(lists, expected, 10);
    long hits = expected.entrySet().stream().filter(e -> lists.get(e.getKey()).subList(0, 10).stream()
        .anyMatch(e.getValue()::contains)).count();
    System.out.printf(Locale.ROOT, "sample queries: mean recall@10 %.3f, hit@10 %d of %d, recall@1 %.3f%n", recall,
        hits, expected.size(), recall(lists, expected, 1));
    assertThat(recall).as("mean recall@10 of the sample queries").isGreaterThanOrEqualTo(0.85);
    assertThat(hits).as("queries with an expected product in their top 10").isGreaterThanOrEqualTo(expected.size() - 2);

    JsonNode summary = summary(out);
    assertThat(summary.path("left_kind").asText()).isEqualTo("texts");
    assertThat(summary.path("scorer").asText()).isEqualTo("hybrid");
    assertThat(summary.path("counts").path("left_items_read").asLong()).isEqualTo(expected.size());
    assertThat(summary.path("counts").path("left_items_rejected").asLong()).isZero();
    assertThat(summary.path("counts").path("pairs_written").asLong()).isEqualTo(10L * expected.size());
    assertThat(summary.path("scorer_settings").path("hybrid.embeddingWeight").asDouble()).isEqualTo(0.3);
    assertThat(spark.read().parquet(out.resolve(OutputLayout.matchLeft(DATE)).toString()).count())
        .isEqualTo(expected.size());
    assertThat(r.out()).contains("left q01").contains("match_rejected/run_date=" + SampleRuns.RUN_DATE);
  }

  @Test
  void usersGetWhatTheirHistorySuggestsButNeverWhatTheyBought() throws IOException {
    Path out = SampleRuns.folder("match-users").resolve("out");
    run("jobs/match-users.conf", out, "match.catalogEmbeddings=" + SampleRuns.similarItems());
    Map<String, List<String>> lists = lists(out);
    Map<String, String> texts = texts(out);
    assertThat(lists).containsOnlyKeys("camera-buyer", "tv-shopper", "home-cook", "video-editor");

    List<String> cameras = lists.get("camera-buyer");
    assertThat(cameras).hasSize(10).doesNotContain("33175", "33496", "35981");
    assertThat(cameras.stream().filter(id -> texts.get(id).matches(
        ".*\\b(camera|cyber-?shot|powershot|coolpix|lumix|exilim|slr|megapixels?)\\b.*")).count())
        .as("camera-buyer's list: %s", cameras.stream().map(texts::get).toList()).isGreaterThanOrEqualTo(8);
    List<String> tvs = lists.get("tv-shopper");
    assertThat(tvs).doesNotContain("36861");
    assertThat(tvs.stream().filter(id -> texts.get(id).matches(".*\\b(hdtv|tv|lcd|plasma)\\b.*")).count())
        .as("tv-shopper's list: %s", tvs.stream().map(texts::get).toList()).isGreaterThanOrEqualTo(8);
    assertThat(lists.get("video-editor")).doesNotContain("b000oftj8u");

    Dataset<Row> rejected = spark.read().parquet(out.resolve(OutputLayout.matchRejected(DATE)).toString());
    assertThat(rejected.columns()).containsExactly("reason", "left_id", "record", "source_file");
    Map<String, Long> reasons = new HashMap<>();
    for (Row r : rejected.groupBy("reason").count().collectAsList()) {
      reasons.put(r.getString(0), r.getLong(1));
    }
    assertThat(reasons).containsEntry("unknown_item", 3L).containsEntry("unknown_event", 1L)
        .containsEntry("bad_time", 1L).containsEntry("missing_user_id", 1L)
        .containsEntry("no_valid_events", 3L).containsEntry("no_recent_events", 1L);
    assertThat(rejected.filter(col("reason").equalTo("no_recent_events")).first().getString(1))
        .isEqualTo("gone-quiet");
    JsonNode counts = summary(out).path("counts");
    assertThat(counts.path("users_read").asLong()).isEqualTo(8);
    assertThat(counts.path("users_with_profile").asLong()).isEqualTo(4);
    assertThat(counts.path("left_items_read").asLong()).isEqualTo(23);
    assertThat(counts.path("left_items_rejected").asLong()).isEqualTo(6);

    // the rank-1 score is the profile's cosine: Σ weight_i · cos(item_i, item) / ‖Σ weight_i · item_i‖
    Row profile = spark.read().parquet(out.resolve(OutputLayout.matchLeft(DATE)).toString())
        .filter(col("left_id").equalTo("camera-buyer")).first();
    Map<String, float[]> vectors = new HashMap<>();
    for (Row r : spark.read().parquet(out.resolve(OutputLayout.EMBEDDINGS).toString()).select("item_id", "embedding")
        .collectAsList()) {
      vectors.put(r.getString(0), dev.itemsim.similarity.CollectedItems.floats(r.getList(1)));
    }
    float[] top = vectors.get(cameras.get(0));
    double[] sum = new double[top.length];
    double dot = 0;
    for (Row h : profile.<Row>getList(3)) {
      float[] v = vectors.get(h.getString(0));
      for (int k = 0; k < v.length; k++) {
        sum[k] += h.getDouble(1) * v[k];
        dot += h.getDouble(1) * v[k] * top[k];
      }
    }
    double expectedScore = dot / Math.sqrt(java.util.Arrays.stream(sum).map(x -> x * x).sum());
    float written = spark.read().parquet(out.resolve(OutputLayout.matches(DATE)).toString())
        .filter(col("left_id").equalTo("camera-buyer").and(col("rank").equalTo(1))).first().getFloat(3);
    assertThat((double) written).isCloseTo(expectedScore, org.assertj.core.data.Offset.offset(1e-4));

    // the report and show --explain explain a recommendation by each history item's share of the score
    Path html = out.resolve("report.html");
    JobTestSupport.Result report = JobTestSupport.cli("report", "--output", out.toString(), "--html",
        html.toString(), "--sample", "10");
    assertThat(report.exitCode()).as(report.err()).isZero();
    assertThat(Files.readString(html)).contains("itemsim match report").contains("camera-buyer")
        .contains("× history ");
    JobTestSupport.Result show = JobTestSupport.cli("show", "--output", out.toString(), "--item", "camera-buyer",
        "--explain");
    assertThat(show.exitCode()).as(show.err()).isZero();
    assertThat(show.out()).contains("match run_date=" + SampleRuns.RUN_DATE).contains("× history ");
  }

  @Test
  void adsFindTheirProductsAndProductsFindTheirAds() throws IOException {
    Map<String, Set<String>> expected = expected("sample-data/ads/expected.csv");
    Path forward = SampleRuns.folder("match-ads").resolve("out");
    run("jobs/match-ads.conf", forward, "match.catalogEmbeddings=" + SampleRuns.similarItems());
    Map<String, List<String>> ads = lists(forward);
    long found = expected.entrySet().stream().filter(e -> ads.get(e.getKey()).subList(0, 3).stream()
        .anyMatch(e.getValue()::contains)).count();
    System.out.printf(Locale.ROOT, "ads -> products: %d of %d ads list their product in the top 3%n", found,
        expected.size());
    assertThat(found).as("ads whose product is in their top 3").isGreaterThanOrEqualTo(expected.size() - 2);

    // the reverse: the advertised products (and their copies in the other shop) as the left table, ads as the catalogue
    Map<String, String> adOf = new HashMap<>();
    expected.forEach((ad, items) -> items.forEach(item -> adOf.put(item, ad)));
    Path products = dir.resolve("products");
    spark.read().parquet("sample-data/catalog").filter(col("id").isin(adOf.keySet().toArray())).coalesce(1)
        .write().parquet(products.toString());
    Path backward = SampleRuns.folder("match-products-to-ads").resolve("out");
    run("jobs/match-ads.conf", backward, "input.path=sample-data/ads/ads.csv", "input.format=csv",
        "input.idColumn=ad_id", "input.titleColumn=headline", "text.template={headline} | {body} | {brand}",
        "match.left.path=" + products, "match.left.format=parquet", "match.left.idColumn=id",
        "match.left.template={title} | {brand} | {category}", "match.catalogEmbeddings=", "similarity.topN=3");
    Map<String, List<String>> productAds = lists(backward);
    assertThat(productAds).hasSize(adOf.size());
    long first = adOf.entrySet().stream().filter(e -> productAds.get(e.getKey()).get(0).equals(e.getValue())).count();
    System.out.printf(Locale.ROOT, "products -> ads: %d of %d products list their ad first%n", first, adOf.size());
    assertThat(first).as("products whose own ad ranks first").isGreaterThanOrEqualTo(adOf.size() * 9 / 10);
  }

  @Test
  void leftRowsThatCannotBeMatchedAreCountedAndWrittenWithReasons() throws Exception {
    Path catalog = JobTestSupport.catalog(dir, "catalog", 40, List.of());
    Path left = dir.resolve("left.csv");
    Files.writeString(left, String.join("\n", "left_id,text", "q1,sony tv", "q2,cordless phone",
        "q3,digital camera", "q4,usb cable", "q5,speaker", "q6,headphones", "dup,first copy", "dup,second copy",
        ",a row without id", "q9,", "q10,\"an open quote", ""));
    Path spec = dir.resolve("match.conf");
    Files.write(spec, List.of("job = match", "input.path = \"" + catalog + "\"", "match.left.path = \"" + left + "\"",
        "match.left.format = csv", "output.path = \"" + dir.resolve("out") + "\"", "run.date = \"2026-03-01\"",
        "similarity.topN = 3", "similarity.blockSize = 16"));
    JobTestSupport.Result r = JobTestSupport.run(spec);
    assertThat(r.exitCode()).as(r.err()).isZero();
    Path out = dir.resolve("out");
    assertThat(lists(out)).containsOnlyKeys("q1", "q2", "q3", "q4", "q5", "q6");
    Dataset<Row> rejected = spark.read().parquet(out.resolve(OutputLayout.matchRejected(DATE)).toString());
    assertThat(rejected.columns()).containsExactly("reason", "left_id", "record", "source_file");
    assertThat(rejected.orderBy("reason", "record").collectAsList()).extracting(x -> x.getString(0))
        .containsExactly("blank_text", "duplicate_id", "duplicate_id", "malformed_row", "null_id");
    JsonNode counts = summary(out).path("counts");
    assertThat(counts.path("left_items_read").asLong()).isEqualTo(11);
    assertThat(counts.path("left_items_rejected").asLong()).isEqualTo(5);
    assertThat(counts.path("left_rejected_by_reason").path("duplicate_id").asLong()).isEqualTo(2);
    assertThat(counts.path("left_rows_matched").asLong()).isEqualTo(6);
  }

  /** The left table's errors name the match.left.* keys to change, not the catalogue's input.* ones. */
  @Test
  void leftTableErrorsNameTheMatchLeftKeys() throws Exception {
    Path catalog = JobTestSupport.catalog(dir, "catalog", 20, List.of());
    Path noId = Files.writeString(dir.resolve("no-id.csv"), "query,text\nq1,sony tv\n");
    Path noText = Files.writeString(dir.resolve("no-text.csv"), "left_id,words\nq1,sony tv\n");
    Map<String, String> named = new LinkedHashMap<>();
    named.put(dir.resolve("missing.csv").toString(), "Cannot read match.left.path = ");
    named.put(noId.toString(), "(needed by match.left.idColumn)");
    named.put(noText.toString(), "(needed by match.left.template)");
    for (Map.Entry<String, String> e : named.entrySet()) {
      Path spec = dir.resolve("match.conf");
      Files.write(spec, List.of("job = match", "input.path = \"" + catalog + "\"",
          "match.left.path = \"" + e.getKey() + "\"", "match.left.format = csv",
          "output.path = \"" + dir.resolve("out") + "\"", "run.date = \"2026-03-01\"", "similarity.topN = 3"));
      JobTestSupport.Result r = JobTestSupport.run(spec);
      assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
      assertThat(r.err()).as(e.getKey()).contains(e.getValue()).doesNotContain("input.");
    }
  }

  @Test
  void catalogueVectorsAreReusedWhenTextAndEncoderFingerprintAreUnchanged() throws Exception {
    Path catalog = JobTestSupport.catalog(dir, "catalog", 40, List.of(
        JobTestSupport.product("changing", "Sony Turntable - PSLX350H", "Sony")));
    Path similar = dir.resolve("similar");
    assertThat(JobTestSupport.run(JobTestSupport.spec(dir, catalog, similar)).exitCode()).isZero();
    // the next catalogue: one title changed
    Path next = dir.resolve("next");
    spark.read().parquet(catalog.toString()).withColumn("title", org.apache.spark.sql.functions.when(
        col("id").equalTo("changing"), "Bose Acoustimass 5 Series III Speaker System").otherwise(col("title")))
        .write().parquet(next.toString());
    Path left = dir.resolve("left.csv");
    Files.writeString(left, "left_id,text\nq1,sony turntable\nq2,speaker system\nq3,digital camera\n");
    Path spec = dir.resolve("match.conf");
    Files.write(spec, List.of("job = match", "input.path = \"" + next + "\"", "match.left.path = \"" + left + "\"",
        "match.left.format = csv", "run.date = \"2026-03-01\"", "similarity.topN = 5",
        "similarity.blockSize = 16"));

    Path reused = dir.resolve("reused");
    assertThat(JobTestSupport.run(spec, "output.path=" + reused, "match.catalogEmbeddings=" + similar).exitCode())
        .isZero();
    JsonNode counts = summary(reused).path("counts");
    assertThat(counts.path("items_reused").asLong()).isEqualTo(40);
    assertThat(counts.path("items_encoded").asLong()).isEqualTo(1);
    assertThat(counts.path("vectors_reused_from").asText()).isEqualTo(similar.toString());

    Path encoded = dir.resolve("encoded");
    assertThat(JobTestSupport.run(spec, "output.path=" + encoded).exitCode()).isZero();
    assertThat(summary(encoded).path("counts").has("items_reused")).isFalse();
    List<Row> a = spark.read().parquet(reused.resolve(OutputLayout.matches(DATE)).toString())
        .orderBy("left_id", "rank").collectAsList();
    List<Row> b = spark.read().parquet(encoded.resolve(OutputLayout.matches(DATE)).toString())
        .orderBy("left_id", "rank").collectAsList();
    assertThat(a).hasSize(15).hasSameSizeAs(b);
    for (int i = 0; i < a.size(); i++) {
      assertThat(a.get(i).getString(2)).isEqualTo(b.get(i).getString(2));
      assertThat(a.get(i).getFloat(3)).isCloseTo(b.get(i).getFloat(3), org.assertj.core.data.Offset.offset(1e-5f));
    }
    assertThat(spark.read().parquet(reused.resolve(OutputLayout.EMBEDDINGS).toString())
        .filter(col("item_id").equalTo("changing")).first().getString(4)).startsWith("Bose Acoustimass");

    Path otherEncoder = dir.resolve("other-encoder");
    assertThat(JobTestSupport.run(spec, "output.path=" + otherEncoder, "match.catalogEmbeddings=" + similar,
        "encoder.maxTokens=64").exitCode()).isZero();
    JsonNode other = summary(otherEncoder).path("counts");
    assertThat(other.path("items_reused").asLong()).isZero();
    assertThat(other.path("items_encoded").asLong()).isEqualTo(41);
    assertThat(other.path("vectors_not_reused").asText()).contains("made by another encoder");
  }
}
