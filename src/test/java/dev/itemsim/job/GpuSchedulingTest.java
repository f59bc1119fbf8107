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
 * executors see {@code CUDA_VISIBLE_DEVICES=4,7}, so the encode and top-N tasks must ask for CUDA device 1. Opening
 * it fails (no CUDA natives here): with {@code encoder.device = gpu}, or {@code similarity.kernel = gpu} for the
 * top-N stage, the job fails at once naming the address and what is missing; with {@code auto} both stages run on
 * the CPU and say so in the log and the run summary.
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
  void aTopNKernelGpuThatCannotBeOpenedFailsTheTopNStageAtOnceNamingIt() throws Exception {
    Path out = dir.resolve("topn-gpu");
    Launcher.Submission job = cluster.submit(dir.resolve("topn-gpu.log"), spec(out), ONE_GPU_PER_TASK,
        List.of("encoder.device=cpu", "similarity.kernel=gpu"));
    assertThat(job.await(Duration.ofMinutes(5))).as(job.log()).isEqualTo(2);
    String log = job.log();
    assertThat(log).contains("similarity.kernel = gpu: Spark assigned " + DEVICE).contains("CUDA natives missing")
        .contains("pytorch-native-cu").contains("similarity.kernel = auto");
    assertThat(log.indexOf("Stage top-n started")).as(log).isPositive()
        .isLessThan(log.indexOf("similarity.kernel = gpu: Spark assigned"));
    JsonNode summary = SameTables.latestSummary(out);
    assertThat(summary.get("status").asText()).isEqualTo("failed");
    assertThat(summary.get("error").asText()).contains("similarity.kernel = gpu").contains(DEVICE);
    // the encode stage ran on the CPU and finished; the top-N stage's check job found the GPU unusable in its
    // tasks and the driver failed the stage before any product task ran: no task failed, nothing was retried
    assertThat(summary.get("encoder_devices").fieldNames()).toIterable().containsExactly("cpu");
    assertThat(summary.get("stage_ms").has("top-n")).as(summary.toString()).isTrue();
    assertThat(summary.get("stage_ms").has("publish")).isFalse();
    assertThat(summary.get("spark").get("task_failures").asInt()).as(summary.toString()).isZero();
    assertThat(summary.has("topn_devices")).isFalse();
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
    // top-N too (similarity.kernel = auto, the default): the driver's WARN from the tasks' reports
    assertThat(job.log()).containsPattern("WARN .*" + java.util.regex.Pattern.quote("Spark assigned " + DEVICE
        + " to this task, but the top-N kernel cannot open it")
        + ".*Exact top-N runs on the CPU instead.*topn_fallback");
    JsonNode summary = SameTables.latestSummary(out);
    assertThat(summary.get("task_gpus").toString()).isEqualTo("[\"" + LocalCluster.FAKE_GPU + "\"]");
    assertThat(summary.get("encoder_fallback").asText()).contains(DEVICE).contains("Encoding on the CPU");
    assertThat(summary.get("encoder_devices").fieldNames()).toIterable().containsExactly("cpu");
    assertThat(summary.get("topn_task_gpus").toString()).isEqualTo("[\"" + LocalCluster.FAKE_GPU + "\"]");
    assertThat(summary.get("topn_fallback").asText()).contains(DEVICE).contains("CUDA natives missing")
        .contains("Exact top-N runs on the CPU instead");
    assertThat(summary.get("topn_devices").fieldNames()).toIterable().containsExactly("cpu");
    assertThat(summary.get("counts").get("topn_tasks").asInt()).isPositive()
        .isEqualTo(summary.get("topn_devices").get("cpu").asInt());
    assertThat(summary.get("kernel").asText()).startsWith("native-blas(bundled-openblas ");
    SameTables.assertSameSimilarItems(local, out, DATE);
    assertThat(Files.exists(out.resolve(OutputLayout.similarItems(DATE)))).isTrue();
  }
}
