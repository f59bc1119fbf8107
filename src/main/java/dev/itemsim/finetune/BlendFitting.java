package dev.itemsim.finetune;

import dev.itemsim.embed.SentenceEncoder;
import dev.itemsim.eval.Evaluation;
import dev.itemsim.eval.RankedLists;
import dev.itemsim.similarity.Blend;
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
import java.util.Comparator;
import java.util.HashMap;
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
 * Fits the hybrid's blend on labelled queries: each query's hybrid candidates (its embedding top-K with a tuned
 * model and its lexical top-K, as {@link dev.itemsim.similarity.HybridRetriever} gathers them) become
 * examples — the pair's features ({@link LogisticBlend#vector}) labelled 1 for a true partner, 0 otherwise —
 * and MLlib's {@link LogisticRegression} learns their weights. The same candidates ranked by any blend give
 * the evaluate job's metrics, so blends can be compared on queries they were not fitted on. Runs on the
 * driver's gathered data (the queries are the training or validation pairs' anchors); the regression itself
 * runs in Spark.
 */
final class BlendFitting {
  private static final StructType EXAMPLES = new StructType().add("label", DataTypes.DoubleType, false)
      .add("features", SQLDataTypes.VectorType(), false);
  private static final int BLOCK = 2048;

  /** The fitted blend and what it was fitted on. */
  record Result(LogisticBlend blend, Map<String, Object> facts) {}

  /** One query's hybrid candidates: corpus ids, each pair's features, and which are true partners. */
  record QueryCandidates(String query, List<String> ids, List<PairFeatures> features, boolean[] matches) {}

  private BlendFitting() {}

  /**
   * What does not depend on the model: both sides' ids and texts (in id order), their lexical vectors and every
   * query's lexical top-K, computed once for every model the candidates are gathered with.
   */
  static final class Corpus {
    private final List<String> aIds;
    private final List<String> bIds;
    private final List<String> aTexts;
    private final List<String> bTexts;
    private final boolean self;
    private final SparseVectors queryLexical;
    private final SparseVectors corpusLexical;
    private final List<int[]> lexicalLists;
    private final Map<String, Integer> aIndex = new HashMap<>();
    private final LexicalRetriever.Options lexical;

    /**
     * @param textsA every valid item of catalogue A; {@code textsB} those of B ({@code self}: the same map)
     */
    Corpus(SparkSession spark, Map<String, String> textsA, Map<String, String> textsB, boolean self,
        LexicalRetriever.Options lexical) {
      this.self = self;
      this.lexical = lexical;
      aIds = new ArrayList<>(new TreeMap<>(textsA).keySet());
      bIds = self ? aIds : new ArrayList<>(new TreeMap<>(textsB).keySet());
      aTexts = aIds.stream().map(textsA::get).toList();
      bTexts = self ? aTexts : bIds.stream().map(textsB::get).toList();
      List<SparseVectors> features = LexicalFeatures.build(spark, self ? List.of(aTexts) : List.of(aTexts, bTexts),
          lexical.lexical());
      queryLexical = features.get(0);
      corpusLexical = features.get(features.size() - 1);
      lexicalLists = new SparseTopN(corpusLexical, lexical.lexical().maxPostingsFor(bIds.size()))
          .searchAll(queryLexical, lexical.candidates(), self);
      for (int i = 0; i < aIds.size(); i++) {
        aIndex.put(aIds.get(i), i);
      }
    }

    /**
     * The hybrid candidates of the {@code truth} queries (A ids, in id order) with {@code model}'s embedding
     * top-K; queries that are not valid A items are skipped.
     */
    List<QueryCandidates> candidates(SentenceEncoder model, Map<String, Set<String>> truth, String kernel) {
      float[][] av = model.encode(aTexts).vectors();
      float[][] bv = self ? av : model.encode(bTexts).vectors();
      int dim = av[0].length;
      VectorBlocks queries = VectorBlocks.of(Arrays.asList(av), dim, BLOCK);
      VectorBlocks corpus = self ? queries : VectorBlocks.of(Arrays.asList(bv), dim, BLOCK);
      int k = lexical.candidates();
      List<int[]> embedding = BlockedTopN.neighborLists(queries, self
          ? BlockedTopN.computeLocally(queries, k, Kernels.select(kernel))
          : BlockedTopN.computeCrossLocally(queries, corpus, k, Kernels.select(kernel)));
      List<QueryCandidates> out = new ArrayList<>();
      for (Map.Entry<String, Set<String>> e : new TreeMap<>(truth).entrySet()) {
        Integer q = aIndex.get(e.getKey());
        if (q == null) {
          continue;
        }
        int[] fromEmbedding = embedding.get(q);
        int[] fromLexical = lexicalLists.get(q);
        int[] union = unionOf(fromEmbedding, fromLexical);
        Arrays.sort(union);
        List<String> ids = new ArrayList<>(union.length);
        List<PairFeatures> features = new ArrayList<>(union.length);
        boolean[] matches = new boolean[union.length];
        for (int i = 0; i < union.length; i++) {
          int c = union[i];
          ids.add(bIds.get(c));
          features.add(HybridRanker.features(q, c, queries, corpus, queryLexical, corpusLexical,
              rank(fromEmbedding, c), rank(fromLexical, c)));
          matches[i] = e.getValue().contains(bIds.get(c));
        }
        out.add(new QueryCandidates(e.getKey(), ids, features, matches));
      }
      return out;
    }
  }

