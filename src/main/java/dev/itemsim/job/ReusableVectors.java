package dev.itemsim.job;

import static org.apache.spark.sql.functions.col;

import java.io.IOException;
import java.util.Arrays;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The vectors another run published that this run may use instead of encoding: the {@code embeddings/} table
 * under an output path, restricted to rows stored with this run's encoder fingerprint. A row is then reused
 * for an item with the same id and the same text hash (SHA-256 of the text as encoded, prefix included),
 * which is exactly the vector encoding would give.
 *
 * @param vectors {@code item_id, text_hash, embedding} with the wanted fingerprint, or null when none can be
 *     used
 * @param reason why none can be used ("" when {@code vectors} is set), for the log and the run summary
 */
record ReusableVectors(Dataset<Row> vectors, String reason) {
  /** The column of {@code embeddings/} that holds the fingerprint of the encoder that made each vector. */
  static final String FINGERPRINT_COLUMN = "encoder_fingerprint";

  /** The vectors of {@code output}'s {@code embeddings/} made with {@code fingerprint}. */
  static ReusableVectors under(SparkSession spark, String output, String fingerprint) {
    Path table = new OutputLayout(output).resolve(OutputLayout.EMBEDDINGS);
    try {
      if (!table.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(table)) {
        return none("no embeddings table at " + table);
      }
    } catch (IOException e) {
      return none("cannot read " + table + ": " + e.getMessage());
    }
    Dataset<Row> stored;
    try {
      stored = spark.read().parquet(table.toString());
    } catch (RuntimeException e) {
      return none("cannot read " + table + ": " + e.getMessage());
    }
    if (!Arrays.asList(stored.columns()).contains(FINGERPRINT_COLUMN)) {
      return none(table + " does not record the encoder fingerprint (written by an older itemsim)");
    }
    Dataset<Row> matching = stored.filter(col(FINGERPRINT_COLUMN).equalTo(fingerprint))
        .select("item_id", "text_hash", "embedding");
    if (matching.isEmpty()) {
      return none("the vectors in " + table + " were made by another encoder (model or settings differ)");
    }
    return new ReusableVectors(matching, "");
  }

  static ReusableVectors none(String reason) {
    return new ReusableVectors(null, reason);
  }

  boolean usable() {
    return vectors != null;
  }
}
