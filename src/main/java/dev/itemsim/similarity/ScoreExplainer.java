package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Why a corpus item scores what it does for a query: each scorer's contribution to the final score, recomputed
 * from the stored vectors and texts with the code the retriever scores with ({@link HybridRanker#score},
 * {@link LexicalFeatures}, fitted on the same texts as the search fitted them), and the model numbers and
 * words the two texts share ({@link LexicalTokenizer}).
 *
 * <ul>
 *   <li>embedding: {@code cosine × 1};
 *   <li>lexical: {@code cos(words) × wordWeight + cos(char n-grams) × (1 − wordWeight − modelWeight) +
 *       cos(model numbers) × modelWeight};
 *   <li>hybrid: {@code embedding cosine × embeddingWeight} plus the lexical parts, each weight multiplied by
 *       {@code 1 − embeddingWeight};
 *   <li>a user profile (queries with a {@link UserProfiles#HISTORY} column): one part per history item,
 *       {@code cos(history item, item) × weight / ‖Σ weight · embedding‖}, which add up to the profile's cosine.
 * </ul>
 * A search with collapsed duplicate texts fitted its TF-IDF on one copy of each text, this explainer on all
 * of them: the lexical parts may then differ from the search's in the last digits.
 */
public final class ScoreExplainer {
  /** How many shared words an explanation names. */
  static final int WORDS_NAMED = 12;

  /** One term of a score: {@code cosine × weight}. */
  public record Part(String name, double cosine, double weight) {
    public double contribution() {
      return cosine * weight;
    }
  }

  /**
   * @param storedScore the score the search wrote (null when unknown)
   * @param score the score recomputed from the parts' code
   * @param parts the terms of the score; their contributions add up to {@code score}
   */
  public record Explanation(String queryId, String itemId, Float storedScore, double score, List<Part> parts,
      List<String> sharedModelNumbers, List<String> sharedWords) {

    /** The score as the sum of its terms, e.g. {@code 0.812 = 0.300 × embedding 0.913 + 0.140 × words 0.512}. */
    public String formula() {
      StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%.4f =", score));
      for (int i = 0; i < parts.size(); i++) {
        Part p = parts.get(i);
        s.append(i == 0 ? " " : " + ").append(String.format(Locale.ROOT, "%.3f × %s %.3f", p.weight(), p.name(),
            p.cosine()));
      }
      return s.toString();
    }

    /** The shared model numbers and words, e.g. {@code model numbers: dscw120; words: sony, cyber}. */
    public String shared() {
      return "model numbers: " + (sharedModelNumbers.isEmpty() ? "none" : String.join(", ", sharedModelNumbers))
          + "; words: " + (sharedWords.isEmpty() ? "none" : String.join(", ", sharedWords));
    }
  }

  private final SparkSession spark;
  private final Dataset<Row> queries;
  private final Dataset<Row> corpus;
  private final double embeddingWeight;
  private final LexicalFeatures.Settings lexical;
  private final Map<String, Integer> queryLexicalIndex;
  private final Map<String, Integer> corpusLexicalIndex;
  private final SparseVectors queryLexical;
  private final SparseVectors corpusLexical;

  private ScoreExplainer(SparkSession spark, Dataset<Row> queries, Dataset<Row> corpus, double embeddingWeight,
      LexicalFeatures.Settings lexical, Map<String, Integer> queryIndex, Map<String, Integer> corpusIndex,
      SparseVectors queryLexical, SparseVectors corpusLexical) {
    this.spark = spark;
    this.queries = queries;
    this.corpus = corpus;
    this.embeddingWeight = embeddingWeight;
    this.lexical = lexical;
    this.queryLexicalIndex = queryIndex;
    this.corpusLexicalIndex = corpusIndex;
    this.queryLexical = queryLexical;
    this.corpusLexical = corpusLexical;
  }

  /**
   * Prepares explanations of {@code retriever}'s scores of {@code corpus} items for {@code queries} (both
   * {@link SearchItems} datasets; {@code corpus} null when one catalogue was searched against itself). For
   * lexical scorers this fits TF-IDF on every text, as the search did.
   */
  public static ScoreExplainer of(SparkSession spark, Retriever retriever, Dataset<Row> queries, Dataset<Row> corpus) {
    double embeddingWeight;
    LexicalFeatures.Settings lexical;
    if (retriever instanceof HybridRetriever h) {
      embeddingWeight = h.options().embeddingWeight();
      lexical = h.options().lexical().lexical();
    } else if (retriever instanceof LexicalRetriever l) {
      embeddingWeight = 0;
      lexical = l.options().lexical();
    } else {
      embeddingWeight = 1;
      lexical = null;
    }
    boolean self = corpus == null || corpus == queries;
    Dataset<Row> other = self ? queries : corpus;
    if (lexical == null || embeddingWeight == 1) {
      return new ScoreExplainer(spark, queries, other, embeddingWeight, null, Map.of(), Map.of(), null, null);
    }
    CollectedItems q = CollectedItems.collect(queries, 0, true, List.of());
    CollectedItems c = self ? q : CollectedItems.collect(corpus, 0, true, List.of());
    List<SparseVectors> vectors = LexicalFeatures.build(spark, self ? List.of(Arrays.asList(q.texts()))
        : List.of(Arrays.asList(q.texts()), Arrays.asList(c.texts())), lexical);
    return new ScoreExplainer(spark, queries, other, embeddingWeight, lexical, q.indexById(), c.indexById(),
        vectors.get(0), vectors.get(vectors.size() - 1));
  }

  /**
   * Explains each pair {@code (query id, corpus id, stored score or null)}; pairs naming an unknown id are
   * left out.
   */
  public List<Explanation> explain(List<Object[]> pairs) {
    Set<String> queryIds = new LinkedHashSet<>();
    Set<String> corpusIds = new LinkedHashSet<>();
    for (Object[] p : pairs) {
      queryIds.add((String) p[0]);
      corpusIds.add((String) p[1]);
    }
    Map<String, Row> queryRows = rows(queries, queryIds, true);
    Map<String, List<Object[]>> histories = new HashMap<>();
    for (Map.Entry<String, Row> e : queryRows.entrySet()) {
      Row r = e.getValue();
      int h = Arrays.asList(r.schema().fieldNames()).indexOf(UserProfiles.HISTORY);
      if (h >= 0 && !r.isNullAt(h)) {
        List<Object[]> history = new ArrayList<>();
        for (Row item : r.<Row>getList(h)) {
          history.add(new Object[] {item.getString(0), item.getDouble(1)});
          corpusIds.add(item.getString(0));
        }
        histories.put(e.getKey(), history);
      }
    }
    Map<String, Row> corpusRows = rows(corpus, corpusIds, false);
    List<Explanation> out = new ArrayList<>();
    for (Object[] p : pairs) {
      Row q = queryRows.get((String) p[0]);
      Row c = corpusRows.get((String) p[1]);
      if (q == null || c == null) {
        continue;
      }
      List<Object[]> history = histories.get((String) p[0]);
      List<Part> parts = history != null ? historyParts(history, corpusRows, c) : parts(q, c);
      double score = history != null ? parts.stream().mapToDouble(Part::contribution).sum()
          : pairScore(q, c);
      List<String> qWords = LexicalTokenizer.words(q.getString(1));
      List<String> cWords = LexicalTokenizer.words(c.getString(1));
      List<String> words = shared(qWords, cWords);
      out.add(new Explanation((String) p[0], (String) p[1], (Float) p[2], score, parts,
          shared(LexicalTokenizer.modelNumbers(qWords), LexicalTokenizer.modelNumbers(cWords)),
          words.subList(0, Math.min(WORDS_NAMED, words.size()))));
    }
    return out;
  }

  /** {@code item_id, text, embedding[, history]} of {@code ids}. */
  private Map<String, Row> rows(Dataset<Row> items, Set<String> ids, boolean withHistory) {
    List<String> columns = new ArrayList<>(List.of(SearchItems.ID, SearchItems.TEXT, SearchItems.EMBEDDING));
    if (withHistory && Arrays.asList(items.columns()).contains(UserProfiles.HISTORY)) {
      columns.add(UserProfiles.HISTORY);
    }
    Map<String, Row> out = new HashMap<>();
    for (Row r : items.select(columns.stream().map(org.apache.spark.sql.functions::col).toArray(
        org.apache.spark.sql.Column[]::new)).filter(col(SearchItems.ID).isin(ids.toArray())).collectAsList()) {
      out.put(r.getString(0), r);
    }
    return out;
  }

  /** The retriever's terms for one pair. */
  private List<Part> parts(Row q, Row c) {
    List<Part> parts = new ArrayList<>();
    if (embeddingWeight > 0) {
      parts.add(new Part("embedding", cosine(q, c), embeddingWeight));
    }
    if (lexical != null && embeddingWeight < 1) {
      Integer qi = queryLexicalIndex.get(q.getString(0));
      Integer ci = corpusLexicalIndex.get(c.getString(0));
      double[] dots = qi == null || ci == null ? new double[LexicalFeatures.PARTS.size()]
          : LexicalFeatures.partDots(queryLexical, qi, corpusLexical, ci);
      double[] weights = LexicalFeatures.partWeights(lexical);
      for (int p = 0; p < dots.length; p++) {
        double weight = (1 - embeddingWeight) * weights[p];
        parts.add(new Part(LexicalFeatures.PARTS.get(p), weights[p] > 0 ? dots[p] / weights[p] : 0, weight));
      }
    }
    return parts;
  }

  /** The pair's score through the scorer's own function, on vectors and lexical rows picked for the pair. */
  private double pairScore(Row q, Row c) {
    VectorBlocks qv = VectorBlocks.of(List.of(vector(q)), vector(q).length, 1);
    VectorBlocks cv = VectorBlocks.of(List.of(vector(c)), vector(c).length, 1);
    if (lexical == null || embeddingWeight == 1) {
      return HybridRanker.dot(qv, 0, cv, 0);
    }
    Integer qi = queryLexicalIndex.get(q.getString(0));
    Integer ci = corpusLexicalIndex.get(c.getString(0));
    if (qi == null || ci == null) {
      return Double.NaN;
    }
    return HybridRanker.score(0, 0, qv, cv, queryLexical.rows(new int[] {qi}), corpusLexical.rows(new int[] {ci}),
        embeddingWeight);
  }

  /** A profile's cosine split by history item: {@code cos(item_i, item) × weight_i / ‖Σ weight_j · e_j‖}. */
  private static List<Part> historyParts(List<Object[]> history, Map<String, Row> corpusRows, Row item) {
    float[] target = vector(item);
    double[] sum = new double[target.length];
    List<float[]> vectors = new ArrayList<>();
    for (Object[] h : history) {
      Row r = corpusRows.get((String) h[0]);
      float[] v = r == null ? null : vector(r);
      vectors.add(v);
      if (v != null) {
        for (int k = 0; k < v.length; k++) {
          sum[k] += (double) h[1] * v[k];
        }
      }
    }
    double norm = Math.sqrt(Arrays.stream(sum).map(x -> x * x).sum());
    List<Part> parts = new ArrayList<>();
    for (int i = 0; i < history.size(); i++) {
      float[] v = vectors.get(i);
      if (v == null || norm == 0) {
        continue;
      }
      Row r = corpusRows.get((String) history.get(i)[0]);
      String text = r.getString(1);
      parts.add(new Part("history " + r.getString(0) + " (" + (text.length() <= 48 ? text : text.substring(0, 47)
          + "…") + ")", dot(v, target), (double) history.get(i)[1] / norm));
    }
    parts.sort((a, b) -> Double.compare(b.contribution(), a.contribution()));
    return parts;
  }

  private static double cosine(Row q, Row c) {
    return dot(vector(q), vector(c));
  }

  /** As {@link HybridRanker#dot}: float products summed in double. */
  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int k = 0; k < a.length; k++) {
      s += a[k] * b[k];
    }
    return (float) s;
  }

  private static float[] vector(Row r) {
    return CollectedItems.floats(r.getList(2));
  }

  /** The distinct entries of {@code a} that {@code b} also has, in {@code a}'s order. */
  private static List<String> shared(List<String> a, List<String> b) {
    Set<String> inB = new LinkedHashSet<>(b);
    Set<String> out = new LinkedHashSet<>();
    for (String w : a) {
      if (inB.contains(w)) {
        out.add(w);
      }
    }
    return new ArrayList<>(out);
  }

  /** Explanations by (query id, corpus id), for lookups. */
  public static Map<String, Explanation> byPair(List<Explanation> explanations) {
    Map<String, Explanation> out = new LinkedHashMap<>();
    explanations.forEach(e -> out.put(e.queryId() + "\u0000" + e.itemId(), e));
    return out;
  }
}
