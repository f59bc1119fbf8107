package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.udf;

import dev.itemsim.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.feature.HashingTF;
import org.apache.spark.ml.feature.IDF;
import org.apache.spark.ml.feature.Normalizer;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * TF-IDF features for lexical matching, built with Spark MLlib's {@code HashingTF}, {@code IDF} and
 * {@code Normalizer}: one L2-normalised vector over {@link LexicalTokenizer#words} and one over their
 * character n-grams, joined so that a dot product of two items is
 * {@code wordWeight · cos(words) + (1 − wordWeight) · cos(char n-grams)}. IDF is fitted on all texts given
 * (both catalogues of a cross-catalogue search).
 */
public final class LexicalFeatures {
  /** Hashed feature space per token kind. */
  static final int FEATURES = 1 << 20;

  private LexicalFeatures() {}

  /** The parameters of the lexical scorer ({@code similarity.lexical.*}). */
  public record Settings(double wordWeight, int ngram) implements java.io.Serializable {
    public Settings {
      if (!(wordWeight >= 0 && wordWeight <= 1)) {
        throw new InvalidInputException("similarity.lexical.wordWeight must be in 0..1, got " + wordWeight);
      }
      if (ngram < 2 || ngram > 6) {
        throw new InvalidInputException("similarity.lexical.ngram must be in 2..6, got " + ngram);
      }
    }
  }

  /** Vectors for each list of texts, in order, fitted together. */
  public static List<SparseVectors> build(SparkSession spark, List<List<String>> sides, Settings settings) {
    List<Row> rows = new ArrayList<>();
    for (int s = 0; s < sides.size(); s++) {
      for (int i = 0; i < sides.get(s).size(); i++) {
        rows.add(RowFactory.create(s, i, sides.get(s).get(i)));
      }
    }
    StructType schema = new StructType().add("side", DataTypes.IntegerType).add("idx", DataTypes.IntegerType)
        .add("text", DataTypes.StringType);
    int n = settings.ngram();
    Dataset<Row> texts = spark.createDataFrame(rows, schema)
        .withColumn("words", udf((UDF1<String, List<String>>) LexicalTokenizer::words,
            DataTypes.createArrayType(DataTypes.StringType)).apply(col("text")))
        .withColumn("grams", udf((UDF1<String, List<String>>) t -> LexicalTokenizer.charNgrams(
            LexicalTokenizer.words(t), n), DataTypes.createArrayType(DataTypes.StringType)).apply(col("text")));
    Dataset<Row> words = tfidf(texts, "words");
    Dataset<Row> both = tfidf(words, "grams");
    List<Row> collected = both.select("side", "idx", "words_vec", "grams_vec").collectAsList();

    List<List<Vector[]>> perSide = new ArrayList<>();
    for (List<String> side : sides) {
      List<Vector[]> slots = new ArrayList<>(side.size());
      for (int i = 0; i < side.size(); i++) {
        slots.add(null);
      }
      perSide.add(slots);
    }
    for (Row r : collected) {
      perSide.get(r.getInt(0)).set(r.getInt(1), new Vector[] {r.getAs(2), r.getAs(3)});
    }
    float wordScale = (float) Math.sqrt(settings.wordWeight());
    float gramScale = (float) Math.sqrt(1 - settings.wordWeight());
    List<SparseVectors> out = new ArrayList<>();
    for (List<Vector[]> side : perSide) {
      out.add(toCsr(side, wordScale, gramScale));
    }
    return out;
  }

  private static Dataset<Row> tfidf(Dataset<Row> in, String column) {
    Dataset<Row> tf = new HashingTF().setInputCol(column).setOutputCol(column + "_tf").setNumFeatures(FEATURES)
        .transform(in);
    Dataset<Row> weighted = new IDF().setInputCol(column + "_tf").setOutputCol(column + "_idf").fit(tf)
        .transform(tf);
    return new Normalizer().setInputCol(column + "_idf").setOutputCol(column + "_vec").setP(2.0)
        .transform(weighted);
  }

  private static SparseVectors toCsr(List<Vector[]> rows, float wordScale, float gramScale) {
    int[] offsets = new int[rows.size() + 1];
    List<int[]> idx = new ArrayList<>();
    List<float[]> val = new ArrayList<>();
    int total = 0;
    for (int i = 0; i < rows.size(); i++) {
      SparseVector w = rows.get(i)[0].toSparse();
      SparseVector g = rows.get(i)[1].toSparse();
      int[] indices = new int[w.indices().length + g.indices().length];
      float[] values = new float[indices.length];
      for (int k = 0; k < w.indices().length; k++) {
        indices[k] = w.indices()[k];
        values[k] = (float) w.values()[k] * wordScale;
      }
      for (int k = 0; k < g.indices().length; k++) {
        indices[w.indices().length + k] = FEATURES + g.indices()[k];
        values[w.indices().length + k] = (float) g.values()[k] * gramScale;
      }
      idx.add(indices);
      val.add(values);
      total += indices.length;
      offsets[i + 1] = total;
    }
    int[] allIdx = new int[total];
    float[] allVal = new float[total];
    for (int i = 0; i < rows.size(); i++) {
      System.arraycopy(idx.get(i), 0, allIdx, offsets[i], idx.get(i).length);
      System.arraycopy(val.get(i), 0, allVal, offsets[i], val.get(i).length);
    }
    return new SparseVectors(offsets, allIdx, allVal);
  }
}
