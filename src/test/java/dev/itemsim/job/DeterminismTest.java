package dev.itemsim.job;

import static dev.itemsim.job.JobTestSupport.catalog;
import static dev.itemsim.job.JobTestSupport.run;
import static dev.itemsim.job.JobTestSupport.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same input gives identical {@code similar_items} rows and embeddings, bit for bit, across runs and however
 * the work is partitioned: encode partitions and shuffle partitions here; cores (local[1] vs local[*]) in
 * {@link LauncherRunTest}; local vs cluster mode in {@link ClusterJobTest}.
 */
class DeterminismTest {
  private static final LocalDate DATE = LocalDate.of(2026, 3, 1);
  @TempDir
  static Path dir;
  private static Path catalog;
  private static Path reference;

  @BeforeAll
  static void referenceRun() throws Exception {
    catalog = catalog(dir, "catalog", 300, List.of());
    reference = dir.resolve("reference");
    JobTestSupport.Result result = run(spec(dir, catalog, reference), "encoder.partitions=2");
    assertThat(result.exitCode()).as(result.err()).isZero();
  }

  @Test
  void encodePartitionsDoNotChangeTheTables() throws Exception {
    for (int partitions : new int[] {1, 5}) {
      Path out = dir.resolve("partitions-" + partitions);
      JobTestSupport.Result result = run(spec(dir, catalog, out), "encoder.partitions=" + partitions,
          "encoder.sortWindow=64");
      assertThat(result.exitCode()).as(result.err()).isZero();
      SameTables.assertSameSimilarItems(reference, out, DATE);
    }
  }

  @Test
  void shufflePartitionsDoNotChangeTheTables() throws Exception {
    var conf = SparkTestSupport.spark().conf();
    String before = conf.get("spark.sql.shuffle.partitions");
    try {
      Path out = dir.resolve("shuffle-3");
      JobTestSupport.Result result = run(spec(dir, catalog, out), "encoder.partitions=2",
          "spark.sql.shuffle.partitions=3");
      assertThat(result.exitCode()).as(result.err()).isZero();
      SameTables.assertSameSimilarItems(reference, out, DATE);
    } finally {
      conf.set("spark.sql.shuffle.partitions", before);
    }
  }

  @Test
  void aSecondRunIsIdentical() throws Exception {
    Path out = dir.resolve("again");
    JobTestSupport.Result result = run(spec(dir, catalog, out), "encoder.partitions=2");
    assertThat(result.exitCode()).as(result.err()).isZero();
    SameTables.assertSameSimilarItems(reference, out, DATE);
  }
}
