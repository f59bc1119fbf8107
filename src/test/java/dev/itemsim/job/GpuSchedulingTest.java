package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPU scheduling plumbing without a GPU: the {@link LocalCluster}'s workers run a discovery script that reports
 * GPU address {@value LocalCluster#FAKE_GPU}; the job asks Spark for one GPU per executor and per task, and the
 * executors see {@code CUDA_VISIBLE_DEVICES=4,7}, so the encode tasks must ask for CUDA device 1. Opening it fails
 * (no CUDA natives here): with {@code encoder.device = gpu} the job fails at once naming the address and what is
 * missing; with {@code auto} it encodes on the CPU and says so in the log and the run summary.
 */
@Tag("integration")
class GpuSchedulingTest {
  private static final LocalDate DATE = LocalDate.of(2026, 3, 1);
  private static final List<String> ONE_GPU_PER_TASK = List.of(
      "--conf", "spark.executor.resource.gpu.amount=1",
      "--conf", "spark.task.resource.gpu.amount=1",
      "--conf", "spark.executorEnv.CUDA_VISIBLE_DEVICES=4,7");
  private static final String DEVICE = "GPU address " + LocalCluster.FAKE_GPU
      + " (CUDA device 1 under CUDA_VISIBLE_DEVICES=4,7)";

  @TempDir
  static Path dir;
  private static LocalCluster cluster;
  private static Path catalog;

  @BeforeAll
  static void start() {
    cluster = LocalCluster.shared();
    catalog = JobTestSupport.catalog(dir, "catalog", 60, List.of());
  }

  private static Path spec(Path out) throws Exception {
    return JobTestSupport.spec(dir, catalog, out, "similarity.scorer = embedding");
  }

  @Test
  void aGpuThatCannotBeOpenedFailsTheJobAtOnceNamingIt() throws Exception {
    Path out = dir.resolve("gpu");
    Launcher.Submission job = cluster.submit(dir.resolve("gpu.log"), spec(out), ONE_GPU_PER_TASK,
        List.of("encoder.device=gpu"));
    assertThat(job.await(Duration.ofMinutes(5))).as(job.log()).isEqualTo(2);
    assertThat(job.log()).contains("Spark assigned " + DEVICE).contains("CUDA natives missing")
        .contains("pytorch-native-cu").contains("encoder.device = auto");
    JsonNode summary = SameTables.latestSummary(out);
    assertThat(summary.get("status").asText()).isEqualTo("failed");
    assertThat(summary.get("error").asText()).contains(DEVICE);
    // not retried up to spark.task.maxFailures (4) per task: the first failure cancels the stage
    assertThat(summary.get("spark").get("task_failures").asInt()).as(summary.toString()).isBetween(1, 3);
    assertThat(out.resolve("similar_items")).doesNotExist();
  }

  @Test
  void autoFallsBackToTheCpuAndSaysSo() throws Exception {
    Path local = dir.resolve("cpu-local");
    JobTestSupport.Result reference = JobTestSupport.run(spec(local));
    assertThat(reference.exitCode()).as(reference.err()).isZero();

    Path out = dir.resolve("auto");
    Launcher.Submission job = cluster.submit(dir.resolve("auto.log"), spec(out), ONE_GPU_PER_TASK,
        List.of("encoder.device=auto"), Map.of());
    assertThat(job.await(Duration.ofMinutes(5))).as(job.log()).isZero();
    assertThat(job.log()).contains("WARN").contains(DEVICE).contains("Encoding on the CPU");
    JsonNode summary = SameTables.latestSummary(out);
    assertThat(summary.get("task_gpus").toString()).isEqualTo("[\"" + LocalCluster.FAKE_GPU + "\"]");
    assertThat(summary.get("encoder_fallback").asText()).contains(DEVICE).contains("Encoding on the CPU");
    assertThat(summary.get("encoder_devices").fieldNames()).toIterable().containsExactly("cpu");
    SameTables.assertSameSimilarItems(local, out, DATE);
    assertThat(Files.exists(out.resolve(OutputLayout.similarItems(DATE)))).isTrue();
  }
}
