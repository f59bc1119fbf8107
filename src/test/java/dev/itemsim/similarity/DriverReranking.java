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
 * Test oracle: the lexical and hybrid retrievers as they were before they moved off the driver (the code of
 * {@code CandidateReranking} up to commit f529939, kept verbatim but for names): gather both sides on the
 * driver (ids, texts, vectors for the hybrid, filter values), fit TF-IDF on all texts, take each query's
 * lexical candidates through a pruned inverted index and, for the hybrid, its embedding candidates from the
 * blocked kernel over in-memory blocks, and re-score the union exactly in Spark tasks. The sharded
 * implementation must give the same lists and pair scores, bit for bit.
 */
final class DriverReranking {
  static final int QUERIES_PER_TASK = 2048;

  private DriverReranking() {}

  /**
   * @param embedding the embedding candidates' options; null ranks by the lexical score alone
   *     ({@code blend} must then be {@link Blend#LEXICAL})
   */
  static Ranking rank(SparkSession spark, SearchRequest request, String name, LexicalRetriever.Options lexical,
      Blend blend, EmbeddingRetriever.Options embedding) {
    boolean hybrid = embedding != null;
    List<String> filters = request.filter().columns();
    SearchItems.check(request.queries(), "queries", hybrid, true, filters);
    int blockSize = hybrid ? embedding.blockSize() : 0;
    CollectedItems queries = CollectedItems.collect(request.queries(), blockSize, true, filters);
    CollectedItems corpus = request.self() ? queries : collectCorpus(request, blockSize, hybrid, filters);
    Sides sides = new Sides(queries, corpus, request.self(), LexicalFeatures.build(spark,
        request.self() ? List.of(Arrays.asList(queries.texts()))
            : List.of(Arrays.asList(queries.texts()), Arrays.asList(corpus.texts())), lexical.lexical()),
        blend);
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
        embeddingLists(spark, queries, corpus, request.self(), k, filter, embedding.kernel(), fromEmbeddings);
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
    return new DriverRanking(spark, spark.createDataFrame(rows, Ranking.SCHEMA), facts, sides);
  }

  /** Every query's {@code n} best corpus items by embedding cosine, through in-memory blocks. */
  private static void embeddingLists(SparkSession spark, CollectedItems queries, CollectedItems corpus, boolean self,
      int n, NeighborFilter filter, String kernel, int[][] lists) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<scala.Tuple2<Integer, TopNBuffer>> merged;
    try (BlockedTopN.Computation computation = self ? BlockedTopN.open(jsc, queries.blocks(), n, kernel, filter)
        : BlockedTopN.openCross(jsc, queries.blocks(), corpus.blocks(), n, kernel, filter)) {
      merged = computation.buffers().collect();
    }
    for (scala.Tuple2<Integer, TopNBuffer> block : merged) {
      TopNBuffer buffer = block._2();
      int offset = queries.blocks().offsetOf(block._1());
      int[] ids = new int[buffer.n()];
      float[] s = new float[buffer.n()];
      for (int r = 0; r < buffer.rows(); r++) {
        int count = buffer.sorted(r, ids, s);
        lists[offset + r] = Arrays.copyOf(ids, count);
      }
    }
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
      return spark.createDataFrame(out, PAIR_SCHEMA);
    }

    @Override
    public void close() {}
  }
  /** The old lexical scorer as a retriever. */
  record Lexical(LexicalRetriever.Options options) implements Retriever {
    @Override
    public String name() {
      return LexicalRetriever.NAME;
    }

    @Override
    public boolean usesEmbeddings() {
      return false;
    }

    @Override
    public Map<String, Object> settings() {
      return Map.of();
    }

    @Override
    public Ranking rank(SparkSession spark, SearchRequest request) {
      return DriverReranking.rank(spark, request, LexicalRetriever.NAME, options, Blend.LEXICAL, null);
    }
  }

  /** The old hybrid scorer as a retriever. */
  record Hybrid(HybridRetriever.Options options) implements Retriever {
    @Override
    public String name() {
      return HybridRetriever.NAME;
    }

    @Override
    public boolean usesEmbeddings() {
      return true;
    }

    @Override
    public Map<String, Object> settings() {
      return Map.of();
    }

    @Override
    public Ranking rank(SparkSession spark, SearchRequest request) {
      return DriverReranking.rank(spark, request, HybridRetriever.NAME, options.lexical(), options.blend(),
          options.embedding());
    }
  }
}
