package dev.itemsim.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Function;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * The frame every job runs in: take the output path's lock (which fails up front, exit 2, when the path cannot
 * be written or another run holds it), repair outputs left by a killed run, stage this run's outputs, let the job
 * work, publish (the job calls {@link OutputPublisher#commit()}) or drop the staged outputs on failure, and
 * always write the run summary to {@code <output>/_runs/<summaryName>.json} before releasing the lock.
 */
final class JobRun {
  private JobRun() {}

  static RunSummary execute(SparkSession spark, RunSummary summary, String outputPath, String runId,
      String summaryName, Function<OutputPublisher, RunSummary> work) {
    long start = System.nanoTime();
    Path root = new Path(outputPath);
    FileSystem fs = fileSystem(spark, root);
    try (OutputLock lock = OutputLock.acquire(fs, root, runId)) {
      OutputPublisher.recover(lock);
      OutputPublisher publisher = new OutputPublisher(lock);
      try {
        RunSummary result = work.apply(publisher);
        summary.put("status", "succeeded");
        return result;
      } catch (RuntimeException e) {
        publisher.abort();
        summary.put("status", "failed").put("error", String.valueOf(e.getMessage()));
        throw e;
      } finally {
        summary.stage("total", (System.nanoTime() - start) / 1_000_000);
        Path runFile = new Path(new Path(root, "_runs"), summaryName + ".json");
        summary.put("summary_path", runFile.toString());
        summary.write(fs, runFile);
        spark.sparkContext().clearJobGroup();
      }
    }
  }

  static FileSystem fileSystem(SparkSession spark, Path root) {
    try {
      return root.getFileSystem(spark.sparkContext().hadoopConfiguration());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot open file system of output.path = " + root, e);
    }
  }
}
