package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a run's summary says when it fails: before its commit or after it, refused by the lock, or unable to recover
 * what a killed run left.
 */
class JobRunTest {
  @TempDir
  Path dir;

  @Test
  void aRunFailingAfterItsCommitSaysItsTablesArePublished() throws Exception {
    JsonNode summary = run("after", publisher -> {
      stageTable(publisher, "similar_items");
      publisher.commit();
      throw new IllegalStateException("cleaning up after the commit failed");
    });
    assertThat(summary.get("status").asText()).isEqualTo("failed");
    assertThat(summary.get("published").asBoolean()).isTrue();
    assertThat(dir.resolve("after/similar_items/part-0")).hasContent("rows");
  }

  @Test
  void aRunFailingBeforeItsCommitPublishesNothingAndSaysSo() throws Exception {
    JsonNode summary = run("before", publisher -> {
      stageTable(publisher, "similar_items");
      throw new IllegalStateException("the search failed");
    });
    assertThat(summary.get("status").asText()).isEqualTo("failed");
    assertThat(summary.get("published").asBoolean()).isFalse();
    assertThat(dir.resolve("before/similar_items")).doesNotExist();
  }

  @Test
  void aRunThatSucceedsSaysItsTablesArePublished() throws Exception {
    JsonNode summary = run("done", publisher -> {
      stageTable(publisher, "similar_items");
      publisher.commit();
      return null;
    });
    assertThat(summary.get("status").asText()).isEqualTo("succeeded");
    assertThat(summary.get("published").asBoolean()).isTrue();
  }

  @Test
  void aRunRefusedByTheLockSaysWhoHoldsItInItsSummary() throws Exception {
    OutputLayout layout = new OutputLayout(dir.resolve("locked").toString());
    org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(dir.resolve("locked").toUri());
    try (OutputLock holder = OutputLock.acquire(org.apache.hadoop.fs.FileSystem.getLocal(
        new org.apache.hadoop.conf.Configuration()), root, "run-holder")) {
      assertThatThrownBy(() -> JobRun.execute(SparkTestSupport.spark(), summary(layout, "locked"), layout,
          "run-locked", "run", Map.of(), publisher -> {
            throw new AssertionError("a refused run must not work");
          })).isInstanceOf(OutputLockedException.class).hasMessageContaining("run-holder");
    }
    JsonNode summary = readSummary("locked");
    assertThat(summary.get("status").asText()).isEqualTo("failed");
    assertThat(summary.get("error").asText()).contains("is in use by").contains("run-holder");
    assertThat(summary.get("published").asBoolean()).isFalse();
  }

  @Test
  void aRunWhoseRecoveryOfAKilledRunFailsSaysSoInItsSummary() throws Exception {
    Path staging = dir.resolve("recovery").resolve(OutputLayout.STAGING).resolve("run-killed");
    Files.createDirectories(staging);
    Files.writeString(staging.resolve(OutputPublisher.MANIFEST), "not a manifest");
    OutputLayout layout = new OutputLayout(dir.resolve("recovery").toString());
    assertThatThrownBy(() -> JobRun.execute(SparkTestSupport.spark(), summary(layout, "recovery"), layout,
        "run-recovery", "run", Map.of(), publisher -> {
          throw new AssertionError("a run that cannot recover must not work");
        })).hasMessageContaining("Cannot recover outputs");
    JsonNode summary = readSummary("recovery");
    assertThat(summary.get("status").asText()).isEqualTo("failed");
    assertThat(summary.get("error").asText()).contains("Unreadable commit manifest");
    assertThat(summary.get("published").asBoolean()).isFalse();
    assertThat(staging.resolve(OutputPublisher.MANIFEST)).exists();  // left as it was, for a person to look at
  }

  private RunSummary summary(OutputLayout layout, String name) {
    return new RunSummary(new RunSummary.Header("test", "run-" + name, "2026-01-01", null, null, null,
        layout.root(), null, null, null, null));
  }

  private JsonNode readSummary(String name) throws Exception {
    Path file = dir.resolve(name).resolve(OutputLayout.runSummary("run"));
    assertThat(file).exists();
    return new ObjectMapper().readTree(Files.readString(file));
  }

  private JsonNode run(String name, Function<OutputPublisher, Object> work) throws Exception {
    OutputLayout layout = new OutputLayout(dir.resolve(name).toString());
    try {
      JobRun.execute(SparkTestSupport.spark(), summary(layout, name), layout, "run-" + name, "run", Map.of(), work);
    } catch (IllegalStateException expected) {
      assertThat(expected).hasMessageContaining("failed");
    }
    return readSummary(name);
  }

  private static void stageTable(OutputPublisher publisher, String table) {
    try {
      Path staged = Path.of(publisher.stage(table).toUri().getPath());
      Files.createDirectories(staged);
      Files.writeString(staged.resolve("part-0"), "rows");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
