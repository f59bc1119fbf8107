package dev.itemsim.finetune;

import dev.itemsim.embed.SentenceEncoder;
import dev.itemsim.similarity.BlockedTopN;
import dev.itemsim.similarity.HybridRanker;
import dev.itemsim.similarity.Kernels;
import dev.itemsim.similarity.LexicalFeatures;
import dev.itemsim.similarity.LexicalRetriever;
import dev.itemsim.similarity.LogisticBlend;
import dev.itemsim.similarity.PairFeatures;
import dev.itemsim.similarity.SparseTopN;
import dev.itemsim.similarity.SparseVectors;
import dev.itemsim.similarity.VectorBlocks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Fits the hybrid's blend on labelled queries: each query's hybrid candidates (its embedding top-K with the
 * tuned model and its lexical top-K, as {@link dev.itemsim.similarity.HybridRetriever} gathers them) become
 * examples — the pair's features ({@link LogisticBlend#vector}) labelled 1 for a true partner, 0 otherwise —
 * and MLlib's {@link LogisticRegression} learns their weights. Runs on the driver's gathered data (the queries
 * are the training or validation pairs' anchors); the regression itself runs in Spark.
 */
final class BlendFitting {
  private static final StructType EXAMPLES = new StructType().add("label", DataTypes.DoubleType, false)
      .add("features", SQLDataTypes.VectorType(), false);
  private static final int BLOCK = 2048;

  /** The fitted blend and what it was fitted on. */
  record Result(LogisticBlend blend, Map<String, Object> facts) {}

  private BlendFitting() {}

  /**
   * @param textsA every valid item of catalogue A; {@code textsB} those of B ({@code self}: the same map)
   * @param truth the queries to fit on (A ids) and their true partners
   */
  static Result fit(SparkSession spark, SentenceEncoder model, Map<String, String> textsA, Map<String, String> textsB,
      boolean self, Map<String, Set<String>> truth, LexicalRetriever.Options lexical, String kernel, String source) {
    List<String> aIds = new ArrayList<>(new TreeMap<>(textsA).keySet());
    List<String> bIds = self ? aIds : new ArrayList<>(new TreeMap<>(textsB).keySet());
    List<String> aTexts = aIds.stream().map(textsA::get).toList();
    List<String> bTexts = self ? aTexts : bIds.stream().map(textsB::get).toList();
    float[][] av = model.encode(aTexts).vectors();
    float[][] bv = self ? av : model.encode(bTexts).vectors();
    int dim = av[0].length;
    VectorBlocks queries = VectorBlocks.of(Arrays.asList(av), dim, BLOCK);
    VectorBlocks corpus = self ? queries : VectorBlocks.of(Arrays.asList(bv), dim, BLOCK);
    int k = lexical.candidates();
    List<int[]> embedding = BlockedTopN.neighborLists(queries, self
        ? BlockedTopN.computeLocally(queries, k, Kernels.select(kernel))
        : BlockedTopN.computeCrossLocally(queries, corpus, k, Kernels.select(kernel)));
    List<SparseVectors> features = LexicalFeatures.build(spark, self ? List.of(aTexts) : List.of(aTexts, bTexts),
        lexical.lexical());
    SparseVectors queryLexical = features.get(0);
    SparseVectors corpusLexical = features.get(features.size() - 1);
    List<int[]> lexicalLists = new SparseTopN(corpusLexical, lexical.lexical().maxPostingsFor(bIds.size()))
        .searchAll(queryLexical, k, self);
    Map<String, Integer> aIndex = new java.util.HashMap<>();
    for (int i = 0; i < aIds.size(); i++) {
      aIndex.put(aIds.get(i), i);
    }
    List<Row> rows = new ArrayList<>();
    long positives = 0;
    long partnersMissed = 0;
    for (Map.Entry<String, Set<String>> e : new TreeMap<>(truth).entrySet()) {
      Integer q = aIndex.get(e.getKey());
      if (q == null) {
        continue;
      }
      int[] fromEmbedding = embedding.get(q);
      int[] fromLexical = lexicalLists.get(q);
      int found = 0;
      for (int c : unionOf(fromEmbedding, fromLexical)) {
        PairFeatures f = HybridRanker.features(q, c, queries, corpus, queryLexical, corpusLexical,
            rank(fromEmbedding, c), rank(fromLexical, c));
        boolean match = e.getValue().contains(bIds.get(c));
        found += match ? 1 : 0;
        rows.add(RowFactory.create(match ? 1.0 : 0.0, Vectors.dense(LogisticBlend.vector(f, lexical.lexical()))));
      }
      positives += found;
      partnersMissed += e.getValue().size() - found;
    }
    Dataset<Row> examples = spark.createDataFrame(rows, EXAMPLES);
    LogisticRegressionModel fitted = new LogisticRegression().setMaxIter(200).setRegParam(1e-3)
        .setElasticNetParam(0).setStandardization(true).fit(examples);
    LogisticBlend blend = new LogisticBlend(fitted.intercept(), fitted.coefficients().toArray(),
        lexical.lexical().ngram(), lexical.lexical(), source);
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("queries", truth.size());
    facts.put("candidates_per_retriever", k);
    facts.put("examples", rows.size());
    facts.put("positives", positives);
    facts.put("partners_not_among_candidates", partnersMissed);
    facts.put("lexical", Map.of("wordWeight", lexical.lexical().wordWeight(), "modelWeight",
        lexical.lexical().modelWeight(), "ngram", lexical.lexical().ngram()));
    facts.put("regularisation", "L2 1e-3 on standardised features (MLlib LogisticRegression)");
    return new Result(blend, facts);
  }

  private static int[] unionOf(int[] a, int[] b) {
    return java.util.stream.IntStream.concat(Arrays.stream(a), Arrays.stream(b)).distinct().toArray();
  }

  private static int rank(int[] list, int c) {
    for (int i = 0; i < list.length; i++) {
      if (list[i] == c) {
        return i + 1;
      }
    }
    return 0;
  }
}
