package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputPublisherTest {
  @TempDir
  Path root;

  private FileSystem fs() throws Exception {
    return FileSystem.getLocal(new Configuration());
  }

  private static void table(Path dir, String content) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("part-0.parquet"), content);
  }

  @Test
  void replacesTablesOnlyOnCommit() throws Exception {
    table(root.resolve("similar_items/run_date=2026-01-01"), "old");
    OutputPublisher publisher = new OutputPublisher(fs(), new org.apache.hadoop.fs.Path(root.toString()), "r1");
    org.apache.hadoop.fs.Path staged = publisher.stage("similar_items/run_date=2026-01-01");
    table(Path.of(staged.toUri().getPath()), "new");
    assertThat(root.resolve("similar_items/run_date=2026-01-01/part-0.parquet")).hasContent("old");
    publisher.commit();
    assertThat(root.resolve("similar_items/run_date=2026-01-01/part-0.parquet")).hasContent("new");
    assertThat(root.resolve("_staging/r1")).doesNotExist();
  }

  @Test
  void abortLeavesTheLiveTableAlone() throws Exception {
    table(root.resolve("embeddings"), "old");
    OutputPublisher publisher = new OutputPublisher(fs(), new org.apache.hadoop.fs.Path(root.toString()), "r2");
    table(Path.of(publisher.stage("embeddings").toUri().getPath()), "half-written");
    publisher.abort();
    assertThat(root.resolve("embeddings/part-0.parquet")).hasContent("old");
    assertThat(root.resolve("_staging/r2")).doesNotExist();
  }

  @Test
  void recoverRestoresATableMovedAsideByARunKilledMidCommit() throws Exception {
    // state after "live moved aside" and before "staged renamed in": the live partition is missing
    table(root.resolve("_staging/r3/_previous/similar_items/run_date=2026-01-02"), "previous");
    table(root.resolve("_staging/r3/similar_items/run_date=2026-01-02"), "staged");
    table(root.resolve("similar_items/run_date=2026-01-01"), "other day");
    OutputPublisher.recover(fs(), new org.apache.hadoop.fs.Path(root.toString()));
    assertThat(root.resolve("similar_items/run_date=2026-01-02/part-0.parquet")).hasContent("previous");
    assertThat(root.resolve("similar_items/run_date=2026-01-01/part-0.parquet")).hasContent("other day");
    assertThat(root.resolve("_staging/r3")).doesNotExist();
  }
}
