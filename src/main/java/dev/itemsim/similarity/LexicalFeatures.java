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
 * {@code Normalizer}: L2-normalised vectors over {@link LexicalTokenizer#words}, over their character
 * n-grams and over their model numbers ({@link LexicalTokenizer#modelNumbers}), joined so that the dot
 * product of two items is {@code wordWeight · cos(words) + modelWeight · cos(model numbers) + (1 − wordWeight
 * − modelWeight) · cos(char n-grams)}. IDF is fitted on all texts given (both catalogues of a
 * cross-catalogue search).
 */
public final class LexicalFeatures {
  /** Hashed feature space per token kind. */
  static final int FEATURES = 1 << 20;

  private LexicalFeatures() {}

  /** The parameters of the lexical scorer ({@code similarity.lexical.*}). */
  public record Settings(double wordWeight, double modelWeight, int ngram, int maxPostings)
      implements java.io.Serializable {
    public Settings(double wordWeight, double modelWeight, int ngram) {
      this(wordWeight, modelWeight, ngram, 0);
    }

    /** The posting-list cap for a corpus of {@code corpusSize} items (see {@code similarity.lexical.maxPostings}). */
    public int maxPostingsFor(int corpusSize) {
      return maxPostings > 0 ? maxPostings : Math.max(500, corpusSize / 50);
    }

    public Settings {
      if (!(wordWeight >= 0 && modelWeight >= 0 && wordWeight + modelWeight <= 1)) {
        throw new InvalidInputException("similarity.lexical.wordWeight (" + wordWeight + ") and modelWeight ("
            + modelWeight + ") must be >= 0 and add up to at most 1");
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
            LexicalTokenizer.words(t), n), DataTypes.createArrayType(DataTypes.StringType)).apply(col("text")))
        .withColumn("models", udf((UDF1<String, List<String>>) t -> LexicalTokenizer.modelNumbers(
            LexicalTokenizer.words(t)), DataTypes.createArrayType(DataTypes.StringType)).apply(col("text")));
    Dataset<Row> all = tfidf(tfidf(tfidf(texts, "words"), "grams"), "models");
    List<Row> collected = all.select("side", "idx", "words_vec", "grams_vec", "models_vec").collectAsList();

    List<List<Vector[]>> perSide = new ArrayList<>();
    for (List<String> side : sides) {
      List<Vector[]> slots = new ArrayList<>(side.size());
      for (int i = 0; i < side.size(); i++) {
        slots.add(null);
      }
      perSide.add(slots);
    }
    for (Row r : collected) {
      perSide.get(r.getInt(0)).set(r.getInt(1), new Vector[] {r.getAs(2), r.getAs(3), r.getAs(4)});
    }
    float[] scales = {(float) Math.sqrt(settings.wordWeight()),
        (float) Math.sqrt(Math.max(0, 1 - settings.wordWeight() - settings.modelWeight())),
        (float) Math.sqrt(settings.modelWeight())};
    List<SparseVectors> out = new ArrayList<>();
    for (List<Vector[]> side : perSide) {
      out.add(toCsr(side, scales));
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

  /** The parts of a lexical vector, in their feature order (part p holds features p · FEATURES ...). */
  public static final List<String> PARTS = List.of("words", "char n-grams", "model numbers");

  /** Each part's weight under {@code settings}, in {@link #PARTS} order. */
  public static double[] partWeights(Settings settings) {
    return new double[] {settings.wordWeight(), Math.max(0, 1 - settings.wordWeight() - settings.modelWeight()),
        settings.modelWeight()};
  }

  /**
   * The dot product of row {@code i} of {@code a} and row {@code j} of {@code b} split by part ({@link #PARTS}
   * order): part p's share is {@code weight_p · cos_p}, and the shares add up to {@code a.dot(i, b, j)}.
   */
  public static double[] partDots(SparseVectors a, int i, SparseVectors b, int j) {
    double[] out = new double[PARTS.size()];
    for (int p = 0; p < out.length; p++) {
      out[p] = a.dot(i, b, j, p * FEATURES, (p + 1) * FEATURES);
    }
    return out;
  }

  /** Rows of the parts (words, grams, models) side by side: part p's features shifted by p · FEATURES. */
  private static SparseVectors toCsr(List<Vector[]> rows, float[] scales) {
    int[] offsets = new int[rows.size() + 1];
    int total = 0;
    for (int i = 0; i < rows.size(); i++) {
      for (Vector part : rows.get(i)) {
        total += part.toSparse().indices().length;
      }
      offsets[i + 1] = total;
    }
    int[] indices = new int[total];
    float[] values = new float[total];
    for (int i = 0; i < rows.size(); i++) {
      int at = offsets[i];
      for (int p = 0; p < rows.get(i).length; p++) {
        SparseVector v = rows.get(i)[p].toSparse();
        for (int k = 0; k < v.indices().length; k++) {
          indices[at] = p * FEATURES + v.indices()[k];
          values[at++] = (float) v.values()[k] * scales[p];
        }
      }
    }
    return new SparseVectors(offsets, indices, values);
  }
}
