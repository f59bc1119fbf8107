package dev.itemsim.cli;

import dev.itemsim.InvalidInputException;
import dev.itemsim.job.OutputLayout;
import dev.itemsim.report.EvaluationOutput;
import dev.itemsim.report.RunOutput;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/** Finds a published run under an output path: which job wrote it, which run date, where its tables are. */
final class RunOutputs {
  private RunOutputs() {}

  /**
   * The run of {@code kind} ({@code similar-items} or {@code match}; null = whichever table exists, the
   * similar-items one when both do) on {@code runDate} (null = the latest).
   *
   * @throws InvalidInputException when the output holds no such table or partition
   */
  static RunOutput find(SparkSession spark, String output, String kind, String runDate) {
    OutputLayout layout = new OutputLayout(output);
    FileSystem fs = fileSystem(spark, layout.path());
    boolean similar = exists(fs, layout.resolve(OutputLayout.SIMILAR_ITEMS));
    boolean match = exists(fs, layout.resolve(OutputLayout.MATCHES));
    String chosen = kind != null ? kind : similar ? RunOutput.SIMILAR_ITEMS : match ? RunOutput.MATCH : null;
    if (chosen == null) {
      throw new InvalidInputException("No similar_items or matches table under --output " + output);
    }
    if (!chosen.equals(RunOutput.SIMILAR_ITEMS) && !chosen.equals(RunOutput.MATCH)) {
      throw new InvalidInputException("--kind " + kind + " is not one of similar-items, match");
    }
    boolean isMatch = chosen.equals(RunOutput.MATCH);
    Path table = layout.resolve(isMatch ? OutputLayout.MATCHES : OutputLayout.SIMILAR_ITEMS);
    if (!exists(fs, table)) {
      throw new InvalidInputException("No " + table.getName() + " table under --output " + output);
    }
    String date = runDate != null ? runDate : latestPartition(fs, table);
    LocalDate parsed;
    try {
      parsed = LocalDate.parse(date);
    } catch (java.time.format.DateTimeParseException e) {
      throw new InvalidInputException("--run-date " + date + " is not a date of the form YYYY-MM-DD");
    }
    if (!exists(fs, new Path(table, "run_date=" + date))) {
      throw new InvalidInputException("No partition run_date=" + date + " under " + table);
    }
    String runs = layout.resolve(OutputLayout.RUNS).toString();
    if (isMatch) {
      return new RunOutput(chosen, output, date, layout.resolve(OutputLayout.matches(parsed)).toString(),
          layout.resolve(OutputLayout.matchLeft(parsed)).toString(), layout.resolve(OutputLayout.EMBEDDINGS).toString(),
          runs, layout.resolve(OutputLayout.matchRejected(parsed)).toString());
    }
    Path against = layout.resolve(OutputLayout.EMBEDDINGS_AGAINST);
    return new RunOutput(chosen, output, date, layout.similarItemsPath(parsed),
        layout.resolve(OutputLayout.EMBEDDINGS).toString(), exists(fs, against) ? against.toString() : null, runs,
        layout.resolve(OutputLayout.rejected(parsed)).toString());
  }

  /** Fails unless {@code output} (given as {@code --evaluation}) holds a published evaluation. */
  static void requireEvaluation(SparkSession spark, String output) {
    OutputLayout layout = new OutputLayout(output);
    if (!exists(fileSystem(spark, layout.path()), layout.resolve(OutputLayout.EVALUATION))) {
      throw new InvalidInputException("No evaluation under --evaluation " + output + " (the output.path of an "
          + "evaluate run)");
    }
  }

  /** The evaluations under each of {@code outputs} that have evaluate run summaries. */
  static List<EvaluationOutput> evaluations(SparkSession spark, List<String> outputs) {
    List<EvaluationOutput> out = new ArrayList<>();
    for (String output : outputs) {
      OutputLayout layout = new OutputLayout(output);
      out.add(new EvaluationOutput(output, layout.resolve(OutputLayout.RUNS).toString(),
          layout.resolve(OutputLayout.evaluation(OutputLayout.MISSES)).toString()));
    }
    return out;
  }

  private static String latestPartition(FileSystem fs, Path table) {
    String date = null;
    try {
      for (FileStatus s : fs.listStatus(table)) {
        String name = s.getPath().getName();
        if (s.isDirectory() && name.startsWith("run_date=")) {
          String d = name.substring("run_date=".length());
          date = date == null || d.compareTo(date) > 0 ? d : date;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + table, e);
    }
    if (date == null) {
      throw new InvalidInputException("No run_date partitions under " + table);
    }
    return date;
  }

  private static boolean exists(FileSystem fs, Path p) {
    try {
      return fs.exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + p, e);
    }
  }

  private static FileSystem fileSystem(SparkSession spark, Path p) {
    try {
      return p.getFileSystem(spark.sparkContext().hadoopConfiguration());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot open the file system of " + p, e);
    }
  }
}
