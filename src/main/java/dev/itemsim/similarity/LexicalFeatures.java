package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.udf;

import dev.itemsim.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.feature.HashingTF;
import org.apache.spark.ml.feature.IDF;
import org.apache.spark.ml.feature.IDFModel;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * TF-IDF features for lexical matching, built with Spark MLlib's {@code HashingTF}, {@code IDF} and
 * {@code Normalizer}: L2-normalised vectors over {@link LexicalTokenizer#words}, over their character
 * n-grams and over their model numbers ({@link LexicalTokenizer#modelNumbers}), joined so that the dot
 * product of two items is {@code wordWeight · cos(words) + modelWeight · cos(model numbers) + (1 − wordWeight
 * − modelWeight) · cos(char n-grams)}. IDF is fitted on all texts given (both catalogues of a
 * cross-catalogue search), or taken from {@link Frequencies} kept from an earlier fit (incremental runs), and
 * applied row by row, so the vectors stay on the executors.
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

  /**
   * Vectors for each list of texts, in order, fitted together, gathered on the driver: for tools and tests on
   * small inputs (the retrievers keep them distributed: {@link #fit}, {@link Fitted#transform}).
   */
  public static List<SparseVectors> build(SparkSession spark, List<List<String>> sides, Settings settings) {
    return build(spark, sides, settings, null);
  }

  /**
   * As {@link #build(SparkSession, List, Settings)}, weighted by {@code frozen} frequencies, or fitted together
   * on these texts when {@code frozen} is null.
   */
  public static List<SparseVectors> build(SparkSession spark, List<List<String>> sides, Settings settings,
      Frequencies frozen) {
    StructType schema = new StructType().add("side", DataTypes.IntegerType).add("idx", DataTypes.IntegerType)
        .add(SearchItems.TEXT, DataTypes.StringType);
    List<Dataset<Row>> texts = new ArrayList<>();
    for (int s = 0; s < sides.size(); s++) {
      List<Row> rows = new ArrayList<>();
      for (int i = 0; i < sides.get(s).size(); i++) {
        rows.add(RowFactory.create(s, i, sides.get(s).get(i)));
      }
      texts.add(DriverRows.of(spark, rows, schema));
    }
    Fitted fitted = fit(texts, settings, frozen);
    List<List<Vector[]>> perSide = new ArrayList<>();
    for (List<String> side : sides) {
      List<Vector[]> slots = new ArrayList<>(side.size());
      for (int i = 0; i < side.size(); i++) {
        slots.add(null);
      }
      perSide.add(slots);
    }
    for (Dataset<Row> side : texts) {
      for (Row r : fitted.transform(side).select(col("side"), col("idx"), col(WORDS), col(GRAMS), col(MODELS))
          .collectAsList()) {
        perSide.get(r.getInt(0)).set(r.getInt(1), new Vector[] {r.getAs(2), r.getAs(3), r.getAs(4)});
      }
    }
    List<SparseVectors> out = new ArrayList<>();
    for (List<Vector[]> side : perSide) {
      out.add(toCsr(side, fitted.scales()));
    }
    return out;
  }

  /** The L2-normalised TF-IDF vector of each part, columns {@link Fitted#transform} adds. */
  public static final String WORDS = "_lex_words_vec";
  public static final String GRAMS = "_lex_grams_vec";
  public static final String MODELS = "_lex_models_vec";
  private static final String[] KINDS = {"_lex_words", "_lex_grams", "_lex_models"};

  /**
   * Document frequencies of the hashed features of each token kind ({@link #PARTS} order: words, character
   * n-grams, model numbers) over {@code documents} texts: the lexical weights, {@code idf = ln((documents + 1) /
   * (df + 1))} as MLlib's {@code IDF} fits them. Kept between runs so an incremental run weighs features as the
   * run that fitted them did.
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
      if (features.length != TOKEN_KINDS || counts.length != TOKEN_KINDS) {
        throw new IllegalArgumentException("frequencies need " + TOKEN_KINDS + " token kinds");
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

    /** The weights of kind {@code kind}, as MLlib's {@code IDFModel} holds them. */
    Weights weights(int kind) {
      double[] idf = new double[features[kind].length];
      for (int k = 0; k < idf.length; k++) {
        idf[k] = Math.log((documents + 1.0) / (counts[kind][k] + 1.0));
      }
      return new Weights(features[kind], idf, Math.log((documents + 1.0) / 1.0));
    }

    /** The frequencies MLlib fitted, one model per token kind. */
    static Frequencies of(IDFModel[] models) {
      int[][] features = new int[TOKEN_KINDS][];
      long[][] counts = new long[TOKEN_KINDS][];
      long documents = 0;
      for (int kind = 0; kind < TOKEN_KINDS; kind++) {
        long[] df = models[kind].docFreq();
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
        documents = models[kind].numDocs();
      }
      return new Frequencies(documents, features, counts, 0);
    }
  }

  /** One token kind's IDF weights: of the features seen, ascending, and of every unseen feature. */
  record Weights(int[] features, double[] idf, double unseen) implements java.io.Serializable {
    double of(int feature) {
      int at = java.util.Arrays.binarySearch(features, feature);
      return at >= 0 ? idf[at] : unseen;
    }
  }

  /** Counts the document frequencies of the texts in column {@value SearchItems#TEXT} of {@code items}. */
  public static Frequencies frequencies(Dataset<Row> items, Settings settings) {
    return fit(List.of(items), settings).frequencies();
  }

  /**
   * IDF of each token kind fitted on the {@value SearchItems#TEXT} column of all {@code texts} together (both
   * catalogues of a cross-catalogue search). The driver holds only the fitted frequencies: per kind the
   * document frequency of each hashed feature found.
   */
  public static Fitted fit(List<Dataset<Row>> texts, Settings settings) {
    Dataset<Row> all = null;
    for (Dataset<Row> t : texts) {
      Dataset<Row> side = t.select(col(SearchItems.TEXT));
      all = all == null ? side : all.union(side);
    }
    Dataset<Row> tf = termFrequencies(tokens(all, settings.ngram())).select(tfColumns())
        .persist(StorageLevel.DISK_ONLY());
    try {
      IDFModel[] idf = new IDFModel[KINDS.length];
      for (int p = 0; p < KINDS.length; p++) {
        idf[p] = new IDF().setInputCol(KINDS[p] + "_tf").fit(tf);
      }
      return new Fitted(settings, Frequencies.of(idf));
    } finally {
      tf.unpersist();
    }
  }

  /**
   * As {@link #fit(List, Settings)} when {@code frozen} is null; otherwise the weights of {@code frozen}
   * (counted by an earlier fit), whatever texts are given: none of them is read.
   */
  public static Fitted fit(List<Dataset<Row>> texts, Settings settings, Frequencies frozen) {
    return frozen == null ? fit(texts, settings) : new Fitted(settings, frozen);
  }

  /**
   * TF-IDF weights, fitted or frozen: applies to any dataset with a {@value SearchItems#TEXT} column.
   *
   * @param frequencies the document frequencies the weights come from (what an incremental run keeps)
   */
  public record Fitted(Settings settings, Frequencies frequencies) {
    /**
     * {@code items} with the columns {@link #WORDS}, {@link #GRAMS} and {@link #MODELS} added: a lazy
     * projection (row by row, any partitioning and order kept). Term frequencies weighted and L2-normalised
     * with the arithmetic of MLlib's {@code IDFModel} followed by {@code Normalizer}.
     */
    public Dataset<Row> transform(Dataset<Row> items) {
      Dataset<Row> out = termFrequencies(tokens(items, settings.ngram()));
      String[] vectors = {WORDS, GRAMS, MODELS};
      for (int p = 0; p < KINDS.length; p++) {
        Weights w = frequencies.weights(p);
        out = out.withColumn(vectors[p], udf((UDF1<Vector, Vector>) v -> weigh(v.toSparse(), w),
            SQLDataTypes.VectorType()).apply(col(KINDS[p] + "_tf")));
      }
      List<String> scratch = new ArrayList<>();
      for (String kind : KINDS) {
        scratch.addAll(List.of(kind, kind + "_tf"));
      }
      return out.drop(scratch.toArray(String[]::new));
    }

    /** Each part's factor: the square root of its weight, so dot products weigh the part cosines. */
    public float[] scales() {
      return new float[] {(float) Math.sqrt(settings.wordWeight()),
          (float) Math.sqrt(Math.max(0, 1 - settings.wordWeight() - settings.modelWeight())),
          (float) Math.sqrt(settings.modelWeight())};
    }
  }

  /** Term frequencies times IDF weights, L2-normalised (a zero vector stays zero). */
  static Vector weigh(SparseVector tf, Weights idf) {
    int[] indices = tf.indices();
    double[] values = new double[indices.length];
    for (int k = 0; k < indices.length; k++) {
      values[k] = tf.values()[k] * idf.of(indices[k]);
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
    return Vectors.sparse(tf.size(), indices, values);
  }

  private static Dataset<Row> tokens(Dataset<Row> in, int n) {
    return in
        .withColumn(KINDS[0], udf((UDF1<String, List<String>>) LexicalTokenizer::words,
            DataTypes.createArrayType(DataTypes.StringType)).apply(col(SearchItems.TEXT)))
        .withColumn(KINDS[1], udf((UDF1<String, List<String>>) t -> LexicalTokenizer.charNgrams(
            LexicalTokenizer.words(t), n), DataTypes.createArrayType(DataTypes.StringType)).apply(col(SearchItems.TEXT)))
        .withColumn(KINDS[2], udf((UDF1<String, List<String>>) t -> LexicalTokenizer.modelNumbers(
            LexicalTokenizer.words(t)), DataTypes.createArrayType(DataTypes.StringType)).apply(col(SearchItems.TEXT)));
  }

  private static Dataset<Row> termFrequencies(Dataset<Row> in) {
    Dataset<Row> out = in;
    for (String kind : KINDS) {
      out = new HashingTF().setInputCol(kind).setOutputCol(kind + "_tf").setNumFeatures(FEATURES).transform(out);
    }
    return out;
  }

  private static org.apache.spark.sql.Column[] tfColumns() {
    return java.util.Arrays.stream(KINDS).map(k -> col(k + "_tf")).toArray(org.apache.spark.sql.Column[]::new);
  }

  /**
   * One item's lexical vector from its part vectors (words, grams, models, as {@link Fitted#transform} adds
   * them): part p's features shifted by p · {@value #FEATURES}, values scaled by {@code scales[p]}; indices
   * ascending.
   */
  public static Item row(Vector[] parts, float[] scales) {
    int total = 0;
    for (Vector part : parts) {
      total += part.toSparse().indices().length;
    }
    int[] indices = new int[total];
    float[] values = new float[total];
    int at = 0;
    for (int p = 0; p < parts.length; p++) {
      SparseVector v = parts[p].toSparse();
      for (int k = 0; k < v.indices().length; k++) {
        indices[at] = p * FEATURES + v.indices()[k];
        values[at++] = (float) v.values()[k] * scales[p];
      }
    }
    return new Item(indices, values);
  }

  /** One item's lexical vector: features ascending, values in the same places. */
  public record Item(int[] indices, float[] values) {}

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

  /** Rows of the parts (words, grams, models) side by side ({@link #row}). */
  private static SparseVectors toCsr(List<Vector[]> rows, float[] scales) {
    int[] offsets = new int[rows.size() + 1];
    List<Item> built = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      Item r = row(rows.get(i), scales);
      built.add(r);
      offsets[i + 1] = offsets[i] + r.indices().length;
    }
    int[] indices = new int[offsets[rows.size()]];
    float[] values = new float[offsets[rows.size()]];
    for (int i = 0; i < rows.size(); i++) {
      Item r = built.get(i);
      System.arraycopy(r.indices(), 0, indices, offsets[i], r.indices().length);
      System.arraycopy(r.values(), 0, values, offsets[i], r.indices().length);
    }
    return new SparseVectors(offsets, indices, values);
  }
}
