package dev.itemsim.similarity;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

/**
 * The lexical and hybrid retrievers' shared work: gather both sides on the driver (ids, texts, vectors for
 * the hybrid, filter values), fit TF-IDF on all texts, take each query's lexical candidates through a pruned
 * inverted index and, for the hybrid, its embedding candidates from the blocked kernel, and re-score the
 * union exactly in Spark tasks of up to {@value #QUERIES_PER_TASK} queries (index, vectors and candidate
 * lists broadcast once, destroyed after use).
 */
final class CandidateReranking {
  static final int QUERIES_PER_TASK = 2048;

  private CandidateReranking() {}

  /**
   * @param embedding the embedding candidates' options; null ranks by the lexical score alone
   *     ({@code blend} must then be the linear blend with embedding weight 0)
   */
  static Ranking rank(SparkSession spark, SearchRequest request, String name, LexicalRetriever.Options lexical,
      Blend blend, EmbeddingRetriever.Options embedding) {
    return rank(spark, request, name, lexical, blend, embedding, null);
  }

  /**
   * As {@link #rank(SparkSession, SearchRequest, String, LexicalRetriever.Options, Blend,
   * EmbeddingRetriever.Options)}, with lexical weights from {@code frequencies} instead of fitted on the texts
   * of the request (null: fitted).
   */
  static Ranking rank(SparkSession spark, SearchRequest request, String name, LexicalRetriever.Options lexical,
      Blend blend, EmbeddingRetriever.Options embedding, LexicalFeatures.Frequencies frequencies) {
    boolean hybrid = embedding != null;
    List<String> filters = request.filter().columns();
    SearchItems.check(request.queries(), "queries", hybrid, true, filters);
    int blockSize = hybrid ? embedding.blockSize() : 0;
    CollectedItems queries = CollectedItems.collect(request.queries(), blockSize, true, filters);
    CollectedItems corpus = request.self() ? queries : collectCorpus(request, blockSize, hybrid, filters);
    Sides sides = new Sides(queries, corpus, request.self(), LexicalFeatures.build(spark,
        request.self() ? List.of(Arrays.asList(queries.texts()))
            : List.of(Arrays.asList(queries.texts()), Arrays.asList(corpus.texts())), lexical.lexical(),
        frequencies), blend);
    SearchFacts facts = hybrid
        ? new SearchFacts(name, Kernels.select(embedding.kernel()).name(), ScoreChunks.best().name(),
            queries.blocks().dim(), queries.blocks().numBlocks(), embedding.blockSize(), "broadcast", null)
        : new SearchFacts(name, null, null, null, null, null, null, null);
    int n = request.topN();
    int q = queries.ids().length;
    int[][] lists = new int[q][];
    float[][] scores = new float[q][];
    if (q > 0 && corpus.ids().length > 0) {
      NeighborFilter filter = request.filter().compile(queries, corpus);
      int k = Math.max(n, lexical.candidates());
      int[][] fromEmbeddings = new int[q][];
      if (hybrid) {
        EmbeddingRetriever.lists(spark, queries, corpus, request.self(), k, filter, embedding.kernel(),
            fromEmbeddings, new float[q][]);
      } else {
        Arrays.fill(fromEmbeddings, new int[0]);
      }
      SparseTopN index = new SparseTopN(sides.corpusLexical(), lexical.lexical().maxPostingsFor(corpus.ids().length));
      rerankOnExecutors(spark, index, sides, fromEmbeddings, k, n, filter, lists, scores);
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < q; i++) {
      if (lists[i] != null) {
        NeighborRows.add(queries.ids()[i], lists[i], scores[i], lists[i].length, corpus.ids(), rows);
      }
    }
    return new DriverRanking(spark, DriverRows.of(spark, rows, Ranking.SCHEMA), facts, sides);
  }

  private static CollectedItems collectCorpus(SearchRequest request, int blockSize, boolean hybrid,
      List<String> filters) {
    SearchItems.check(request.corpus(), "corpus items", hybrid, true, filters);
    CollectedItems corpus = CollectedItems.collect(request.corpus(), blockSize, true, filters);
    return corpus;
  }

