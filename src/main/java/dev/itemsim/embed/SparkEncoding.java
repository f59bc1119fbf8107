package dev.itemsim.embed;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * The Spark encode stage: {@code (item_id, text)} rows in, {@code (item_id, text, text_hash, embedding)} out.
 *
 * <p>Work is partition-wise ({@link EncodeRows}): each task takes the executor's shared encoder
 * ({@link SharedEncoders}), reads its partition in chunks of {@code sortWindow} rows, and lets the encoder
 * length-sort and batch each chunk, so sorting pays off across the whole partition rather than per batch.
 * Row order within a partition is kept.
 */
public final class SparkEncoding {
  public static final StructType OUTPUT_SCHEMA = new StructType()
      .add("item_id", DataTypes.StringType, false)
      .add("text", DataTypes.StringType, false)
      .add("text_hash", DataTypes.StringType, false)
      .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false);

  private SparkEncoding() {}

  /**
   * Encodes {@code items} (columns {@code item_id}, {@code text}, neither null) into {@code partitions}
   * partitions. {@code tokens} (may be null) receives the number of real tokens encoded.
   */
  public static Dataset<Row> encode(SparkSession spark, Dataset<Row> items, EncoderSettings settings,
      int partitions, int sortWindow, LongAccumulator tokens) {
    return encode(spark, items, settings, partitions, sortWindow, tokens, null);
  }

  /**
   * As {@link #encode(SparkSession, Dataset, EncoderSettings, int, int, LongAccumulator)}; {@code usage} (may be
   * null) receives where each task encoded.
   *
   * <p>Rows go to partitions by a hash of their id and are sorted by id within each, so every partition, sort
   * window and batch holds the same texts on every run and every retry: a partition recomputed after a lost
   * executor, or by a speculative copy, reproduces the same vectors.
   */
  public static Dataset<Row> encode(SparkSession spark, Dataset<Row> items, EncoderSettings settings,
      int partitions, int sortWindow, LongAccumulator tokens, EncoderUsage usage) {
    var rows = items.select("item_id", "text")
        .repartition(partitions, org.apache.spark.sql.functions.col("item_id"))
        .sortWithinPartitions("item_id")
        .javaRDD()
        .mapPartitions(new EncodeRows(settings, sortWindow, 1, tokens, EncodeRows.Output.HASH_AND_ARRAY, usage));
    return spark.createDataFrame(rows, OUTPUT_SCHEMA);
  }

  /**
   * Partitions for the encode stage: {@code configured} when positive, else one per core of the cluster
   * (Spark's default parallelism). Rows are spread round-robin, so partitions carry similar token counts,
   * and larger partitions sort more texts together.
   */
  public static int partitions(SparkSession spark, int configured) {
    return configured > 0 ? configured : Math.max(1, spark.sparkContext().defaultParallelism());
  }

  /** SHA-256 of the UTF-8 text, hex: lets later runs reuse an embedding when the text has not changed. */
  public static String textHash(String text) {
    try {
      return HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Appends the embedding of column {@code textIndex} to every row of a partition, in chunks of
   * {@code sortWindow} rows through the JVM's shared encoder; rows keep their order. A null text gets a null
   * embedding. At most {@code sortWindow} rows of the partition are held at a time, whatever its size. The
   * encoder runs on the GPU Spark assigned to the task, if any ({@link TaskGpu}).
   *
   * @param output what is appended: the text hash and an {@code array<float>}, only the array, or an ML
   *     {@code DenseVector}
   * @param usage receives each task's JVM, model load and device (may be null)
   */
  public record EncodeRows(EncoderSettings settings, int sortWindow, int textIndex, LongAccumulator tokens,
      Output output, EncoderUsage usage) implements FlatMapFunction<Iterator<Row>, Row> {

    public EncodeRows(EncoderSettings settings, int sortWindow, int textIndex, LongAccumulator tokens,
        Output output) {
      this(settings, sortWindow, textIndex, tokens, output, null);
    }

    /** The columns appended to each row. */
    public enum Output { HASH_AND_ARRAY, ARRAY, ML_VECTOR }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
      return new Iterator<>() {
        private SentenceEncoder encoder;
        private List<Row> pending = List.of();
        private int next;

        @Override
        public boolean hasNext() {
          while (next >= pending.size() && input.hasNext()) {
            if (encoder == null) {
              encoder = acquire();
            }
            pending = encodeChunk(encoder, input);
            next = 0;
          }
          return next < pending.size();
        }

        @Override
        public Row next() {
          if (!hasNext()) {
            throw new java.util.NoSuchElementException();
          }
          return pending.get(next++);
        }
      };
    }

    private SentenceEncoder acquire() {
      TaskGpu gpu = TaskGpu.assigned();
      SharedEncoders.Lease lease = SharedEncoders.acquire(settings, gpu);
      if (usage != null) {
        usage.record(lease, gpu);
      }
      return lease.loaded().encoder();
    }

    private List<Row> encodeChunk(SentenceEncoder encoder, Iterator<Row> input) {
      List<Row> rows = new ArrayList<>(sortWindow);
      List<String> texts = new ArrayList<>(sortWindow);
      while (input.hasNext() && rows.size() < sortWindow) {
        Row r = input.next();
        rows.add(r);
        if (!r.isNullAt(textIndex)) {
          texts.add(r.getString(textIndex));
        }
      }
      SentenceEncoder.Encoded encoded = texts.isEmpty() ? new SentenceEncoder.Encoded(new float[0][], 0, 0)
          : encoder.encode(texts);
      if (tokens != null) {
        tokens.add(encoded.tokens());
      }
      List<Row> out = new ArrayList<>(rows.size());
      int v = 0;
      for (Row r : rows) {
        float[] vector = r.isNullAt(textIndex) ? null : encoded.vectors()[v++];
        out.add(append(r, vector));
      }
      return out;
    }

    private Row append(Row row, float[] vector) {
      int extra = output == Output.HASH_AND_ARRAY ? 2 : 1;
      Object[] values = new Object[row.size() + extra];
      for (int i = 0; i < row.size(); i++) {
        values[i] = row.get(i);
      }
      int at = row.size();
      if (output == Output.HASH_AND_ARRAY) {
        values[at++] = vector == null ? null : textHash(row.getString(textIndex));
      }
      values[at] = vector == null ? null : output == Output.ML_VECTOR ? mlVector(vector) : vector;
      return RowFactory.create(values);
    }

    private static org.apache.spark.ml.linalg.Vector mlVector(float[] v) {
      double[] d = new double[v.length];
      for (int k = 0; k < v.length; k++) {
        d[k] = v[k];
      }
      return org.apache.spark.ml.linalg.Vectors.dense(d);
    }
  }
}
