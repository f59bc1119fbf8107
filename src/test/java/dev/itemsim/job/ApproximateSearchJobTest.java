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
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The similar-items job with similarity.method = ivf: its tables, its run summary, its recall gate. */
@Tag("integration")
class ApproximateSearchJobTest {
  private static final String PARTITION = OutputLayout.similarItems(java.time.LocalDate.of(2026, 3, 1));
  @TempDir
  static Path dir;
  static Path catalog;
  private final SparkSession spark = SparkTestSupport.spark();

  @BeforeAll
  static void writeCatalog() {
    catalog = catalog(dir, "catalog", 60, List.of());
  }

  @Test
  void everyListProbedGivesExactListsAndTheSummaryReportsRecall() throws Exception {
    Path exactOut = dir.resolve("exact");
    Path ivfOut = dir.resolve("ivf");
    assertEveryListProbedEqualsExact("embedding", exactOut, ivfOut);

    JsonNode summary = summary(ivfOut);
    assertThat(summary.get("status").asText()).isEqualTo("succeeded");
    assertThat(summary.get("method").asText()).isEqualTo("ivf");
    assertThat(summary.get("vectors").asText()).isEqualTo("list files");
    JsonNode facts = summary.get("ivf");
    assertThat(facts.get("lists").asInt()).isEqualTo(4);
    assertThat(facts.get("nprobe").asInt()).isEqualTo(4);
    assertThat(facts.get("recall_queries").asInt()).isEqualTo(60);
    assertThat(facts.get("recall_at_n").asDouble()).isEqualTo(1.0);
    assertThat(facts.get("phase_ms").has("train")).isTrue();
    assertThat(summary(exactOut).get("method").asText()).isEqualTo("exact");
  }

  @Test
  void recallBelowTheMinimumStopsTheRunWithExitCode4() throws Exception {
    Path out = dir.resolve("low-recall");
    JobTestSupport.Result result = run(spec(dir, catalog, out), "similarity.scorer=embedding", "similarity.method=ivf",
        "similarity.ivf.lists=6", "similarity.ivf.nprobe=1", "similarity.ivf.minRecall=1.0");
    assertThat(result.exitCode()).as(result.err()).isEqualTo(4);
    assertThat(result.err()).contains("similarity.ivf.minRecall = 1.0").contains("sampled queries");
    assertThat(out.resolve(PARTITION)).doesNotExist();
    JsonNode summary = summary(out);
    assertThat(summary.get("status").asText()).isEqualTo("failed");
    assertThat(summary.get("error").asText()).contains("similarity.ivf.minRecall");
    assertThat(summary.get("ivf").get("recall_at_n").asDouble()).isLessThan(1.0);
  }

  @Test
  void anApproximateRunKeepsNoListsSoTheNextRunRanksInFullAndSaysWhy() throws Exception {
    Path out = dir.resolve("ivf-twice");
    for (int night = 0; night < 2; night++) {
      JobTestSupport.Result result = run(spec(dir, catalog, out), "similarity.scorer=embedding",
          "similarity.method=ivf", "similarity.ivf.lists=4", "similarity.ivf.nprobe=2");
      assertThat(result.exitCode()).as(result.err()).isZero();
    }
    JsonNode second = SameTables.latestSummary(out);
    assertThat(second.get("status").asText()).isEqualTo("succeeded");
    JsonNode counts = second.get("counts");
    assertThat(counts.get("items_reused").asLong()).as(second.toString()).isEqualTo(60);
    assertThat(counts.get("items_encoded").asLong()).isZero();
    assertThat(counts.has("lists_updated")).as(second.toString()).isFalse();
    assertThat(second.get("full_reasons").toString()).contains("similarity.method = ivf ranks 60 items approximately");
  }

  @Test
  void theHybridScorerFindsItsEmbeddingCandidatesWithTheConfiguredMethod() throws Exception {
    Path exactOut = dir.resolve("hybrid-exact");
    Path ivfOut = dir.resolve("hybrid-ivf");
    assertEveryListProbedEqualsExact("hybrid", exactOut, ivfOut);
    JsonNode summary = summary(ivfOut);
    assertThat(summary.get("scorer").asText()).isEqualTo("hybrid");
    assertThat(summary.get("method").asText()).isEqualTo("ivf");
    assertThat(summary.get("ivf").get("recall_at_n").asDouble()).isEqualTo(1.0);
    assertThat(summary(exactOut).get("method").asText()).isEqualTo("exact");

    JobTestSupport.Result again = run(spec(dir, catalog, ivfOut), "similarity.scorer=hybrid", "similarity.method=ivf",
        "similarity.ivf.lists=4", "similarity.ivf.nprobe=4");
    assertThat(again.exitCode()).as(again.err()).isZero();
    JsonNode second = SameTables.latestSummary(ivfOut);
    assertThat(second.has("counts") && second.get("counts").has("lists_updated")).as(second.toString()).isFalse();
    assertThat(second.get("full_reasons").toString()).contains("similarity.method = ivf ranks 60 items approximately");
  }

  /** Runs the scorer exactly and with IVF probing all 4 lists; both tables hold the same lists. */
  private void assertEveryListProbedEqualsExact(String scorer, Path exactOut, Path ivfOut) throws Exception {
    JobTestSupport.Result exact = run(spec(dir, catalog, exactOut), "similarity.scorer=" + scorer,
        "similarity.method=exact");
    JobTestSupport.Result ivf = run(spec(dir, catalog, ivfOut), "similarity.scorer=" + scorer,
        "similarity.method=ivf", "similarity.ivf.lists=4", "similarity.ivf.nprobe=4");
    assertThat(exact.exitCode()).as(exact.err()).isZero();
    assertThat(ivf.exitCode()).as(ivf.err()).isZero();
    List<Row> a = sorted(exactOut);
    List<Row> b = sorted(ivfOut);
    assertThat(b).hasSameSizeAs(a).hasSize(60 * 5);
    for (int i = 0; i < a.size(); i++) {
      assertThat(b.get(i).getString(0)).isEqualTo(a.get(i).getString(0));
      assertThat(b.get(i).getString(2)).as("row %d", i).isEqualTo(a.get(i).getString(2));
      assertThat(b.get(i).getFloat(3)).isCloseTo(a.get(i).getFloat(3), org.assertj.core.data.Offset.offset(1e-6f));
    }
  }

  private List<Row> sorted(Path out) {
    return spark.read().parquet(out.resolve(PARTITION).toString()).orderBy("item_id", "rank").collectAsList();
  }

  private static JsonNode summary(Path out) throws Exception {
    try (Stream<Path> runs = Files.list(out.resolve(OutputLayout.RUNS))) {
      List<Path> files = runs.filter(p -> p.toString().endsWith(".json")).toList();
      assertThat(files).hasSize(1);
      return new ObjectMapper().readTree(files.get(0).toFile());
    }
  }
}
