package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;

import dev.itemsim.InvalidInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.fs.Path;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The lexical and hybrid retrievers' shared work, on the executors:
 * <ol>
 *   <li>TF-IDF fitted with MLlib on all texts (both catalogues of a cross-catalogue search), or weighted by
 *       document frequencies frozen at an earlier fit ({@link LexicalFeatures.Frequencies}, incremental runs);
 *   <li>each side written as {@link ItemShards} (items in id order, contiguous id ranges) by the executors;
 *       the corpus's frequent features (in more than {@code maxPostings} items) counted from the shards;
 *   <li>for the hybrid, the embedding retriever's top-K lists (whatever search produced them), mapped to
 *       global indexes and sent to the task of each query's chunk by a shuffle;
 *   <li>one task per chunk of queries ({@link ShardSearch}): lexical candidates against every corpus shard,
 *       the union with the embedding candidates scored exactly, the best N listed.
 * </ol>
 * The lists equal those of one inverted index and one candidate union over the whole catalogue, which is what
 * this class did on the driver before. The driver holds the document frequencies (at most one per feature of
 * the hashed feature space), the shard offsets, the chunk plan and the frequent features, none of it proportional to
 * the number of items; what the embedding retriever keeps on the driver is its own.
 */
final class CandidateReranking {
  private static final Logger LOG = LoggerFactory.getLogger(CandidateReranking.class);
  /** Fewest queries per chunk: below this a task's fixed costs (reading every corpus shard) dominate. */
  static final int MIN_CHUNK_ROWS = 256;

  private CandidateReranking() {}

  /**
   * @param blend how a pair's embedding and lexical cosines combine ({@link Blend#LEXICAL} for the
   *     lexical scorer)
   * @param embedding the retriever finding the embedding candidates (its kernel and search method); null: no
   *     embedding candidates (lexical scorer)
   */
  static Ranking rank(SparkSession spark, SearchRequest request, String name, LexicalRetriever.Options lexical,
      Blend blend, EmbeddingRetriever embedding) {
    return rank(spark, request, name, lexical, blend, embedding, null);
  }

