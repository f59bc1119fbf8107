package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults on a real cluster ({@link LocalCluster}): an executor JVM killed while it encodes, one killed during the
 * top-N stage, speculative copies of tasks, and a driver killed mid-run. Each job must end with the tables of a
 * clean run (here: the same job in local mode, which {@link ClusterJobTest} shows equals a clean cluster run), or,
 * for the killed driver, leave the previous tables in place for the next run to replace.
 */
@Tag("integration")
class ClusterFaultTest {
  private static final LocalDate DATE = LocalDate.of(2026, 3, 1);
  /** Items of the sample catalogue used: enough for each executor to encode for several seconds. */
  private static final int ITEMS = 3000;
  private static final Duration TIMEOUT = Duration.ofMinutes(10);

  @TempDir
  static Path dir;
  private static LocalCluster cluster;
  private static Path catalog;
  private static Path spec;
  private static Path clean;

  @BeforeAll
  static void cleanRunInLocalMode() throws Exception {
    cluster = LocalCluster.shared();
    catalog = dir.resolve("catalog");
    SparkTestSupport.spark().read().parquet("sample-data/catalog").orderBy("id").limit(ITEMS)
        .write().parquet(catalog.toString());
    spec = dir.resolve("job.conf");
    Files.writeString(spec, String.join("\n", "include file(\"" + Path.of("jobs/similar-items.conf").toAbsolutePath() + "\")",
        "input.path = \"" + catalog + "\"", "run.date = \"" + DATE + "\"", ""));
    clean = dir.resolve("clean");
    JobTestSupport.Result run = JobTestSupport.run(spec, "output.path=" + clean);
    assertThat(run.exitCode()).as(run.err()).isZero();
  }

  @Test
  void anExecutorKilledWhileEncodingCostsTimeNotRows() {
    Path out = dir.resolve("killed-encoding");
    Launcher.Submission job = cluster.submit(dir.resolve("killed-encoding.log"), spec, List.of(),
        List.of("output.path=" + out));
    assertThat(job.awaitLog("Stage encode started", TIMEOUT)).as(job.log()).isTrue();
    LocalCluster.Executor victim = awaitExecutorLogging("Encoder for ", job);
    assertThat(job.log()).as("the encode stage is still running").doesNotContain("Stage encode took");
    victim.kill();

    assertThat(job.await(TIMEOUT)).as(job.log()).isZero();
    SameTables.assertSameSimilarItems(clean, out, DATE);
    JsonNode summary = SameTables.latestSummary(out);
    assertThat(summary.get("spark").get("executors_lost").asInt()).as(summary.toString()).isGreaterThanOrEqualTo(1);
    assertThat(summary.get("spark").get("task_failures").asInt()).isGreaterThanOrEqualTo(1);
    assertOneModelLoadPerExecutor(summary);
  }

  @Test
  void anExecutorKilledDuringTheTopNStageCostsTimeNotRows() {
    Path out = dir.resolve("killed-top-n");
    Launcher.Submission job = cluster.submit(dir.resolve("killed-top-n.log"), spec, List.of(),
        List.of("output.path=" + out));
    assertThat(job.awaitLog("Stage top-n started", TIMEOUT)).as(job.log()).isTrue();
    Launcher.sleep(1500);
    LocalCluster.Executor victim = executorsOf(job).get(0);
    assertThat(job.log()).as("the top-N stage is still running").doesNotContain("Stage top-n took");
    victim.kill();

    assertThat(job.await(TIMEOUT)).as(job.log()).isZero();
    SameTables.assertSameSimilarItems(clean, out, DATE);
    JsonNode summary = SameTables.latestSummary(out);
    assertThat(summary.get("spark").get("executors_lost").asInt()).as(summary.toString()).isGreaterThanOrEqualTo(1);
    assertOneModelLoadPerExecutor(summary);
  }

