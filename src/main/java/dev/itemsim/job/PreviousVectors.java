package dev.itemsim.job;

import static org.apache.spark.sql.functions.col;

import dev.itemsim.StrictReads;
import dev.itemsim.embed.EncoderFingerprint;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A published embeddings table read as a cache of vectors — the one vector reuse of every job: the
 * similar-items job reads its own previous {@code embeddings/}, the match job {@code match.catalogEmbeddings}'s.
 * Its rows whose encoder fingerprint is the current one are keyed by item id and text hash (SHA-256 of the
 * text as encoded, prefix included), so a reused vector is exactly the one encoding would give. Reading it never fails a run: a table that is missing,
 * unreadable or of an older layout yields no vectors and a reason, and the run encodes everything.
 *
 * <p>Only live tables are read (a run's own staged tables live under {@code _staging/} and are never named
 * here), and only after {@link OutputPublisher#recover} has completed or discarded what killed runs left.
 */
final class PreviousVectors {
  private static final Logger LOG = LoggerFactory.getLogger(PreviousVectors.class);
  /** The column holding each vector's {@link EncoderFingerprint}. */
  static final String FINGERPRINT = "encoder_fingerprint";
  private static final Map<String, DataType> REQUIRED = Map.of("item_id", DataTypes.StringType, "text_hash",
      DataTypes.StringType, "embedding", DataTypes.createArrayType(DataTypes.FloatType), FINGERPRINT,
      DataTypes.StringType);

  /** Where a catalogue's earlier vectors may be: an embeddings table, or nowhere and why. */
  record Source(String table, String whyNone) {
    static Source none(String why) {
      return new Source(null, why);
    }

    static Source at(String table) {
      return new Source(table, null);
    }
  }

  /**
   * What the table offers.
   *
   * @param vectors {@code item_id, text_hash, embedding} of the rows with the current fingerprint, persisted
   *     (null when none can be used)
   * @param ids every item id of the table (null when the table could not be read)
   * @param whyNone why no vector can be reused, or null
   */
  record Found(Dataset<Row> vectors, Dataset<Row> ids, String whyNone) {
    void release() {
      if (vectors != null) {
        vectors.unpersist();
      }
    }
  }

  private PreviousVectors() {}

  static Found read(SparkSession spark, Source source, EncoderFingerprint fingerprint) {
    if (source.table() == null) {
      return new Found(null, null, source.whyNone());
    }
    Path table = new Path(source.table());
    try {
      FileSystem fs = table.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(table)) {
        // a first run on this output: expected, so not a warning
        String why = "no previous embeddings table (" + table + ")";
        LOG.info("Encoding every item: {}", why);
        return new Found(null, null, why);
      }
    } catch (java.io.IOException e) {
      return none(null, "cannot look for the previous embeddings table " + table + ": " + e.getMessage());
    }
    Dataset<Row> all;
    Dataset<Row> matching;
    try {
      all = StrictReads.parquet(spark, table.toString());
      String problem = layoutProblem(all);
      if (problem != null) {
        return none(null, "the previous embeddings table " + table + " " + problem);
      }
      matching = all.filter(col(FINGERPRINT).equalTo(fingerprint.value()))
          .select("item_id", "text_hash", "embedding").persist(StorageLevel.MEMORY_AND_DISK());
    } catch (Exception e) {  // an empty folder: Spark's AnalysisException, checked for Java yet undeclared
      return none(null, "the previous embeddings table " + table + " is unreadable: " + Failures.oneLine(e));
    }
    try {
      long usable = matching.count();
      if (usable == 0) {
        List<String> others = all.select(FINGERPRINT).distinct().limit(3).as(org.apache.spark.sql.Encoders.STRING())
            .collectAsList();
        matching.unpersist();
        return none(all.select("item_id"), others.isEmpty() ? "the previous embeddings table is empty"
            : "the encoder changed: the stored vectors were made by another encoder (" + String.join(", ", others)
                + "), this run uses "
                + fingerprint.value() + " (" + fingerprint.description() + ")");
      }
      LOG.info("{} vectors of {} can be reused (encoder {})", usable, table, fingerprint.value());
      return new Found(matching, all.select("item_id"), null);
    } catch (Throwable e) {  // Spark reports a corrupt file as an undeclared checked exception
      matching.unpersist();
      return none(null, "the previous embeddings table " + table + " is unreadable: " + Failures.oneLine(e));
    }
  }

  private static Found none(Dataset<Row> ids, String why) {
    LOG.warn("Encoding every item: {}", why);
    return new Found(null, ids, why);
  }

  /** What keeps a table from being a vector cache of this layout, or null. */
  private static String layoutProblem(Dataset<Row> table) {
    Map<String, DataType> types = Arrays.stream(table.schema().fields())
        .collect(Collectors.toMap(StructField::name, StructField::dataType, (a, b) -> a));
    for (Map.Entry<String, DataType> want : REQUIRED.entrySet()) {
      DataType got = types.get(want.getKey());
      if (got == null) {
        return "has no column " + want.getKey() + (want.getKey().equals(FINGERPRINT)
            ? " (written by an itemsim before output layout " + NeighborState.LAYOUT_VERSION + ")" : "");
      }
      boolean same = want.getValue() instanceof ArrayType w && got instanceof ArrayType g
          ? w.elementType().equals(g.elementType()) : want.getValue().equals(got);
      if (!same) {
        return "has column " + want.getKey() + " of type " + got.simpleString() + ", expected "
            + want.getValue().simpleString();
      }
    }
    return null;
  }
}
