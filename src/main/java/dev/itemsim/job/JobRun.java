package dev.itemsim.job;

import dev.itemsim.InvalidInputException;
import dev.itemsim.similarity.RecallBelowMinimumException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.function.Function;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The frame every job runs in: check that the output is not inside an input and can be written, take the
 * output lock ({@link OutputLock}: a second run on the same output refuses), repair what a killed run left,
 * stage this run's tables, let the job work and publish (the job calls
 * {@link OutputPublisher#commit()}), or on any failure drop the staged tables, keep the rejected rows of a
 * run stopped by the reject limit beside its summary, and always write the run summary to
 * {@code <output>/_runs/<name>.json} with status {@code succeeded} or {@code failed} and the cause in one line.
 */
final class JobRun {
  private static final Logger LOG = LoggerFactory.getLogger(JobRun.class);

  private JobRun() {}

  /**
   * @param inputs the paths the job reads, by configuration key (the output must not be one or inside one)
   * @throws InvalidInputException before any work when the output is inside an input, cannot be written, or
   *     is locked by another run
   */
  static <T> T execute(SparkSession spark, RunSummary summary, OutputLayout layout, String runId, String name,
      Map<String, String> inputs, Function<OutputPublisher, T> work) {
    Failures.watchShutdown();
    Failures.runStarted();  // a shutdown (SIGTERM) waits for this run to report how it ended
    try {
      return executeWatched(spark, summary, layout, runId, name, inputs, work);
    } finally {
      Failures.runEnded();
    }
  }

  private static <T> T executeWatched(SparkSession spark, RunSummary summary, OutputLayout layout, String runId,
      String name, Map<String, String> inputs, Function<OutputPublisher, T> work) {
    long start = System.nanoTime();
    OutputLock.requireOutsideInputs(spark.sparkContext().hadoopConfiguration(), layout.root(), inputs);
    FileSystem fs = fileSystem(spark, layout.path());
    // qualified on the driver (file:/abs/..., hdfs://nn/...): executors resolve relative paths against their
    // own working folder, which on a cluster is not the driver's
    Path root = fs.makeQualified(layout.path());
    OutputLock taken;
    try {
      taken = OutputLock.acquire(fs, root, runId);
    } catch (RuntimeException e) {
      // refused (another run holds the lock) or the output cannot be written: the summary says so if it can be
      // written, beside the other runs' summaries (its name is this run's own)
      RuntimeException failure = Failures.classify(e, false);
      summary.failed(Failures.oneLine(failure));
      try {
        writeSummary(summary, fs, layout, name, start, false, null);
      } catch (RuntimeException unwritten) {
        LOG.warn("Could not write the summary of refused run {}: {}", runId, unwritten.toString());
        failure.addSuppressed(unwritten);
      }
      throw failure;
    }
    try (OutputLock lock = taken; TaskMonitor monitor = TaskMonitor.watch(spark.sparkContext())) {
      OutputPublisher publisher = new OutputPublisher(lock);
      try {
        OutputPublisher.recover(lock);  // what a killed run left: a failure here is this run's, and summarised
        T result = work.apply(publisher);
        summary.succeeded();
        return result;
      } catch (Throwable e) {
        String invalid = monitor.invalidInput();
        RuntimeException failure = Failures.classify(invalid == null ? e : new InvalidInputException(invalid, e),
            publisher.published());
        if (failure instanceof RecallBelowMinimumException lowRecall && lowRecall.facts() != null) {
          summary.search(lowRecall.facts());
        }
        if (failure instanceof TooManyRejectsException rejects) {
          failure = keepRejects(fs, layout, name, rejects, summary);
        }
        publisher.abort();
        summary.failed(Failures.oneLine(failure));
        throw failure;
      } finally {
        writeSummary(summary, fs, layout, name, start, publisher.published(), monitor.activity());
        spark.sparkContext().clearJobGroup();
      }
    }
  }

  /** Completes the summary (published, total time, what Spark went through) and writes it under {@code _runs/}. */
  private static void writeSummary(RunSummary summary, FileSystem fs, OutputLayout layout, String name, long start,
      boolean published, RunSummary.SparkActivity activity) {
    summary.published(published);
    summary.stage("total", (System.nanoTime() - start) / 1_000_000);
    if (activity != null) {
      summary.sparkActivity(activity);
    }
    Path runFile = layout.resolve(OutputLayout.runSummary(name));
    summary.summaryPath(runFile.toString());
    summary.write(fs, runFile);
  }

  /** Moves the staged rejected rows of a stopped run beside its summary; says where in the message. */
  private static TooManyRejectsException keepRejects(FileSystem fs, OutputLayout layout, String name,
      TooManyRejectsException e, RunSummary summary) {
    Path kept = layout.resolve(OutputLayout.stoppedRunRejects(name));
    try {
      fs.mkdirs(kept.getParent());
      if (e.stagedRejects() != null && fs.exists(e.stagedRejects()) && fs.rename(e.stagedRejects(), kept)) {
        summary.rejectedPath(kept.toString());
        return new TooManyRejectsException(e.getMessage() + " Rejected rows: " + kept, null);
      }
    } catch (IOException io) {
      LOG.warn("Could not keep the rejected rows of the stopped run at {}: {}. Check that {} can be written; the "
          + "run summary still counts them by reason", kept, io.toString(), kept.getParent());
    }
    return e;
  }

  static FileSystem fileSystem(SparkSession spark, Path root) {
    try {
      return root.getFileSystem(spark.sparkContext().hadoopConfiguration());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot open file system of output.path = " + root, e);
    }
  }
}
