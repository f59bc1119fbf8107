package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped jobs on a real cluster ({@link LocalCluster}: a standalone master and two workers, each executor a
 * JVM of its own, the application in {@code target/itemsim.jar}), submitted with {@code scripts/itemsim submit}
 * and compared with the same jobs in local mode: the tables must be identical.
 */
@Tag("integration")
class ClusterJobTest {
  private static final LocalDate DATE = LocalDate.of(2026, 3, 1);
  @TempDir
  static Path dir;
  private static LocalCluster cluster;

  @BeforeAll
  static void startCluster() {
    cluster = LocalCluster.shared();
  }

  @Test
  void theSampleJobOnTheClusterWritesTheTablesOfLocalMode() {
    Path local = dir.resolve("sample-local");
    Path remote = dir.resolve("sample-cluster");
    Path spec = Path.of("jobs/similar-items.conf");
    JobTestSupport.Result inProcess = JobTestSupport.run(spec, "output.path=" + local, "run.date=" + DATE);
    assertThat(inProcess.exitCode()).as(inProcess.err()).isZero();

    Launcher.Submission submitted = cluster.submit(dir.resolve("sample-cluster.log"), spec, List.of(),
        List.of("output.path=" + remote, "run.date=" + DATE));
    assertThat(submitted.await(Duration.ofMinutes(10))).as(submitted.log()).isZero();

    SameTables.assertSameSimilarItems(local, remote, DATE);
    SameTables.assertSameRowsOrNone(local, remote, OutputLayout.rejected(DATE), "reason", "item_id", "record");
    JsonNode summary = SameTables.latestSummary(remote);
    assertThat(summary.get("status").asText()).isEqualTo("succeeded");
    assertThat(summary.get("kernel").asText()).startsWith("native-blas(bundled-openblas ");
    // both executors encoded, each loading the model once
    JsonNode counts = summary.get("counts");
    assertThat(counts.get("encode_jvms").asInt()).as(summary.toString()).isEqualTo(2);
    assertThat(counts.get("encoder_loads").asInt()).isEqualTo(2);
    assertThat(summary.get("encoder_devices").toString()).isEqualTo("{\"cpu\":" + counts.get("encode_tasks") + "}");
    assertThat(summary.get("spark").get("executors_lost").asInt()).isZero();
    assertThat(submitted.log()).contains("itemsim similar-items succeeded for run_date=" + DATE);
  }

  @Test
  void theEvaluateJobOnTheClusterScoresLikeLocalMode() throws Exception {
    Path local = dir.resolve("evaluate-local");
    Path remote = dir.resolve("evaluate-cluster");
    Path spec = Path.of("jobs/evaluate.conf");
    JobTestSupport.Result inProcess = JobTestSupport.run(spec, "output.path=" + local);
    assertThat(inProcess.exitCode()).as(inProcess.err()).isZero();

    // submitted with Kryo, as many clusters run (the sample job above keeps Spark's default serializer): the job
    // adds its registrator to what spark-submit passes, and the executors load it from the application jar
    Launcher.Submission submitted = cluster.submit(dir.resolve("evaluate-cluster.log"), spec,
        List.of("--conf", "spark.serializer=org.apache.spark.serializer.KryoSerializer"),
        List.of("output.path=" + remote));
    assertThat(submitted.await(Duration.ofMinutes(10))).as(submitted.log()).isZero();

    SameTables.assertSameRows(local, remote, OutputLayout.evaluation(OutputLayout.RANKED));
    SameTables.assertSameRows(local, remote, OutputLayout.evaluation(OutputLayout.MISSES));
    ObjectMapper json = new ObjectMapper();
    JsonNode expected = json.readTree(local.resolve(OutputLayout.evaluation(OutputLayout.METRICS)).toFile());
    JsonNode actual = json.readTree(remote.resolve(OutputLayout.evaluation(OutputLayout.METRICS)).toFile());
    assertThat(actual.get("a_to_b")).isEqualTo(expected.get("a_to_b"));
    assertThat(actual.get("b_to_a")).isEqualTo(expected.get("b_to_a"));
  }
}
