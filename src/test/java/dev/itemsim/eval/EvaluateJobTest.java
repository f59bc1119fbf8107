package dev.itemsim.eval;

import static dev.itemsim.job.JobTestSupport.cli;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.AbtBuySample;
import dev.itemsim.SparkTestSupport;
import dev.itemsim.job.JobTestSupport;
import dev.itemsim.job.OutputLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluateJobTest {
  @TempDir
  Path dir;

  /** The first 40 Abt-Buy match pairs and their products, as CSV, like the shipped benchmark. */
  private Path[] labelledSample() throws Exception {
    return AbtBuySample.firstPairs(dir, 40, "matches.csv");
  }

  @Test
  void evaluatesBothDirectionsAndWritesMetricsAndMisses() throws Exception {
    Path[] sample = labelledSample();
    Path out = dir.resolve("out");
    Path spec = dir.resolve("evaluate.conf");
    Files.writeString(spec, String.join("\n",
        "include \"" + Path.of("jobs/evaluate.conf").toAbsolutePath() + "\"",
        "input.path = \"" + sample[0] + "\"",
        "search.against = \"" + sample[1] + "\"",
        "eval.matches = \"" + sample[2] + "\"",
        "output.path = \"" + out + "\"",
        "similarity.blockSize = 16"));
    JobTestSupport.Result result = cli("run", spec.toString(), "--profile", "local");
    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out()).contains("recall@1").contains("A->B").contains("B->A");

    try (var runs = Files.list(out.resolve(dev.itemsim.job.OutputLayout.RUNS))) {
      JsonNode run = new ObjectMapper().readTree(runs.filter(p -> p.toString().endsWith(".json")).findFirst()
          .orElseThrow().toFile());
      assertThat(run.get("counts").get("rejected_a").asLong()).isZero();
      assertThat(run.get("counts").get("rejected_b").asLong()).isZero();
    }
    JsonNode metrics = new ObjectMapper().readTree(out.resolve(OutputLayout.evaluation(OutputLayout.METRICS)).toFile());
    assertThat(metrics.get("scorer").asText()).isEqualTo("hybrid");
    assertThat(metrics.get("model").asText()).isEqualTo("builtin:all-minilm-l6-v2");
    long misses = 0;
    assertThat(metrics.get("settings").get("hybrid.embeddingWeight").asDouble()).isEqualTo(0.3);
    assertThat(metrics.get("pairs_with_unencoded_id").asLong()).isZero();
    for (String direction : List.of("a_to_b", "b_to_a")) {
      JsonNode d = metrics.get(direction);
      assertThat(d.get("pairs").asLong()).isEqualTo(40);
      // embedding candidates alone cover every item (50 > 40), so the hybrid union lists every partner
      assertThat(d.get("recall@50").asDouble()).isEqualTo(1.0);
      double r1 = d.get("recall@1").asDouble();
      assertThat(r1).isBetween(0.5, 1.0);
      assertThat(d.get("recall@10").asDouble()).isBetween(r1, 1.0);
      assertThat(d.get("mrr").asDouble()).isBetween(r1, 1.0);
      misses += Math.round(40 * (1 - r1));
    }
    List<Row> missRows = SparkTestSupport.spark().read().parquet(out.resolve(OutputLayout.evaluation(OutputLayout.MISSES)).toString())
        .collectAsList();
    assertThat((long) missRows.size()).isEqualTo(misses);
    for (Row miss : missRows) {
      int rank = miss.getInt(5);
      assertThat(rank).isGreaterThan(1);
      List<Row> above = miss.getList(7);
      assertThat(above).hasSize(Math.min(5, rank - 1));
      assertThat(above.get(0).getFloat(1)).isGreaterThanOrEqualTo(miss.getFloat(6));
    }
  }

  @Test
  void lexicalAndEmbeddingScorersEvaluateToo() throws Exception {
    Path[] sample = labelledSample();
    for (String scorer : List.of("lexical", "embedding")) {
      Path out = dir.resolve("out-" + scorer);
      JobTestSupport.Result result = cli("run", "jobs/evaluate.conf", "--profile", "local",
          "--set", "input.path=" + sample[0], "--set", "search.against=" + sample[1],
          "--set", "eval.matches=" + sample[2], "--set", "output.path=" + out, "--set", "similarity.scorer=" + scorer);
      assertThat(result.exitCode()).as(result.err()).isZero();
      JsonNode metrics = new ObjectMapper().readTree(out.resolve(OutputLayout.evaluation(OutputLayout.METRICS)).toFile());
      assertThat(metrics.get("scorer").asText()).isEqualTo(scorer);
      assertThat(metrics.get("a_to_b").get("recall@1").asDouble()).isGreaterThan(0.6);
      assertThat(metrics.get("settings").has("hybrid.embeddingWeight")).isFalse();
    }
  }

  @Test
  void matchFileWithoutTheColumnsIsAClearError() throws Exception {
    Path[] sample = labelledSample();
    Files.writeString(sample[2], "abt,buy\n1,2\n");
    JobTestSupport.Result result = cli("run", "jobs/evaluate.conf", "--profile", "local",
        "--set", "eval.matches=" + sample[2], "--set", "output.path=" + dir.resolve("o"));
    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.err()).contains("needs columns id_a and id_b").contains("columns found: abt, buy");
  }

  @Test
  void labelsRepeatsAndTheListSizeShapeWhatIsScored() throws Exception {
    Path[] sample = labelledSample();
    List<String> pairs = Files.readAllLines(sample[2]).subList(1, 41);
    List<String> rows = new ArrayList<>(List.of("id_a,id_b,label"));
    pairs.forEach(p -> rows.add(p + ",1"));
    rows.add(pairs.get(0) + ",1");
    rows.add(pairs.get(1) + ",true");
    for (int i = 0; i < 3; i++) {  // an A item with another one's partner: a known non-match
      rows.add(pairs.get(i).split(",")[0] + "," + pairs.get(i + 1).split(",")[1] + ",0");
    }
    // a folder of gzipped CSV is read as CSV, as catalogues are
    Path folder = Files.createDirectories(dir.resolve("matches"));
    try (var out = new java.io.PrintWriter(new java.util.zip.GZIPOutputStream(
        Files.newOutputStream(folder.resolve("part-0.csv.gz"))), false, java.nio.charset.StandardCharsets.UTF_8)) {
      rows.forEach(r -> out.print(r + "\n"));
    }
    Path out = dir.resolve("out");
    JobTestSupport.Result result = cli("run", "jobs/evaluate.conf", "--profile", "local",
        "--set", "input.path=" + sample[0], "--set", "search.against=" + sample[1], "--set", "eval.matches=" + folder,
        "--set", "output.path=" + out, "--set", "similarity.scorer=embedding", "--set", "eval.listSize=7");
    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out()).contains(": 40 pairs").contains("not scored: 3 rows labelled non-matches, 2 repeated pairs");
    JsonNode metrics = new ObjectMapper().readTree(out.resolve(OutputLayout.evaluation(OutputLayout.METRICS)).toFile());
    assertThat(metrics.get("pairs").asLong()).isEqualTo(40);
    assertThat(metrics.get("non_match_rows").asLong()).isEqualTo(3);
    assertThat(metrics.get("duplicate_pairs").asLong()).isEqualTo(2);
    JsonNode aToB = metrics.get("a_to_b");
    assertThat(aToB.get("pairs").asLong()).isEqualTo(40);
    assertThat(aToB.has("recall@5")).isTrue();
    assertThat(aToB.has("recall@7")).isTrue();
    assertThat(aToB.has("recall@10")).as("recall@K beyond eval.listSize").isFalse();
  }

  @Test
  void badMatchFilesFailNamingTheKeyAndTheRow() throws Exception {
    Path[] sample = labelledSample();
    String first = Files.readAllLines(sample[2]).get(1);
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("id_a,id_b\n" + first + "\n1,2,3\n", "eval.matches = " + sample[2] + ", row 2 cannot be read as CSV");
    expected.put("id_a,id_b,label\n" + first + ",0\n", "has no true pairs: all 1 rows are labelled non-matches");
    expected.put("id_a,id_b\n" + first.split(",")[1] + "," + first.split(",")[0] + "\n",
        "none of its 1 true pairs names two valid items");
    for (Map.Entry<String, String> e : expected.entrySet()) {
      Files.writeString(sample[2], e.getKey());
      JobTestSupport.Result result = cli("run", "jobs/evaluate.conf", "--profile", "local",
          "--set", "input.path=" + sample[0], "--set", "search.against=" + sample[1],
          "--set", "eval.matches=" + sample[2], "--set", "output.path=" + dir.resolve("o"));
      assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
      assertThat(result.err()).contains(e.getValue());
    }
    // one catalogue: a pair of an item with itself can never be found
    Files.writeString(sample[2], "id_a,id_b\n" + first + "\n" + first.split(",")[0] + "," + first.split(",")[0]
        + "\n");
    JobTestSupport.Result self = cli("run", "jobs/evaluate.conf", "--profile", "local", "--set",
        "input.path=" + sample[0], "--set", "search.against=", "--set", "eval.matches=" + sample[2], "--set",
        "output.path=" + dir.resolve("o"));
    assertThat(self.exitCode()).isEqualTo(2);
    assertThat(self.err()).contains("row 2: id_a and id_b are the same item");
    JobTestSupport.Result missing = cli("run", "jobs/evaluate.conf", "--profile", "local", "--set",
        "input.path=" + sample[0], "--set", "search.against=" + sample[1], "--set", "eval.matches="
        + dir.resolve("nope.csv"), "--set", "output.path=" + dir.resolve("o"));
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).contains("Cannot read eval.matches = " + dir.resolve("nope.csv"));
  }
}