  /** Both sides as gathered, with their lexical vectors: what re-scoring and pair scores read. */
  record Sides(CollectedItems queries, CollectedItems corpus, boolean self, List<SparseVectors> lexical,
      Blend blend) {
    SparseVectors queryLexical() {
      return lexical.get(0);
    }

    SparseVectors corpusLexical() {
      return lexical.get(lexical.size() - 1);
    }

    /** The pair's score outside the candidate lists (ranks unknown: 0). */
    float score(int q, int c) {
      return HybridRanker.score(q, c, queries.blocks(), corpus.blocks(), queryLexical(), corpusLexical(), blend, 0, 0);
    }
  }

  /** A range of queries' final lists, as computed by one task. */
  private record RankedRange(int from, int[][] ids, float[][] scores) implements java.io.Serializable {}

  private static void rerankOnExecutors(SparkSession spark, SparseTopN index, Sides sides, int[][] fromEmbeddings,
      int k, int n, NeighborFilter filter, int[][] lists, float[][] scores) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<SparseTopN> sharedIndex = jsc.broadcast(index);
    Broadcast<SparseVectors> sharedLexQueries = jsc.broadcast(sides.queryLexical());
    Broadcast<SparseVectors> sharedLexCorpus = jsc.broadcast(sides.corpusLexical());
    Broadcast<VectorBlocks> sharedQueries = jsc.broadcast(orEmpty(sides.queries().blocks()));
    Broadcast<VectorBlocks> sharedCorpus = jsc.broadcast(orEmpty(sides.corpus().blocks()));
    Broadcast<int[][]> sharedCandidates = jsc.broadcast(fromEmbeddings);
    List<Integer> starts = new ArrayList<>();
    for (int from = 0; from < lists.length; from += QUERIES_PER_TASK) {
      starts.add(from);
    }
    int total = lists.length;
    boolean self = sides.self();
    Blend blend = sides.blend();
    try {
      List<RankedRange> ranges = jsc.parallelize(starts, Math.max(1, starts.size())).map(from -> {
        int to = Math.min(total, from + QUERIES_PER_TASK);
        TopNBuffer lexical = sharedIndex.value().search(sharedLexQueries.value(), from, to, k, self, filter);
        int[][] ids = new int[to - from][];
        float[][] rankedScores = new float[to - from][];
        int[] candidates = new int[k];
        float[] unused = new float[k];
        for (int q = from; q < to; q++) {
          int count = lexical.sorted(q - from, candidates, unused);
          HybridRanker.Ranked r = HybridRanker.rank(q, sharedCandidates.value()[q], Arrays.copyOf(candidates, count),
              sharedQueries.value(), sharedCorpus.value(), sharedLexQueries.value(), sharedLexCorpus.value(),
              blend, n);
          ids[q - from] = r.corpusIndexes();
          rankedScores[q - from] = r.scores();
        }
        return new RankedRange(from, ids, rankedScores);
      }).collect();
      for (RankedRange range : ranges) {
        System.arraycopy(range.ids(), 0, lists, range.from(), range.ids().length);
        System.arraycopy(range.scores(), 0, scores, range.from(), range.scores().length);
      }
    } finally {
      for (Broadcast<?> b : List.of(sharedIndex, sharedLexQueries, sharedLexCorpus, sharedQueries, sharedCorpus,
          sharedCandidates)) {
        b.destroy();
      }
    }
  }

  private static VectorBlocks orEmpty(VectorBlocks blocks) {
    return blocks != null ? blocks : VectorBlocks.of(List.of(), 1, 1);
  }

  /** Rows already computed on the driver; pair scores from the gathered sides. */
  private record DriverRanking(SparkSession spark, Dataset<Row> rows, SearchFacts facts, Sides sides)
      implements Ranking {
    @Override
    public Dataset<Row> score(Dataset<Row> pairs) {
      Map<String, Integer> queryIndex = sides.queries().indexById();
      Map<String, Integer> corpusIndex = sides.self() ? queryIndex : sides.corpus().indexById();
      List<Row> out = new ArrayList<>();
      for (Row p : pairs.select("item_id", "neighbor_id").collectAsList()) {
        Integer q = queryIndex.get(p.getString(0));
        Integer c = corpusIndex.get(p.getString(1));
        if (q != null && c != null) {
          out.add(RowFactory.create(p.getString(0), p.getString(1), sides.score(q, c)));
        }
      }
      return DriverRows.of(spark, out, PAIR_SCHEMA);
    }

    @Override
    public void close() {}
  }
}
