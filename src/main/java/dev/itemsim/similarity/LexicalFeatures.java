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

  /** The token kinds, in the order of {@link Frequencies}' arrays. */
  static final List<String> KINDS = List.of("words", "grams", "models");

  /**
   * Document frequencies of the hashed features of each token kind ({@link #KINDS}) over {@code documents}
   * texts: the lexical weights, {@code idf = ln((documents + 1) / (df + 1))} as MLlib's {@code IDF} fits them.
   * Kept between runs so an incremental run weighs features as the run that fitted them did.
   *
   * @param features per kind, the features found, ascending
   * @param counts per kind, the number of texts holding each feature
   * @param changesSinceFit new, changed and deleted items since the frequencies were counted
   */
  public record Frequencies(long documents, int[][] features, long[][] counts, long changesSinceFit)
      implements java.io.Serializable {
    /** Token kinds: words, character n-grams, model numbers. */
    public static final int TOKEN_KINDS = 3;

    public Frequencies {
      if (features.length != KINDS.size() || counts.length != KINDS.size()) {
        throw new IllegalArgumentException("frequencies need " + KINDS.size() + " token kinds");
      }
    }

    /** The same frequencies, {@code more} changes later. */
    public Frequencies withChanges(long more) {
      return new Frequencies(documents, features, counts, changesSinceFit + more);
    }

    /** Share of the fitted catalogue changed since the fit. */
    public double drift() {
      return (double) changesSinceFit / Math.max(1, documents);
    }

    /** The weight of every hashed feature of kind {@code kind}, as MLlib's {@code IDFModel} holds it. */
    double[] idf(int kind) {
      double[] idf = new double[FEATURES];
      java.util.Arrays.fill(idf, Math.log((documents + 1.0) / 1.0));
      for (int k = 0; k < features[kind].length; k++) {
        idf[features[kind][k]] = Math.log((documents + 1.0) / (counts[kind][k] + 1.0));
      }
      return idf;
    }
  }

  /** Counts the document frequencies of the texts in column {@code text} of {@code items}. */
  public static Frequencies frequencies(Dataset<Row> items, Settings settings) {
    Dataset<Row> tokens = tokens(items.select(col("text")), settings.ngram())
        .persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
    int[][] features = new int[KINDS.size()][];
    long[][] counts = new long[KINDS.size()][];
    long documents = 0;
    for (int kind = 0; kind < KINDS.size(); kind++) {
      String column = KINDS.get(kind);
      Dataset<Row> tf = new HashingTF().setInputCol(column).setOutputCol(column + "_tf").setNumFeatures(FEATURES)
          .transform(tokens);
      org.apache.spark.ml.feature.IDFModel model = new IDF().setInputCol(column + "_tf").fit(tf);
      long[] df = model.docFreq();
      int present = 0;
      for (long d : df) {
        present += d > 0 ? 1 : 0;
      }
      features[kind] = new int[present];
      counts[kind] = new long[present];
      for (int f = 0, at = 0; f < df.length; f++) {
        if (df[f] > 0) {
          features[kind][at] = f;
          counts[kind][at++] = df[f];
        }
      }
      documents = model.numDocs();
    }
    tokens.unpersist();
    return new Frequencies(documents, features, counts, 0);
  }

  /** {@code text} plus its {@link #KINDS} token lists. */
  private static Dataset<Row> tokens(Dataset<Row> texts, int n) {
    return texts
        .withColumn("words", udf((UDF1<String, List<String>>) LexicalTokenizer::words,
            DataTypes.createArrayType(DataTypes.StringType)).apply(col("text")))
        .withColumn("grams", udf((UDF1<String, List<String>>) t -> LexicalTokenizer.charNgrams(
            LexicalTokenizer.words(t), n), DataTypes.createArrayType(DataTypes.StringType)).apply(col("text")))
        .withColumn("models", udf((UDF1<String, List<String>>) t -> LexicalTokenizer.modelNumbers(
            LexicalTokenizer.words(t)), DataTypes.createArrayType(DataTypes.StringType)).apply(col("text")));
  }

  /** Vectors for each list of texts, in order, fitted together. */
  public static List<SparseVectors> build(SparkSession spark, List<List<String>> sides, Settings settings) {
    return build(spark, sides, settings, null);
  }

  /**
   * Vectors for each list of texts, in order, weighted by {@code frozen} frequencies, or fitted together on
   * these texts when {@code frozen} is null.
   */
  public static List<SparseVectors> build(SparkSession spark, List<List<String>> sides, Settings settings,
      Frequencies frozen) {
    List<Row> rows = new ArrayList<>();
    for (int s = 0; s < sides.size(); s++) {
      for (int i = 0; i < sides.get(s).size(); i++) {
        rows.add(RowFactory.create(s, i, sides.get(s).get(i)));
      }
    }
    StructType schema = new StructType().add("side", DataTypes.IntegerType).add("idx", DataTypes.IntegerType)
        .add("text", DataTypes.StringType);
    Dataset<Row> texts = tokens(DriverRows.of(spark, rows, schema), settings.ngram());
    Dataset<Row> all = texts;
    List<org.apache.spark.broadcast.Broadcast<double[]>> weights = new ArrayList<>();
    for (int kind = 0; kind < KINDS.size(); kind++) {
      if (frozen == null) {
        all = tfidf(all, KINDS.get(kind));
      } else {
        weights.add(org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext())
            .broadcast(frozen.idf(kind)));
        all = weighted(all, KINDS.get(kind), weights.get(kind));
      }
    }
    List<Row> collected;
    try {
      collected = all.select("side", "idx", "words_vec", "grams_vec", "models_vec").collectAsList();
    } finally {
      weights.forEach(org.apache.spark.broadcast.Broadcast::destroy);
    }

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

  /**
   * Term frequencies weighted by given IDF weights and L2-normalised: the arithmetic of MLlib's {@code
   * IDFModel} followed by {@code Normalizer}, so frequencies equal to a fit give the fitted vectors.
   */
  private static Dataset<Row> weighted(Dataset<Row> in, String column,
      org.apache.spark.broadcast.Broadcast<double[]> shared) {
    Dataset<Row> tf = new HashingTF().setInputCol(column).setOutputCol(column + "_tf").setNumFeatures(FEATURES)
        .transform(in);
    var weigh = udf((UDF1<Vector, Vector>) v -> weigh(v.toSparse(), shared.value()),
        org.apache.spark.ml.linalg.SQLDataTypes.VectorType());
    return tf.withColumn(column + "_vec", weigh.apply(col(column + "_tf")));
  }

  static Vector weigh(SparseVector tf, double[] idf) {
    int[] indices = tf.indices();
    double[] values = new double[indices.length];
    for (int k = 0; k < indices.length; k++) {
      values[k] = tf.values()[k] * idf[indices[k]];
    }
    double sum = 0.0;
    for (double v : values) {
      sum += v * v;
    }
    double norm = Math.sqrt(sum);
    if (norm != 0.0) {
      for (int k = 0; k < values.length; k++) {
        values[k] /= norm;
      }
    }
    return org.apache.spark.ml.linalg.Vectors.sparse(tf.size(), indices, values);
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
