package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Frozen lexical weights: counted once, they weigh texts exactly as fitting on the same texts does. */
class LexicalFrequenciesTest {
  private static final LexicalFeatures.Settings SETTINGS = new LexicalFeatures.Settings(0.2, 0.35, 3);
  private final SparkSession spark = SparkTestSupport.spark();

  @Test
  void frequenciesOfTheSameTextsGiveTheFittedVectorsToTheBit() {
    List<String> texts = SparkTestSupport.sampleTitles(120);
    LexicalFeatures.Frequencies frequencies = LexicalFeatures.frequencies(dataset(texts), SETTINGS);
    assertThat(frequencies.documents()).isEqualTo(120);
    assertThat(frequencies.changesSinceFit()).isZero();
    SparseVectors fitted = LexicalFeatures.build(spark, List.of(texts), SETTINGS).get(0);
    SparseVectors frozen = LexicalFeatures.build(spark, List.of(texts), SETTINGS, frequencies).get(0);
    assertThat(frozen.offsets()).containsExactly(fitted.offsets());
    assertThat(frozen.indices()).containsExactly(fitted.indices());
    assertThat(frozen.values()).containsExactly(fitted.values());
  }

  @Test
  void frozenWeightsDoNotMoveWithTheTextsGiven() {
    List<String> texts = SparkTestSupport.sampleTitles(80);
    LexicalFeatures.Frequencies frequencies = LexicalFeatures.frequencies(dataset(texts), SETTINGS);
    List<String> fewer = texts.subList(0, 30);
    SparseVectors all = LexicalFeatures.build(spark, List.of(texts), SETTINGS, frequencies).get(0);
    SparseVectors some = LexicalFeatures.build(spark, List.of(fewer), SETTINGS, frequencies).get(0);
    for (int i = 0; i < 30; i++) {
      for (int j = 0; j < 30; j++) {
        assertThat(some.dot(i, some, j)).isEqualTo(all.dot(i, all, j));
      }
    }
    // fitted on fewer texts the weights differ
    SparseVectors refitted = LexicalFeatures.build(spark, List.of(fewer), SETTINGS).get(0);
    boolean differs = false;
    for (int i = 0; i < 30 && !differs; i++) {
      for (int j = 0; j < 30; j++) {
        differs |= refitted.dot(i, refitted, j) != all.dot(i, all, j);
      }
    }
    assertThat(differs).isTrue();
    assertThat(frequencies.withChanges(8).drift()).isEqualTo(0.1);
  }

  private Dataset<Row> dataset(List<String> texts) {
    List<Row> rows = new ArrayList<>();
    texts.forEach(t -> rows.add(RowFactory.create(t)));
    return spark.createDataFrame(rows, new StructType().add("text", DataTypes.StringType));
  }
}
