package dev.itemsim.job;

import static dev.itemsim.job.OutputFixtures.content;
import static dev.itemsim.job.OutputFixtures.hadoop;
import static dev.itemsim.job.OutputFixtures.live;
import static dev.itemsim.job.OutputFixtures.local;
import static dev.itemsim.job.OutputFixtures.stagingFolders;
import static dev.itemsim.job.OutputFixtures.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.job.FaultyFileSystem.Fault;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fails each rename of a commit in turn (an error, or a kill) and checks that readers find the complete previous
 * set of tables or the complete new set, after the next run's recovery at the latest, and that no previous
 * table is ever lost.
 */
class OutputPublisherFaultTest {
  private static final String DATE = "2026-01-02";
  private static final String EMBEDDINGS = "embeddings";
  private static final String REJECTED = "rejected/run_date=" + DATE;
  private static final String SIMILAR = "similar_items/run_date=" + DATE;
  private static final List<String> TABLES = List.of(EMBEDDINGS, REJECTED, SIMILAR);
  private static final String OTHER_DAY = "similar_items/run_date=2026-01-01";

  @TempDir
  Path dir;

  /** The tables earlier runs left. */
  enum Before {
    RERUN_OF_THE_DAY(TABLES), NEXT_DAY(List.of(EMBEDDINGS, OTHER_DAY)), FIRST_RUN(List.of());

    final List<String> tables;

    Before(List<String> tables) {
      this.tables = tables;
    }
  }

  enum Publish { COMMIT, COMMIT_ONLY_REJECTED }

  static Stream<Arguments> cases() {
    return Stream.of(Before.values()).flatMap(b -> Stream.of(Publish.values()).flatMap(p -> Stream.of(Fault.values())
        .map(f -> Arguments.of(b, p, f))));
  }

  @ParameterizedTest(name = "{0}, {1}, {2}")
  @MethodSource("cases")
  void eachFailingRenameLeavesTheCompletePreviousOrNewSet(Before before, Publish publish, Fault fault)
      throws Exception {
    List<String> published = publish == Publish.COMMIT ? TABLES : List.of(REJECTED);
    Map<String, String> previousSet = new TreeMap<>();
    before.tables.forEach(t -> previousSet.put(t, content("old " + t)));
    Map<String, String> newSet = new TreeMap<>(previousSet);
    published.forEach(t -> newSet.put(t, content("new " + t)));
    int renames = 1 + published.stream().mapToInt(t -> before.tables.contains(t) ? 2 : 1).sum();

    for (int k = 1; ; k++) {
      Path root = dir.resolve(before + "-" + publish + "-" + fault + "-" + k);
      for (String t : before.tables) {
        table(root.resolve(t), "old " + t);
      }
      String runId = "run-" + k;
      FaultyFileSystem fs = new FaultyFileSystem();
      boolean killed = false;
      boolean threw = false;
      try (OutputLock lock = OutputLock.acquire(fs, hadoop(root), runId)) {
        OutputPublisher publisher = new OutputPublisher(lock);
        for (String t : TABLES) {
          table(local(publisher.stage(t)), "new " + t);
        }
        fs.failRename(k, fault);
        try {
          if (publish == Publish.COMMIT) {
            publisher.commit();
          } else {
            publisher.commitOnly(REJECTED);
          }
        } catch (FaultyFileSystem.Killed e) {
          killed = true; // nothing of the killed run runs any more; its lock is broken by the next (OutputLockTest)
        } catch (RuntimeException e) {
          threw = true;
          publisher.abort(); // as JobRun does
        }
        fs.heal();
      }

      if (!fs.fired()) {
        assertThat(k - 1).as("renames of a commit").isEqualTo(renames);
        assertThat(killed || threw).isFalse();
        assertThat(live(root)).isEqualTo(newSet);
        assertThat(stagingFolders(root)).isEmpty();
        return;
      }
      String at = "fault at rename " + k + " of " + renames;
      boolean killMode = fault == Fault.KILL_BEFORE || fault == Fault.KILL_AFTER;
      assertThat(killMode ? killed : threw).as(at).isTrue();
      Path runFolder = root.resolve(OutputPublisher.STAGING).resolve(runId);
      boolean decided = Files.exists(runFolder.resolve(OutputPublisher.MANIFEST));
      for (String t : before.tables) {
        assertThat(Stream.of(root.resolve(t), runFolder.resolve(OutputPublisher.PREVIOUS).resolve(t))
            .anyMatch(p -> Files.exists(p.resolve("part-0.parquet")) && read(p).equals("old " + t)))
            .as(at + ": the previous " + t + " is live or kept aside").isTrue();
      }
      switch (fault) {
        case THROW_BEFORE, THROW_AFTER -> {
          assertThat(live(root)).as(at + ": rolled back").isEqualTo(previousSet);
          assertThat(stagingFolders(root)).as(at).isEmpty();
        }
        case KILL_BEFORE, KILL_AFTER ->
            assertThat(decided).as(at + ": decided once the manifest is in place").isEqualTo(k > 1 || fault == Fault.KILL_AFTER);
        case THROW_FROM_THEN_ON -> {
          // the rollback may fail too; then the commit stays decided and the next run completes it
        }
      }

      try (OutputLock next = OutputLock.acquire(FileSystem.getLocal(new Configuration()), hadoop(root), "next-" + k)) {
        OutputPublisher.recover(next);
      }
      assertThat(live(root)).as(at + ", after the next run's recovery").isEqualTo(decided ? newSet : previousSet);
      assertThat(stagingFolders(root)).as(at).isEmpty();
    }
  }

  private static String read(Path table) {
    try {
      return Files.readString(table.resolve("part-0.parquet"));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
