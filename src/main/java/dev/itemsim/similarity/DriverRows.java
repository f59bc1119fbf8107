package dev.itemsim.similarity;

import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * A DataFrame of rows that exist on the driver. Spark ships such rows inside the tasks that read them; one
 * {@code createDataFrame(List, schema)} puts them in a few large tasks (Spark warns about every task over
 * 1 MB, and each is sent whole to one executor). Here they are cut into slices of about {@value #SLICE_BYTES}
 * bytes. A consumer that merges partitions without a shuffle ({@code coalesce}) would put them back into one
 * task: repartition instead.
 */
public final class DriverRows {
  static final long SLICE_BYTES = 256 * 1024;
  private static final int MAX_SLICES = 10_000;

  private DriverRows() {}

  public static Dataset<Row> of(SparkSession spark, List<Row> rows, StructType schema) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    long bytes = estimatedBytes(rows);
    int slices = (int) Math.max(1, Math.min(MAX_SLICES, Math.max(jsc.defaultParallelism(), bytes / SLICE_BYTES + 1)));
    List<Row> external = rows.stream().map(DriverRows::external).toList();
    return spark.createDataFrame(jsc.parallelize(external, Math.min(slices, Math.max(1, rows.size()))), schema);
  }

  /**
   * The row with Java lists as Scala sequences, at any depth: a DataFrame made from an RDD of rows reads array
   * columns as {@code scala.collection.Seq} only (one made from a local list also takes {@code java.util.List}).
   */
  static Row external(Row row) {
    Object[] values = new Object[row.size()];
    boolean changed = false;
    for (int i = 0; i < values.length; i++) {
      Object v = row.get(i);
      values[i] = externalValue(v);
      changed |= values[i] != v;
    }
    return changed ? RowFactory.create(values) : row;
  }

  private static Object externalValue(Object v) {
    if (v instanceof Row r) {
      return external(r);
    }
    if (v instanceof List<?> list) {
      List<Object> converted = new java.util.ArrayList<>(list.size());
      for (Object e : list) {
        converted.add(externalValue(e));
      }
      return scala.jdk.javaapi.CollectionConverters.asScala(converted).toSeq();
    }
    return v;
  }

  /** Serialized size, roughly: strings at two bytes a character, 16 bytes per field, from a sample of rows. */
  static long estimatedBytes(List<Row> rows) {
    if (rows.isEmpty()) {
      return 0;
    }
    int step = Math.max(1, rows.size() / 1000);
    long sampled = 0;
    int count = 0;
    for (int i = 0; i < rows.size(); i += step) {
      Row r = rows.get(i);
      for (int f = 0; f < r.size(); f++) {
        Object v = r.get(f);
        sampled += 16 + (v instanceof String s ? 2L * s.length() : v instanceof List<?> l ? 8L * l.size() : 8);
      }
      count++;
    }
    return sampled * rows.size() / count;
  }
}
