package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs of the shipped job specs on the full sample catalogue, made once per test JVM and shared by the tests
 * that read them (under {@code target/sample-runs-*}).
 */
public final class SampleRuns {
  /** The run date every sample run writes. */
  public static final String RUN_DATE = "2026-03-01";
  private static Path root;
  private static Path similarItems;

  private SampleRuns() {}

  /** A fresh folder for one test's outputs. */
  public static synchronized Path folder(String name) {
    try {
      if (root == null) {
        Files.createDirectories(Path.of("target"));
        root = Files.createTempDirectory(Path.of("target"), "sample-runs-");
      }
      return Files.createTempDirectory(root, name + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The output path of {@code jobs/similar-items.conf} run on the full sample catalogue (hybrid scorer). */
  public static synchronized Path similarItems() {
    if (similarItems == null) {
      Path out = folder("similar-items").resolve("out");
      JobTestSupport.Result r = JobTestSupport.run(Path.of("jobs/similar-items.conf"), "output.path=" + out,
          "run.date=" + RUN_DATE);
      assertThat(r.exitCode()).as(r.err()).isZero();
      similarItems = out;
    }
    return similarItems;
  }
}
