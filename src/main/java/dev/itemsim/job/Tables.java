package dev.itemsim.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.itemsim.StrictReads;
import dev.itemsim.similarity.Ranking;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** How each output table is written: its columns, order and file count. */
final class Tables {
  /** {@code similar_items}: {@link Ranking#SCHEMA} plus the model that produced the lists. */
  static final StructType NEIGHBORS_SCHEMA = Ranking.SCHEMA.add("model", DataTypes.StringType, false);

  private static final long ROWS_PER_NEIGHBOR_FILE = 2_000_000;
  private static final long ITEMS_PER_EMBEDDING_FILE = 500_000;

  private Tables() {}

  /** {@code reason, item_id, record, source_file}, one file. */
  static void writeRejected(Dataset<Row> rejected, Path dir) {
    rejected.coalesce(1).write().parquet(dir.toString());
  }

  /**
   * {@code item_id, model, text_hash, embedding, text, encoder_fingerprint} in id order: the vectors and what a
   * later run needs to reuse them ({@link PreviousVectors}).
   */
  static void writeEmbeddings(Dataset<Row> items, long count, String model, String fingerprint, Path dir) {
    items.select(col("item_id"), lit(model).as("model"), col("text_hash"), col("embedding"), col("text"),
            lit(fingerprint).as(PreviousVectors.FINGERPRINT))
        .orderBy("item_id")
        .coalesce(files(count, ITEMS_PER_EMBEDDING_FILE))
        .write().parquet(dir.toString());
  }

  /**
   * Neighbour lists with their model; returns the rows written (read back from the files). Repartitioned, not
   * coalesced: rankings computed on the driver come as slices of rows inside tasks, which a coalesce would
   * merge into one large task.
   */
  static long writeNeighbors(Ranking ranking, long queries, String model, Path dir) {
    ranking.rows().withColumn("model", lit(model))
        .repartition(files(queries * 10, ROWS_PER_NEIGHBOR_FILE))
        .write().parquet(dir.toString());
    return StrictReads.parquet(ranking.rows().sparkSession(), dir.toString()).count();
  }

  /** {@code left_id, text, embedding} (and the users' {@code history}), in id order. */
  static void writeMatchLeft(Dataset<Row> queries, Path dir) {
    java.util.List<org.apache.spark.sql.Column> columns = new java.util.ArrayList<>(java.util.List.of(
        col("item_id").as("left_id"), col("text"), col("embedding")));
    if (java.util.Arrays.asList(queries.columns()).contains(dev.itemsim.similarity.UserProfiles.HISTORY)) {
      columns.add(col(dev.itemsim.similarity.UserProfiles.HISTORY));
    }
    queries.select(columns.toArray(org.apache.spark.sql.Column[]::new)).orderBy("left_id").coalesce(1)
        .write().parquet(dir.toString());
  }

  /** {@code left_id, rank, item_id, score}; returns the rows written (read back from the files). */
  static long writeMatches(Dataset<Row> matches, long queries, Path dir) {
    matches.coalesce(files(queries * 10, ROWS_PER_NEIGHBOR_FILE)).write().parquet(dir.toString());
    return StrictReads.parquet(matches.sparkSession(), dir.toString()).count();
  }

  /** {@code reason, left_id, record, source_file}, one file. */
  static void writeMatchRejected(Dataset<Row> rejected, Path dir) {
    rejected.select("reason", "left_id", "record", "source_file").coalesce(1).write().parquet(dir.toString());
  }

  private static int files(long rows, long perFile) {
    return (int) Math.max(1, Math.min(10_000, rows / perFile));
  }
}