  /**
   * As {@link #rank(SparkSession, SearchRequest, String, LexicalRetriever.Options, Blend,
   * EmbeddingRetriever)}, with lexical weights from {@code frequencies} instead of fitted on the texts of the
   * request (null: fitted).
   */
  static Ranking rank(SparkSession spark, SearchRequest request, String name, LexicalRetriever.Options lexical,
      Blend blend, EmbeddingRetriever embedding, LexicalFeatures.Frequencies frequencies) {
    boolean hybrid = embedding != null;
    if (!hybrid && blend.readsEmbedding()) {
      throw new IllegalArgumentException("a blend that reads embeddings needs embedding candidates");
    }
    boolean self = request.self();
    List<String> filters = request.filter().columns();
    SearchItems.check(request.queries(), "queries", blend.readsEmbedding(), true, filters);
    if (!self) {
      SearchItems.check(request.corpus(), "corpus items", blend.readsEmbedding(), true, filters);
    }
    long queryCount = request.queries().count();
    long corpusCount = self ? queryCount : request.corpus().count();
    if (queryCount == 0 || corpusCount == 0) {
      return new EmbeddingRetriever.EmptyRanking(spark, new SearchFacts(name, null, null, null, null, null, null, null));
    }
    if (corpusCount > Integer.MAX_VALUE || queryCount > Integer.MAX_VALUE) {
      throw new InvalidInputException("The lexical and hybrid scorers take at most " + Integer.MAX_VALUE + " items");
    }
    long t0 = System.nanoTime();
    LexicalFeatures.Fitted tfidf = LexicalFeatures.fit(self ? List.of(request.queries())
        : List.of(request.queries(), request.corpus()), lexical.lexical(), frequencies);
    String root = new Path(request.scratchDir(), "lexical-" + UUID.randomUUID()).toString();
    int shardSize = lexical.shardSize();
    boolean vectors = blend.readsEmbedding();
    List<Runnable> cleanup = new ArrayList<>();
    cleanup.add(() -> ScratchPaths.delete(root, spark.sparkContext().hadoopConfiguration()));
    try {
      ItemShards queries = ItemShards.write(spark, request.queries(), tfidf, shards(queryCount, shardSize), vectors,
          filters, new Path(root, "queries").toString(), "queries");
      cleanup.add(cleanup.size() - 1, queries::delete);
      ItemShards corpus = queries;
      if (!self) {
        corpus = ItemShards.write(spark, request.corpus(), tfidf, shards(corpusCount, shardSize), vectors, filters,
            new Path(root, "corpus").toString(), "corpus items");
        cleanup.add(cleanup.size() - 1, corpus::delete);
        if (vectors && queries.dim() != corpus.dim()) {
          throw new InvalidInputException("Query vectors have dimension " + queries.dim() + ", corpus vectors "
              + corpus.dim() + ": both sides must be encoded with the same model");
        }
      }
      int[] frequent = corpus.frequentFeatures(spark, lexical.lexical().maxPostingsFor((int) corpusCount));
      int k = Math.max(request.topN(), lexical.candidates());
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      List<ShardSearch.Chunk> chunks = ShardSearch.plan(queries, chunkRows(queryCount, jsc.defaultParallelism(),
          shardSize));
      ShardSearch.Setup setup = new ShardSearch.Setup(corpus, self, frequent, request.filter(), blend, k,
          request.topN());
      LOG.info("{} search: {} queries in {} shards, {} corpus items in {} shards, {} chunks; {} frequent features "
              + "passed over while gathering candidates; prepared in {} ms", name, queryCount, queries.numShards(),
          corpusCount, corpus.numShards(), chunks.size(), frequent.length, (System.nanoTime() - t0) / 1_000_000);
      Ranking embeddingRanking = null;
      JavaRDD<Row> rows;
      if (hybrid) {
        embeddingRanking = embedding.rank(spark, new SearchRequest(request.queries(),
            request.corpus(), k, request.filter(), request.scratchDir()));
        cleanup.add(0, embeddingRanking::close);
        rows = embeddingPairs(spark, embeddingRanking.rows(), queries, corpus, chunks)
            .mapPartitionsWithIndex((i, pairs) -> rankChunk(queries, chunks.get(i), setup, pairs), true);
      } else {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
          ids.add(i);
        }
        rows = jsc.parallelize(ids, Math.max(1, ids.size()))
            .mapPartitionsWithIndex((i, none) -> rankChunk(queries, chunks.get(i), setup,
                java.util.Collections.emptyIterator()), true);
      }
      SearchFacts facts = hybrid ? embeddingRanking.facts().withScorer(name)
          : new SearchFacts(name, null, null, null, null, null, null, null);
      return new ShardRanking(spark, spark.createDataFrame(rows, Ranking.SCHEMA), facts, queries, chunks, setup,
          cleanup);
    } catch (Throwable e) {  // Spark actions throw checked exceptions Java does not see declared
      for (Runnable r : cleanup) {
        try {
          r.run();
        } catch (RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  /** Shards of about {@code shardSize} items for {@code count} items. */
  static int shards(long count, int shardSize) {
    return (int) Math.max(1, (count + shardSize - 1) / shardSize);
  }

  /**
   * Queries per task: about four tasks per core so no core idles through the last round, at least
   * {@value #MIN_CHUNK_ROWS}, at most a shard (a task reads every corpus shard, so fewer, larger chunks read
   * less).
   */
  static int chunkRows(long queries, int parallelism, int shardSize) {
    long perTask = (queries + 4L * parallelism - 1) / (4L * parallelism);
    return (int) Math.min(shardSize, Math.max(MIN_CHUNK_ROWS, perTask));
  }

  /** Ranks one chunk in a task: its query shard read, its embedding pairs gathered, lists as rows. */
  private static Iterator<Row> rankChunk(ItemShards queries, ShardSearch.Chunk chunk, ShardSearch.Setup setup,
      Iterator<Tuple2<Integer, EmbeddingPairs>> embeddingPairs) {
    PairBuffer all = new PairBuffer();
    embeddingPairs.forEachRemaining(part -> all.addAll(part._2()));
    Shard shard = queries.read(chunk.shard(), setup.queryParts(true), null);
    List<Row> out = new ArrayList<>();
    for (ShardSearch.Listed l : ShardSearch.rank(shard, chunk, all.pairs, all.ranks, all.size, setup)) {
      out.add(RowFactory.create(l.queryId(), l.rank(), l.neighborId(), l.score()));
    }
    return out.iterator();
  }

  /**
   * Embedding candidates of one chunk's queries: {@code pairs[i] = corpus index << 32 | query row in the chunk},
   * {@code ranks[i]} its 1-based rank in the query's embedding list.
   */
  record EmbeddingPairs(long[] pairs, int[] ranks) implements java.io.Serializable {}

  /** A growing {@link EmbeddingPairs}. */
  private static final class PairBuffer {
    long[] pairs = new long[64];
    int[] ranks = new int[64];
    int size;

    void add(long pair, int rank) {
      if (size == pairs.length) {
        pairs = Arrays.copyOf(pairs, 2 * size);
        ranks = Arrays.copyOf(ranks, 2 * size);
      }
      pairs[size] = pair;
      ranks[size++] = rank;
    }

    void addAll(EmbeddingPairs more) {
      for (int i = 0; i < more.pairs().length; i++) {
        add(more.pairs()[i], more.ranks()[i]);
      }
    }

    EmbeddingPairs done() {
      return new EmbeddingPairs(Arrays.copyOf(pairs, size), Arrays.copyOf(ranks, size));
    }
  }

  /**
   * The embedding lists' pairs as global indexes with their ranks, grouped by the chunk of their query and sent
   * to partition {@code chunk}.
   */
  private static JavaPairRDD<Integer, EmbeddingPairs> embeddingPairs(SparkSession spark, Dataset<Row> lists,
      ItemShards queries, ItemShards corpus, List<ShardSearch.Chunk> chunks) {
    Dataset<Row> queryIndex = queries.index(spark).toDF("_q_id", "_q");
    Dataset<Row> corpusIndex = corpus.index(spark).toDF("_c_id", "_c");
    Dataset<Row> indexed = lists.join(queryIndex, col(SearchItems.ID).equalTo(col("_q_id")))
        .join(corpusIndex, col("neighbor_id").equalTo(col("_c_id"))).select(col("_q"), col("_c"), col("rank"));
    return indexed.javaRDD().mapPartitionsToPair(rows -> new ChunkedPairs(rows, chunks, PAIRS_PER_PART))
        .partitionBy(new ChunkPartitioner(chunks.size()));
  }

  /** Pairs a map task holds per chunk before it passes them on (a task's memory stays bounded whatever n). */
  static final int PAIRS_PER_PART = 1 << 16;

  /**
   * A task's {@code (query index, corpus index, rank)} rows as parts of at most {@code limit} pairs of one
   * chunk each, produced as the rows are read: a part leaves as soon as it is full, the rest at the end.
   */
  static final class ChunkedPairs implements Iterator<Tuple2<Integer, EmbeddingPairs>> {
    private final Iterator<Row> rows;
    private final List<ShardSearch.Chunk> chunks;
    private final int limit;
    private final Map<Integer, PairBuffer> byChunk = new HashMap<>();
    private final java.util.ArrayDeque<Tuple2<Integer, EmbeddingPairs>> ready = new java.util.ArrayDeque<>();

    ChunkedPairs(Iterator<Row> rows, List<ShardSearch.Chunk> chunks, int limit) {
      this.rows = rows;
      this.chunks = chunks;
      this.limit = limit;
    }

    @Override
    public boolean hasNext() {
      while (ready.isEmpty() && rows.hasNext()) {
        Row r = rows.next();
        int q = r.getInt(0);
        int chunk = ShardSearch.chunkOf(chunks, q);
        PairBuffer buffer = byChunk.computeIfAbsent(chunk, c -> new PairBuffer());
        buffer.add((long) r.getInt(1) << 32 | (q - chunks.get(chunk).first()), r.getInt(2));
        if (buffer.size == limit) {
          ready.add(new Tuple2<>(chunk, buffer.done()));
          byChunk.remove(chunk);
        }
      }
      if (ready.isEmpty() && !byChunk.isEmpty()) {
        byChunk.forEach((chunk, buffer) -> ready.add(new Tuple2<>(chunk, buffer.done())));
        byChunk.clear();
      }
      return !ready.isEmpty();
    }

    @Override
    public Tuple2<Integer, EmbeddingPairs> next() {
      if (!hasNext()) {
        throw new java.util.NoSuchElementException();
      }
      return ready.poll();
    }
  }

  /** Chunk number → partition of the same number. */
  private static final class ChunkPartitioner extends Partitioner {
    private final int chunks;

    ChunkPartitioner(int chunks) {
      this.chunks = chunks;
    }

    @Override
    public int numPartitions() {
      return chunks;
    }

    @Override
    public int getPartition(Object key) {
      return (Integer) key;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ChunkPartitioner p && p.chunks == chunks;
    }

    @Override
    public int hashCode() {
      return chunks;
    }
  }

  /** Lists computed lazily by chunk tasks from the shard files; pair scores by the same tasks' scoring. */
  private static final class ShardRanking implements Ranking {
    private final SparkSession spark;
    private final Dataset<Row> rows;
    private final SearchFacts facts;
    private final ItemShards queries;
    private final List<ShardSearch.Chunk> chunks;
    private final ShardSearch.Setup setup;
    private final List<Runnable> cleanup;
    private boolean closed;

    ShardRanking(SparkSession spark, Dataset<Row> rows, SearchFacts facts, ItemShards queries,
        List<ShardSearch.Chunk> chunks, ShardSearch.Setup setup, List<Runnable> cleanup) {
      this.spark = spark;
      this.rows = rows;
      this.facts = facts;
      this.queries = queries;
      this.chunks = chunks;
      this.setup = setup;
      this.cleanup = cleanup;
    }

    @Override
    public Dataset<Row> rows() {
      return rows;
    }

    @Override
    public SearchFacts facts() {
      return facts;
    }

    @Override
    public Dataset<Row> score(Dataset<Row> pairs) {
      Dataset<Row> queryIndex = queries.index(spark).toDF("_q_id", "_q");
      Dataset<Row> corpusIndex = ((ItemShards) setup.corpus()).index(spark).toDF("_c_id", "_c");
      Dataset<Row> indexed = pairs.select(col("item_id"), col("neighbor_id"))
          .join(queryIndex, col("item_id").equalTo(col("_q_id")))
          .join(corpusIndex, col("neighbor_id").equalTo(col("_c_id")))
          .select(col("item_id"), col("neighbor_id"), col("_q"), col("_c"));
      List<ShardSearch.Chunk> plan = chunks;
      ItemShards side = queries;
      ShardSearch.Setup scoring = setup;
      JavaRDD<Row> scored = indexed.javaRDD()
          .mapToPair(r -> new Tuple2<>(ShardSearch.chunkOf(plan, r.getInt(2)), r))
          .partitionBy(new ChunkPartitioner(plan.size()))
          .mapPartitionsWithIndex((i, it) -> scoreChunk(side, plan.get(i), scoring, it), true);
      return spark.createDataFrame(scored, PAIR_SCHEMA);
    }

    @Override
    public synchronized void close() {
      if (!closed) {
        closed = true;
        Cleanups.runAll(cleanup);
      }
    }
  }

  /** Scores one chunk's pairs ({@code item_id, neighbor_id, query index, corpus index} rows) in a task. */
  private static Iterator<Row> scoreChunk(ItemShards queries, ShardSearch.Chunk chunk, ShardSearch.Setup setup,
      Iterator<Tuple2<Integer, Row>> pairs) {
    List<Row> asked = new ArrayList<>();
    pairs.forEachRemaining(p -> asked.add(p._2()));
    if (asked.isEmpty()) {
      return java.util.Collections.emptyIterator();
    }
    asked.sort(java.util.Comparator.comparingInt(r -> r.getInt(3)));
    int[] queryRows = new int[asked.size()];
    int[] corpusIndexes = new int[asked.size()];
    for (int p = 0; p < asked.size(); p++) {
      queryRows[p] = asked.get(p).getInt(2) - chunk.first() + chunk.from();
      corpusIndexes[p] = asked.get(p).getInt(3);
    }
    Shard shard = queries.read(chunk.shard(), setup.queryParts(false), null);
    List<Row> out = new ArrayList<>(asked.size());
    // pairs asked for outside the lists: their candidate ranks are unknown (0), as on the driver
    ShardSearch.score(shard, queryRows, corpusIndexes, asked.size(), null, null, setup,
        (p, score) -> out.add(RowFactory.create(asked.get(p).getString(0), asked.get(p).getString(1), score)));
    return out.iterator();
  }
}