  /**
   * Fits a logistic blend on {@code examples}; {@code truth} counts the partners they miss. {@code pairwise}: the
   * regression sees, for every query, each (partner, other candidate) pair as the difference of their features in
   * both orders, labelled by which comes first, without an intercept; the fitted weights then only order a query's
   * candidates (the blend's score is no longer a match probability).
   */
  static Result fit(SparkSession spark, List<QueryCandidates> examples, Map<String, Set<String>> truth,
      LexicalRetriever.Options lexical, boolean pairwise, String source) {
    List<Row> rows = new ArrayList<>();
    long positives = 0;
    long partners = 0;
    for (QueryCandidates q : examples) {
      List<double[]> x = new ArrayList<>(q.ids().size());
      for (int i = 0; i < q.ids().size(); i++) {
        positives += q.matches()[i] ? 1 : 0;
        x.add(LogisticBlend.vector(q.features().get(i), lexical.lexical()));
        if (!pairwise) {
          rows.add(RowFactory.create(q.matches()[i] ? 1.0 : 0.0, Vectors.dense(x.get(i))));
        }
      }
      if (pairwise) {
        for (int p = 0; p < x.size(); p++) {
          if (!q.matches()[p]) {
            continue;
          }
          for (int n = 0; n < x.size(); n++) {
            if (!q.matches()[n]) {
              rows.add(RowFactory.create(1.0, Vectors.dense(difference(x.get(p), x.get(n)))));
              rows.add(RowFactory.create(0.0, Vectors.dense(difference(x.get(n), x.get(p)))));
            }
          }
        }
      }
      partners += truth.get(q.query()).size();
    }
    Dataset<Row> data = spark.createDataFrame(rows, EXAMPLES);
    LogisticRegressionModel fitted = new LogisticRegression().setMaxIter(200).setRegParam(1e-3)
        .setElasticNetParam(0).setStandardization(true).setFitIntercept(!pairwise).fit(data);
    LogisticBlend blend = new LogisticBlend(fitted.intercept(), fitted.coefficients().toArray(),
        lexical.lexical().ngram(), lexical.lexical(), source);
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("queries", examples.size());
    facts.put("candidates_per_retriever", lexical.candidates());
    facts.put("examples", rows.size());
    facts.put("positives", positives);
    facts.put("partners_not_among_candidates", partners - positives);
    facts.put("lexical", Map.of("wordWeight", lexical.lexical().wordWeight(), "modelWeight",
        lexical.lexical().modelWeight(), "ngram", lexical.lexical().ngram()));
    facts.put("objective", pairwise ? "pairwise: a partner against each other candidate of its query" : "pointwise");
    facts.put("regularisation", "L2 1e-3 on standardised features (MLlib LogisticRegression)");
    return new Result(blend, facts);
  }

  /**
   * The evaluate job's metrics ({@link Evaluation#metrics}) of the candidates ranked by {@code blend}: best score
   * first, ties to the lower corpus id.
   */
  static Map<String, Object> metrics(List<QueryCandidates> candidates, Blend blend, Map<String, Set<String>> truth) {
    Map<String, List<RankedLists.Neighbor>> lists = new HashMap<>();
    for (QueryCandidates q : candidates) {
      List<RankedLists.Neighbor> list = new ArrayList<>();
      for (int i = 0; i < q.ids().size(); i++) {
        list.add(new RankedLists.Neighbor(q.ids().get(i), blend.score(q.features().get(i))));
      }
      // ids are in corpus order; a stable sort keeps the lower one first on ties
      list.sort(Comparator.comparing(RankedLists.Neighbor::score, Comparator.reverseOrder()));
      lists.put(q.query(), list);
    }
    Map<String, Set<String>> queried = new TreeMap<>();
    candidates.forEach(q -> queried.put(q.query(), truth.get(q.query())));
    return Evaluation.metrics(new RankedLists(lists), queried);
  }

  private static double[] difference(double[] a, double[] b) {
    double[] d = new double[a.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = a[i] - b[i];
    }
    return d;
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
