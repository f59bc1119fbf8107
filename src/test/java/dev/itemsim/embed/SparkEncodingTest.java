package dev.itemsim.embed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;

class SparkEncodingTest {
  private static final String MODEL = "builtin:all-minilm-l6-v2";

  @Test
  void sparkStageEqualsPlainOnnxRuntimeForFiftyTitles() throws Exception {
    SparkSession spark = SparkTestSupport.spark();
    List<String> titles = SparkTestSupport.sampleTitles(50);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < titles.size(); i++) {
      rows.add(RowFactory.create("id" + i, titles.get(i)));
    }
    StructType schema = new StructType().add("item_id", DataTypes.StringType).add("text", DataTypes.StringType);
    Dataset<Row> items = spark.createDataFrame(rows, schema);
    LongAccumulator tokens = spark.sparkContext().longAccumulator();
    // 3 partitions and a sort window of 7: batches are composed differently than in the reference
    List<Row> out = SparkEncoding.encode(spark, items, new EncoderSettings(new ModelSpec(MODEL), 4, 128, 1), 3, 7,
        tokens).collectAsList();

    assertThat(out).hasSize(50);
    Map<String, Row> byId = new HashMap<>();
    out.forEach(r -> byId.put(r.getString(0), r));
    try (OrtReference ort = new OrtReference(new ModelSpec(MODEL).resolve(), 128)) {
      long expectedTokens = 0;
      for (int i = 0; i < titles.size(); i++) {
        Row r = byId.get("id" + i);
        assertThat(r.getString(1)).isEqualTo(titles.get(i));
        assertThat(r.getString(2)).isEqualTo(SparkEncoding.textHash(titles.get(i))).hasSize(64);
        List<Object> values = r.getList(3);
        float[] v = new float[values.size()];
        for (int k = 0; k < v.length; k++) {
          v[k] = (Float) values.get(k);
        }
        assertThat(Vectors.cosine(v, ort.embed(titles.get(i)))).as("title %d", i).isGreaterThanOrEqualTo(0.99999);
        expectedTokens += ort.tokenCount(titles.get(i));
      }
      assertThat(tokens.value()).isEqualTo(expectedTokens);
    }
  }

  /**
   * Memory of the encode stage does not grow with the partition: rows are pulled from the partition one sort
   * window at a time, so at most {@code sortWindow} rows (and their vectors) are held, however many follow.
   */
  @Test
  void holdsAtMostOneSortWindowOfAPartition() {
    int window = 16;
    List<String> titles = SparkTestSupport.sampleTitles(200);
    int[] pulled = {0};
    java.util.Iterator<Row> partition = new java.util.Iterator<>() {
      @Override
      public boolean hasNext() {
        return pulled[0] < titles.size();
      }

      @Override
      public Row next() {
        int i = pulled[0]++;
        return RowFactory.create("id" + i, titles.get(i));
      }
    };
    SparkEncoding.EncodeRows encode = new SparkEncoding.EncodeRows(EncoderSettings.defaults(MODEL), window, 1, null,
        SparkEncoding.EncodeRows.Output.ARRAY);
    java.util.Iterator<Row> out = encode.call(partition);
    int emitted = 0;
    int mostHeld = 0;
    while (out.hasNext()) {
      Row r = out.next();
      assertThat(r.getString(0)).isEqualTo("id" + emitted);
      emitted++;
      mostHeld = Math.max(mostHeld, pulled[0] - emitted);
    }
    assertThat(emitted).isEqualTo(200);
    assertThat(mostHeld).isLessThan(window);
  }

  /** The same texts get the same vectors however the rows are spread over partitions. */
  @Test
  void partitionCountDoesNotChangeAVector() {
    SparkSession spark = SparkTestSupport.spark();
    List<String> titles = SparkTestSupport.sampleTitles(120);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < titles.size(); i++) {
      rows.add(RowFactory.create("id" + i, titles.get(i)));
    }
    Dataset<Row> items = spark.createDataFrame(rows, new StructType().add("item_id", DataTypes.StringType)
        .add("text", DataTypes.StringType));
    EncoderSettings settings = EncoderSettings.defaults(MODEL);
    Map<String, List<Object>> one = new HashMap<>();
    SparkEncoding.encode(spark, items, settings, 1, 8192, null).collectAsList()
        .forEach(r -> one.put(r.getString(0), r.getList(3)));
    Map<String, List<Object>> five = new HashMap<>();
    SparkEncoding.encode(spark, items, settings, 5, 7, null).collectAsList()
        .forEach(r -> five.put(r.getString(0), r.getList(3)));
    assertThat(five).isEqualTo(one);
  }
}
