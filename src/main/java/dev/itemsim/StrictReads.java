package dev.itemsim;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Reading Parquet without skipping any file: with {@code spark.sql.files.ignoreCorruptFiles} or
 * {@code ignoreMissingFiles} set to true (some clusters set them for their ETL), Spark skips a corrupt or vanished
 * file with a log line, and its rows with it. itemsim reads every catalogue, previous state and table of its own
 * with both options off, so such a file fails the run naming it instead.
 */
public final class StrictReads {
  private StrictReads() {}

  /** The Parquet files at {@code paths}, every one of them read or the read failing. */
  public static Dataset<Row> parquet(SparkSession spark, String... paths) {
    return spark.read().option("ignoreCorruptFiles", "false").option("ignoreMissingFiles", "false").parquet(paths);
  }
}
