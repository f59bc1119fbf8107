package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a run's summary says of its tables when it fails: before its commit, or after it. */
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

  private JsonNode run(String name, Function<OutputPublisher, Object> work) throws Exception {
    OutputLayout layout = new OutputLayout(dir.resolve(name).toString());
    RunSummary summary = new RunSummary(new RunSummary.Header("test", "run-" + name, "2026-01-01", null, null, null,
        layout.root(), null, null, null, null));
    try {
      JobRun.execute(SparkTestSupport.spark(), summary, layout, "run-" + name, "run", Map.of(), work);
    } catch (IllegalStateException expected) {
      assertThat(expected).hasMessageContaining("failed");
    }
    Path file = dir.resolve(name).resolve(OutputLayout.runSummary("run"));
    assertThat(file).exists();
    return new ObjectMapper().readTree(Files.readString(file));
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
