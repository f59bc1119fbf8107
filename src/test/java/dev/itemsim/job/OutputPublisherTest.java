package dev.itemsim.job;

import static dev.itemsim.job.OutputFixtures.content;
import static dev.itemsim.job.OutputFixtures.hadoop;
import static dev.itemsim.job.OutputFixtures.live;
import static dev.itemsim.job.OutputFixtures.local;
import static dev.itemsim.job.OutputFixtures.stagingFolders;
import static dev.itemsim.job.OutputFixtures.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputPublisherTest {
  private static final String MANIFEST_HEADER = "itemsim commit manifest v1\n";

  @TempDir
  Path root;

  private OutputLock lock;

  @BeforeEach
  void lock() throws Exception {
    lock = OutputLock.acquire(FileSystem.getLocal(new Configuration()), hadoop(root), "this-run");
  }

  @AfterEach
  void release() {
    lock.close();
  }

  @Test
  void replacesTablesOnlyOnCommit() throws Exception {
    table(root.resolve("similar_items/run_date=2026-01-01"), "old");
    OutputPublisher publisher = new OutputPublisher(lock);
    table(local(publisher.stage("similar_items/run_date=2026-01-01")), "new");
    table(local(publisher.stage("embeddings")), "new embeddings");
    assertThat(root.resolve("similar_items/run_date=2026-01-01/part-0.parquet")).hasContent("old");
    publisher.commit();
    assertThat(live(root)).isEqualTo(Map.of("similar_items/run_date=2026-01-01", content("new"),
        "embeddings", content("new embeddings")));
    assertThat(stagingFolders(root)).isEmpty();
  }

  /**
   * A rename the disk cannot do in one step (here: to another file system) moves nothing: Hadoop's local file
   * system would copy the table and delete the source instead, which, failing halfway (a permission), left the
   * live partition empty and its data in the run's folder.
   */
  @Test
  void aRenameThatCannotBeDoneInOneStepMovesNothing() throws Exception {
    Path shm = Path.of("/dev/shm");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm)
        && !Files.getFileStore(shm).equals(Files.getFileStore(root)), "/dev/shm is another file system here");
    Path source = Files.createTempDirectory(shm, "itemsim-publisher-test-");
    try {
      table(source.resolve("embeddings"), "staged");
      FileSystem fs = FileSystem.getLocal(new Configuration());

      assertThatThrownBy(() -> OutputPublisher.rename(fs, hadoop(source.resolve("embeddings")),
          hadoop(root.resolve("embeddings")))).isInstanceOf(java.io.IOException.class)
          .hasMessageContaining("nothing was moved");
      assertThat(source.resolve("embeddings/part-0.parquet")).hasContent("staged");
      assertThat(root.resolve("embeddings")).doesNotExist();
    } finally {
      dev.itemsim.TestFiles.deleteTreeIfExists(source);
    }
  }

  @Test
  void renamingOntoAnExistingTableIsRefused() throws Exception {
    table(root.resolve("a"), "first");
    table(root.resolve("b"), "second");
    FileSystem fs = FileSystem.getLocal(new Configuration());

    assertThatThrownBy(() -> OutputPublisher.rename(fs, hadoop(root.resolve("a")), hadoop(root.resolve("b"))))
        .hasMessageContaining("the target exists");
    assertThat(root.resolve("a/part-0.parquet")).hasContent("first");
    assertThat(root.resolve("b/part-0.parquet")).hasContent("second");
    assertThat(root.resolve("b/a")).doesNotExist();
  }

  @Test
  void abortLeavesTheLiveTableAlone() throws Exception {
    table(root.resolve("embeddings"), "old");
    OutputPublisher publisher = new OutputPublisher(lock);
    table(local(publisher.stage("embeddings")), "half-written");
    publisher.abort();
    assertThat(root.resolve("embeddings/part-0.parquet")).hasContent("old");
    assertThat(stagingFolders(root)).isEmpty();
  }

  @Test
  void commitOnlyPublishesOneTableAndDropsTheRest() throws Exception {
    table(root.resolve("embeddings"), "old embeddings");
    table(root.resolve("rejected/run_date=2026-01-02"), "old rejected");
    OutputPublisher publisher = new OutputPublisher(lock);
    table(local(publisher.stage("embeddings")), "new embeddings");
    table(local(publisher.stage("rejected/run_date=2026-01-02")), "new rejected");
    publisher.commitOnly("rejected/run_date=2026-01-02");
    assertThat(live(root)).isEqualTo(Map.of("embeddings", content("old embeddings"),
        "rejected/run_date=2026-01-02", content("new rejected")));
    assertThat(stagingFolders(root)).isEmpty();
    assertThatThrownBy(publisher::commit).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void recoverCompletesARunKilledAfterWritingItsManifest() throws Exception {
    // killed mid-commit: embeddings swapped in, rejected moved aside, similar_items not yet touched
    Path run = root.resolve("_staging/killed");
    Files.createDirectories(run);
    Files.writeString(run.resolve("_commit"), MANIFEST_HEADER
        + "embeddings\nrejected/run_date=2026-01-02\nsimilar_items/run_date=2026-01-02\nend\n");
    table(root.resolve("embeddings"), "new embeddings");
    table(run.resolve("_previous/embeddings"), "old embeddings");
    table(run.resolve("rejected/run_date=2026-01-02"), "new rejected");
    table(run.resolve("_previous/rejected/run_date=2026-01-02"), "old rejected");
    table(run.resolve("similar_items/run_date=2026-01-02"), "new similar");
    table(root.resolve("similar_items/run_date=2026-01-02"), "old similar");
    table(root.resolve("similar_items/run_date=2026-01-01"), "other day");

    OutputPublisher.recover(lock);

    assertThat(live(root)).isEqualTo(Map.of("embeddings", content("new embeddings"),
        "rejected/run_date=2026-01-02", content("new rejected"),
        "similar_items/run_date=2026-01-02", content("new similar"),
        "similar_items/run_date=2026-01-01", content("other day")));
    assertThat(stagingFolders(root)).isEmpty();
  }

  @Test
  void recoverDiscardsARunWithoutManifestAndLeavesTheLiveTablesAlone() throws Exception {
    table(root.resolve("embeddings"), "old embeddings");
    table(root.resolve("_staging/stopped/embeddings"), "new embeddings");
    table(root.resolve("_staging/stopped/similar_items/run_date=2026-01-02"), "new similar");
    Files.writeString(root.resolve("_staging/stopped/_commit.tmp"), "itemsim commit manifest v1\nembed");
    OutputPublisher.recover(lock);
    assertThat(live(root)).isEqualTo(Map.of("embeddings", content("old embeddings")));
    assertThat(stagingFolders(root)).isEmpty();
  }

  @Test
  void recoverRestoresATableMovedAsideByARunWithoutManifests() throws Exception {
    // as a version before commit manifests left it: the live partition moved aside, the staged one not yet in
    table(root.resolve("_staging/r3/_previous/similar_items/run_date=2026-01-02"), "previous");
    table(root.resolve("_staging/r3/similar_items/run_date=2026-01-02"), "staged");
    table(root.resolve("similar_items/run_date=2026-01-01"), "other day");
    OutputPublisher.recover(lock);
    assertThat(root.resolve("similar_items/run_date=2026-01-02/part-0.parquet")).hasContent("previous");
    assertThat(root.resolve("similar_items/run_date=2026-01-01/part-0.parquet")).hasContent("other day");
    assertThat(stagingFolders(root)).isEmpty();
  }

  @Test
  void recoverKeepsAPreviousTableItCannotPutInPlace() throws Exception {
    Path run = root.resolve("_staging/broken");
    Files.createDirectories(run);
    Files.writeString(run.resolve("_commit"), MANIFEST_HEADER + "embeddings\nend\n");
    table(run.resolve("_previous/embeddings"), "old embeddings");
    assertThatThrownBy(() -> OutputPublisher.recover(lock)).isInstanceOf(UncheckedIOException.class)
        .cause().hasMessageContaining("its previous version is in").hasMessageContaining("_previous/embeddings");
    assertThat(run.resolve("_previous/embeddings/part-0.parquet")).hasContent("old embeddings");
  }

  @Test
  void aFailedCleanUpStillPublishesAndTheNextRunFinishesIt() throws Exception {
    FaultyFileSystem fs = new FaultyFileSystem();
    lock.close();
    lock = OutputLock.acquire(fs, hadoop(root), "this-run");
    table(root.resolve("embeddings"), "old embeddings");
    OutputPublisher publisher = new OutputPublisher(lock);
    table(local(publisher.stage("embeddings")), "new embeddings");
    fs.failDeletes(true);
    publisher.commit();
    fs.heal();
    assertThat(live(root)).isEqualTo(Map.of("embeddings", content("new embeddings")));
    assertThat(stagingFolders(root)).containsExactly("this-run");
    OutputPublisher.recover(lock);
    assertThat(live(root)).isEqualTo(Map.of("embeddings", content("new embeddings")));
    assertThat(stagingFolders(root)).isEmpty();
  }

  @Test
  void commitRefusesOnceTheLockIsNoLongerThisRuns() throws Exception {
    table(root.resolve("embeddings"), "old embeddings");
    OutputPublisher publisher = new OutputPublisher(lock);
    table(local(publisher.stage("embeddings")), "new embeddings");
    Files.writeString(root.resolve(OutputLock.LOCK), "run_id=other\nhost=elsewhere\npid=1\nsince=now\n");
    assertThatThrownBy(publisher::commit).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no longer holds").hasMessageContaining("run other");
    publisher.abort();
    assertThat(live(root)).isEqualTo(Map.of("embeddings", content("old embeddings")));
  }

  @Test
  void recoverNeedsTheLock() {
    lock.close();
    assertThatThrownBy(() -> OutputPublisher.recover(lock)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("released");
  }

  @Test
  void stageRejectsPathsThatAreNotTables() {
    OutputPublisher publisher = new OutputPublisher(lock);
    for (String bad : new String[] {"", "_previous", "similar_items/_x", "../embeddings", "/embeddings", "a//b",
        "embeddings/"}) {
      assertThatThrownBy(() -> publisher.stage(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }
}
