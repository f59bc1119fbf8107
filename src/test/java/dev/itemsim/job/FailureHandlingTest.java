package dev.itemsim.job;

import static dev.itemsim.job.JobTestSupport.catalog;
import static dev.itemsim.job.JobTestSupport.run;
import static dev.itemsim.job.JobTestSupport.spec;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.SaveMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures inside Spark tasks end like any other: status {@code failed} with the cause in one line, exit code
 * 2 for bad input (naming the file), staging cleaned up, the previous tables untouched.
 */
class FailureHandlingTest {
  @TempDir
  Path dir;

  @Test
  void corruptParquetPartAmongGoodOnes() throws Exception {
    Path input = catalog(dir, "corrupt", 30, List.of());
    Path bad = input.resolve("part-99999-corrupt.snappy.parquet");
    Files.write(bad, "PAR1 this is not parquet at all, just bytes with the magic number".getBytes());
    assertFailsAsBadInput(input, bad.getFileName().toString());
  }

  /**
   * A cluster that skips corrupt files ({@code spark.sql.files.ignoreCorruptFiles = true}, a common ETL setting)
   * does not make the job drop a part of the catalogue, and its items, without a word.
   */
  @Test
  void corruptParquetPartWhereTheSessionIgnoresCorruptFiles() throws Exception {
    Path input = catalog(dir, "corrupt-ignored", 30, List.of());
    Path bad = input.resolve("part-99997-corrupt.snappy.parquet");
    Files.write(bad, "PAR1 this is not parquet at all, just bytes with the magic number".getBytes());
    var conf = SparkTestSupport.spark().conf();
    conf.set("spark.sql.files.ignoreCorruptFiles", "true");
    try {
      assertFailsAsBadInput(input, bad.getFileName().toString());
    } finally {
      conf.unset("spark.sql.files.ignoreCorruptFiles");
    }
  }

  @Test
  void truncatedParquetPart() throws Exception {
    Path input = catalog(dir, "truncated", 30, List.of());
    Path part;
    try (Stream<Path> files = Files.list(input)) {
      part = files.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(part);
    Path cut = input.resolve("part-99998-truncated.snappy.parquet");
    Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    assertFailsAsBadInput(input, cut.getFileName().toString());
  }

  @Test
  void columnTypesThatDifferBetweenParts() throws Exception {
    Path input = dir.resolve("mixed");
    SparkTestSupport.spark().range(5).selectExpr("cast(id as string) as id", "concat('title ', id) as title")
        .coalesce(1).write().parquet(input.toString());
    SparkTestSupport.spark().range(5, 10).selectExpr("id", "concat('title ', id) as title")
        .coalesce(1).write().mode(SaveMode.Append).parquet(input.toString());
    assertFailsAsBadInput(input, ".parquet", "text.template = \"{title}\"");
  }

  @Test
  void corruptModelFile() throws Exception {
    Path model = dir.resolve("model");
    Files.createDirectories(model);
    Files.write(model.resolve("model.onnx"), new byte[] {8, 7, 1, 2, 3, 0, 0, 1, 9});
    try (var in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, model.resolve("tokenizer.json"));
    }
    Path input = catalog(dir, "items", 10, List.of());
    Path out = dir.resolve("out-model");
    JobTestSupport.Result result = run(spec(dir, input, out), "encoder.model=" + model,
        "similarity.scorer=embedding");
    assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
    assertThat(result.err()).contains("model.onnx").doesNotContain("\tat ");
    assertFailedSummary(out, "model.onnx");
  }

  @Test
  void aSecondRunOnTheSameOutputRefusesAndNamesTheHolder() throws Exception {
    Path input = catalog(dir, "locked-input", 10, List.of());
    Path out = dir.resolve("locked-out");
    assertThat(run(spec(dir, input, out), "similarity.scorer=embedding").exitCode()).isZero();
    var fs = new org.apache.hadoop.fs.Path(out.toString()).getFileSystem(
        SparkTestSupport.spark().sparkContext().hadoopConfiguration());
    try (OutputLock held = OutputLock.acquire(fs, new org.apache.hadoop.fs.Path(out.toString()), "the-first-run")) {
      JobTestSupport.Result second = run(spec(dir, input, out), "similarity.scorer=embedding");
      assertThat(second.exitCode()).isEqualTo(2);
      assertThat(second.err()).contains("the-first-run").contains(out.toString());
      assertThat(out.resolve(OutputLayout.LOCK)).exists();
      assertFailedSummary(out, "the-first-run");
    }
    assertThat(run(spec(dir, input, out), "similarity.scorer=embedding").exitCode()).isZero();
  }

  @Test
  void outputInsideTheInputOrUnderAFileIsRefusedBeforeReading() throws Exception {
    Path input = catalog(dir, "outer", 10, List.of());
    JobTestSupport.Result inside = run(spec(dir, input, input.resolve("out")));
    assertThat(inside.exitCode()).isEqualTo(2);
    assertThat(inside.err()).contains("input.path");
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    JobTestSupport.Result underFile = run(spec(dir, input, file.resolve("out")));
    assertThat(underFile.exitCode()).isEqualTo(2);
    assertThat(underFile.err()).contains("output.path").contains("cannot be written");
  }

  private void assertFailsAsBadInput(Path input, String named, String... specLines) throws Exception {
    Path out = dir.resolve("out-" + input.getFileName());
    // a previous good run, whose tables must survive the failed one
    Path good = catalog(dir, "good-" + input.getFileName(), 10, List.of());
    assertThat(run(spec(dir, good, out), "similarity.scorer=embedding").exitCode()).isZero();
    JobTestSupport.Result result = run(spec(dir, input, out, specLines), "similarity.scorer=embedding");
    assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
    assertThat(result.err()).contains(named).doesNotContain("\tat ");
    assertThat(result.err().lines().count()).isLessThanOrEqualTo(3);
    assertFailedSummary(out, named);
    assertThat(SparkTestSupport.spark().read().parquet(new OutputLayout(out.toString())
        .similarItemsPath(java.time.LocalDate.of(2026, 3, 1))).select("item_id").distinct().count()).isEqualTo(10);
  }

  private static void assertFailedSummary(Path out, String named) throws Exception {
    JsonNode failed;
    try (Stream<Path> runs = Files.list(out.resolve(OutputLayout.RUNS))) {
      failed = runs.filter(p -> p.toString().endsWith(".json")).map(FailureHandlingTest::json)
          .filter(j -> !j.get("status").asText().equals("succeeded")).findFirst().orElseThrow();
    }
    assertThat(failed.get("status").asText()).isEqualTo("failed");
    assertThat(failed.get("error").asText()).contains(named).doesNotContain("\n");
    Path staging = out.resolve(OutputLayout.STAGING);
    if (Files.exists(staging)) {
      try (Stream<Path> left = Files.list(staging)) {
        assertThat(left).isEmpty();
      }
    }
  }

  private static JsonNode json(Path p) {
    try {
      return new ObjectMapper().readTree(p.toFile());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
