package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.SparkTestSupport;
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
 * {@code scripts/itemsim run} as a user runs it (its own JVM, {@code conf/log4j2.properties}): a default run on
 * a CPU machine prints no noise, and every warning it does print says what to do; its top-N runs on the
 * bundled native OpenBLAS; one core writes the same tables as all of them.
 */
@Tag("integration")
class LauncherRunTest {
  private static final LocalDate DATE = LocalDate.of(2026, 3, 1);
  @TempDir
  static Path dir;
  private static Path catalog;
  private static Path allCores;
  private static String allCoresLog;

  @BeforeAll
  static void defaultRun() {
    catalog = dir.resolve("catalog");
    SparkTestSupport.spark().read().parquet("sample-data/catalog").orderBy("id").limit(1500)
        .write().parquet(catalog.toString());
    allCores = dir.resolve("all-cores");
    Launcher.Submission run = Launcher.start(dir.resolve("all-cores.log"), List.of("run", "jobs/similar-items.conf",
        "--set", "input.path=" + catalog, "--set", "output.path=" + allCores, "--set", "run.date=" + DATE), Map.of());
    assertThat(run.await(Duration.ofMinutes(5))).as(run.log()).isZero();
    allCoresLog = run.log();
  }

  /**
   * A scheduler's timeout sends SIGTERM: the run stops saying so (not with the error Spark raises once its
   * context is gone), publishes nothing, and the JVM exits with the signal's code and no crash file (its exit
   * hook used to free the ONNX Runtime session under a running encode call: SIGSEGV).
   */
  @Test
  void aRunStoppedBySigtermSaysSoPublishesNothingAndDoesNotCrash() throws Exception {
    Path out = dir.resolve("stopped");
    try (Launcher.Submission run = Launcher.start(dir.resolve("stopped.log"), List.of("run",
        "jobs/similar-items.conf", "--set", "input.path=" + catalog, "--set", "output.path=" + out,
        "--set", "run.date=" + DATE), Map.of())) {
      assertThat(run.awaitLog("Stage encode started", Duration.ofMinutes(3))).as(run.log()).isTrue();
      Thread.sleep(500);
      run.process().destroy();  // SIGTERM
      assertThat(run.await(Duration.ofMinutes(2))).as(run.log()).isEqualTo(143);
      assertThat(run.log()).contains("The run was stopped: the JVM is shutting down").doesNotContain("SIGSEGV")
          .doesNotContain("INTERNAL_ERROR");
      assertThat(Launcher.ROOT.resolve("hs_err_pid" + run.pid() + ".log")).doesNotExist();
    }
    assertThat(out.resolve("similar_items")).doesNotExist();
    try (var runs = Files.list(out.resolve(OutputLayout.RUNS))) {
      Path summary = runs.filter(p -> p.toString().endsWith(".json")).findFirst().orElseThrow();
      JsonNode json = new ObjectMapper().readTree(summary.toFile());
      assertThat(json.get("status").asText()).isEqualTo("failed");
      assertThat(json.get("error").asText()).startsWith("The run was stopped").endsWith("nothing was published");
      assertThat(json.get("published").asBoolean()).isFalse();
    }
  }

  @Test
  void aDefaultRunPrintsNoNoise() {
    assertThat(allCoresLog).contains("itemsim similar-items succeeded for run_date=" + DATE)
        .doesNotContainIgnoringCase("cuda")
        .doesNotContain("non-archive file")
        .doesNotContain("task of very large size")
        .doesNotContainIgnoringCase("JNIBLAS").doesNotContain("BLAS implementation")
        .doesNotContain("Failed to load implementation")
        .doesNotContain("NativeCodeLoader")
        .doesNotContain("\tat ");
    // the exact top-N ran on the OpenBLAS that ships in the jar: nothing installed on the machine was needed
    assertThat(SameTables.latestSummary(allCores).get("kernel").asText()).startsWith("native-blas(bundled-openblas ");
    List<String> warnings = allCoresLog.lines().filter(l -> l.contains(" WARN ") || l.startsWith("WARNING")).toList();
    // the one warning left is the JVM's own notice that the Vector API module is incubating (README, Speed)
    assertThat(warnings).allSatisfy(w -> assertThat(w).contains("Using incubator modules: jdk.incubator.vector"));
  }

  @Test
  void oneCoreWritesTheTablesOfAllCores() {
    SameTables.assertSameSimilarItems(allCores, sampleRunWith("one-core", "spark.master=local[1]"), DATE);
  }

  /**
   * Kryo, as many clusters configure Spark: the job installs its registrator, and writes the tables of the run
   * with Spark's default serializer (it used to fail on its first task: Kryo cannot write a Java record).
   */
  @Test
  void aRunSerializingWithKryoWritesTheTablesOfTheDefaultOne() {
    Path kryo = sampleRunWith("kryo", "spark.serializer=org.apache.spark.serializer.KryoSerializer");
    SameTables.assertSameSimilarItems(allCores, kryo, DATE);
  }

  /** The default run's job with one setting more, into {@code dir/name}; it must succeed without a stack trace. */
  private static Path sampleRunWith(String name, String setting) {
    Path out = dir.resolve(name);
    Launcher.Submission run = Launcher.start(dir.resolve(name + ".log"), List.of("run", "jobs/similar-items.conf",
        "--set", "input.path=" + catalog, "--set", "output.path=" + out, "--set", "run.date=" + DATE,
        "--set", setting), Map.of());
    assertThat(run.await(Duration.ofMinutes(5))).as(run.log()).isZero();
    assertThat(run.log()).doesNotContain("\tat ");
    return out;
  }
}