  @Test
  void speculativeCopiesOfTasksWriteTheSameTables() {
    Path out = dir.resolve("speculation");
    Launcher.Submission job = cluster.submit(dir.resolve("speculation.log"), spec, List.of(
            "--conf", "spark.speculation=true",
            "--conf", "spark.speculation.interval=50ms",
            "--conf", "spark.speculation.quantile=0.1",
            "--conf", "spark.speculation.multiplier=1.0",
            "--conf", "spark.speculation.minTaskRuntime=10ms",
            "--conf", "spark.speculation.efficiency.enabled=false"),
        List.of("output.path=" + out, "encoder.partitions=6"));
    assertThat(job.await(TIMEOUT)).as(job.log()).isZero();
    SameTables.assertSameSimilarItems(clean, out, DATE);
    JsonNode summary = SameTables.latestSummary(out);
    assertThat(summary.get("spark").get("speculative_tasks").asInt()).as(summary.toString()).isPositive();
    assertOneModelLoadPerExecutor(summary);
  }

  @Test
  void aKilledDriverLeavesThePreviousTablesAndTheNextRunReplacesThem() throws Exception {
    Path out = dir.resolve("killed-driver");
    // yesterday's tables of this run date: a smaller catalogue
    Path smaller = dir.resolve("smaller");
    SparkTestSupport.spark().read().parquet(catalog.toString()).orderBy("id").limit(200)
        .write().parquet(smaller.toString());
    JobTestSupport.Result first = JobTestSupport.run(spec, "output.path=" + out, "input.path=" + smaller);
    assertThat(first.exitCode()).as(first.err()).isZero();
    Path previous = dir.resolve("previous");
    copy(out, previous);

    Launcher.Submission killed = cluster.submit(dir.resolve("killed-driver.log"), spec, List.of(),
        List.of("output.path=" + out));
    assertThat(killed.awaitLog("Stage top-n started", TIMEOUT)).as(killed.log()).isTrue();
    killed.close();
    killed.process().onExit().join();

    SameTables.assertSameSimilarItems(previous, out, DATE);
    assertThat(out.resolve(OutputLayout.LOCK)).as("the dead driver's lock is left behind").exists();

    Launcher.Submission next = cluster.submit(dir.resolve("next.log"), spec, List.of(),
        List.of("output.path=" + out));
    assertThat(next.await(TIMEOUT)).as(next.log()).isZero();
    SameTables.assertSameSimilarItems(clean, out, DATE);
    assertThat(next.log()).contains("Breaking the stale lock of output.path");
    try (Stream<Path> staging = Files.list(out.resolve(OutputLayout.STAGING))) {
      assertThat(staging).as("the killed run's staged tables are gone").isEmpty();
    }
  }

  /** Executors of the job's application (the only application running on the cluster). */
  private List<LocalCluster.Executor> executorsOf(Launcher.Submission job) {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < deadline) {
      List<LocalCluster.Executor> executors = cluster.executors();
      if (!executors.isEmpty()) {
        return executors;
      }
      assertThat(job.process().isAlive()).as(job.log()).isTrue();
      Launcher.sleep(200);
    }
    throw new AssertionError("No executor running; job log:\n" + job.log());
  }

  /** The first executor whose log contains {@code text}. */
  private LocalCluster.Executor awaitExecutorLogging(String text, Launcher.Submission job) {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < deadline) {
      for (LocalCluster.Executor e : cluster.executors()) {
        if (e.log().contains(text)) {
          return e;
        }
      }
      assertThat(job.process().isAlive()).as(job.log()).isTrue();
      Launcher.sleep(100);
    }
    throw new AssertionError("No executor logged '" + text + "'; job log:\n" + job.log());
  }

  /**
   * Every JVM that completed encode tasks loaded the model exactly once, however many tasks it ran (the lost
   * partition may be re-encoded by the surviving executor or by the one that replaced the lost one).
   */
  private static void assertOneModelLoadPerExecutor(JsonNode summary) {
    JsonNode counts = summary.get("counts");
    assertThat(counts.get("encode_jvms").asInt()).as(summary.toString()).isPositive();
    assertThat(counts.get("encoder_loads").asInt()).as(summary.toString())
        .isEqualTo(counts.get("encode_jvms").asInt());
    assertThat(counts.get("encode_tasks").asInt()).isGreaterThanOrEqualTo(2);
  }

  private static void copy(Path from, Path to) throws Exception {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : files.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
