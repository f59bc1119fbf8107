package dev.itemsim.job;

import dev.itemsim.similarity.BlockedTopN;
import dev.itemsim.similarity.HybridRanker;
import dev.itemsim.similarity.LexicalFeatures;
import dev.itemsim.similarity.NeighborFilter;
import dev.itemsim.similarity.SparseTopN;
import dev.itemsim.similarity.SparseVectors;
import dev.itemsim.similarity.TopNBuffer;
import dev.itemsim.similarity.VectorBlocks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * Ranks corpus items for query items under a {@link ScoringSettings} scorer, the one code path both the
 * similar-items and the evaluate job use: {@code embedding} (exact blocked top-N), {@code lexical} (sparse
 * candidates re-scored exactly) or {@code hybrid} (union of both retrievers' candidates, blended score).
 * Query and corpus being the same object means one catalogue: an item never lists itself.
 */
final class Ranker {
  private final SparkSession spark;
  private final ScoringSettings scoring;

  Ranker(SparkSession spark, ScoringSettings scoring) {
    this.spark = spark;
    this.scoring = scoring;
  }

  /** Per query index: corpus indexes and scores, best first. */
  record Lists(int[][] ids, float[][] scores) {}

  /**
   * The top {@code n} of every query; {@code lexical} (from {@link #lexical}) is needed unless the scorer is
   * embedding; {@code filter} may be null.
   */
  Lists rank(EncodedItems queries, EncodedItems corpus, List<SparseVectors> lexical, int n,
      NeighborFilter filter) {
    boolean self = queries == corpus;
    int[][] lists = new int[queries.ids().length][];
    float[][] scores = new float[queries.ids().length][];
    if (scoring.scorer().equals("embedding")) {
      embeddingLists(queries, corpus, n, filter, lists, scores);
      return new Lists(lists, scores);
    }
    // lexical: pruned candidates re-scored exactly; hybrid: the union of both retrievers' candidates
    int k = Math.max(n, scoring.candidates());
    int[][] fromEmbeddings = new int[queries.ids().length][];
    if (scoring.hybrid()) {
      embeddingLists(queries, corpus, k, filter, fromEmbeddings, new float[queries.ids().length][]);
    } else {
      Arrays.fill(fromEmbeddings, new int[0]);
    }
    SparseTopN index = new SparseTopN(lexical.get(1), scoring.lexical().maxPostingsFor(corpus.ids().length));
    double embeddingWeight = scoring.hybrid() ? scoring.embeddingWeight() : 0;
    rerankOnExecutors(index, lexical.get(0), lexical.get(1), queries.blocks(), corpus.blocks(), fromEmbeddings, k,
        n, self, filter, embeddingWeight, lists, scores);
    return new Lists(lists, scores);
  }

  /** A range of queries' final lists, as computed by one task. */
  private record RankedRange(int from, int[][] ids, float[][] scores) implements java.io.Serializable {}

  /**
   * Gathers lexical candidates and re-ranks them with the embedding candidates, in Spark tasks of up to
   * 2,048 queries each (index, vectors and candidate lists broadcast once).
   */
  private void rerankOnExecutors(SparseTopN index, SparseVectors lexQueries, SparseVectors lexCorpus,
      VectorBlocks queryVectors, VectorBlocks corpusVectors, int[][] fromEmbeddings, int k, int n, boolean self,
      NeighborFilter filter, double embeddingWeight, int[][] lists, float[][] scores) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<SparseTopN> sharedIndex = jsc.broadcast(index);
    Broadcast<SparseVectors> sharedLexQueries = jsc.broadcast(lexQueries);
    Broadcast<SparseVectors> sharedLexCorpus = jsc.broadcast(lexCorpus);
    Broadcast<VectorBlocks> sharedQueries = jsc.broadcast(queryVectors);
    Broadcast<VectorBlocks> sharedCorpus = jsc.broadcast(corpusVectors);
    Broadcast<int[][]> sharedCandidates = jsc.broadcast(fromEmbeddings);
    List<Integer> starts = new ArrayList<>();
    for (int from = 0; from < lists.length; from += 2048) {
      starts.add(from);
    }
    int total = lists.length;
    List<RankedRange> ranges = jsc.parallelize(starts, Math.max(1, starts.size())).map(from -> {
      int to = Math.min(total, from + 2048);
      TopNBuffer lexical = sharedIndex.value().search(sharedLexQueries.value(), from, to, k, self, filter);
      int[][] ids = new int[to - from][];
      float[][] rankedScores = new float[to - from][];
      int[] candidates = new int[k];
      float[] unused = new float[k];
      for (int q = from; q < to; q++) {
        int count = lexical.sorted(q - from, candidates, unused);
        HybridRanker.Ranked r = HybridRanker.rank(q, sharedCandidates.value()[q], Arrays.copyOf(candidates, count),
            sharedQueries.value(), sharedCorpus.value(), sharedLexQueries.value(), sharedLexCorpus.value(),
            embeddingWeight, n);
        ids[q - from] = r.corpusIndexes();
        rankedScores[q - from] = r.scores();
      }
      return new RankedRange(from, ids, rankedScores);
    }).collect();
    for (RankedRange range : ranges) {
      System.arraycopy(range.ids(), 0, lists, range.from(), range.ids().length);
      System.arraycopy(range.scores(), 0, scores, range.from(), range.scores().length);
    }
    for (Broadcast<?> b : List.of(sharedIndex, sharedLexQueries, sharedLexCorpus, sharedQueries, sharedCorpus,
        sharedCandidates)) {
      b.destroy();
    }
  }

  /**
   * Lexical vectors of the query and corpus items, fitted together (one list when they are the same items):
   * element 0 for the queries, element 1 for the corpus.
   */
  List<SparseVectors> lexical(EncodedItems queries, EncodedItems corpus) {
    List<SparseVectors> built = LexicalFeatures.build(spark, queries == corpus ? List.of(Arrays.asList(queries.texts()))
        : List.of(Arrays.asList(queries.texts()), Arrays.asList(corpus.texts())), scoring.lexical());
    return List.of(built.get(0), built.get(built.size() - 1));
  }

  private void embeddingLists(EncodedItems queries, EncodedItems corpus, int n, NeighborFilter filter,
      int[][] lists, float[][] scores) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    var buffers = queries == corpus
        ? BlockedTopN.compute(jsc, queries.blocks(), n, scoring.kernel(), filter)
        : BlockedTopN.computeCross(jsc, queries.blocks(), corpus.blocks(), n, scoring.kernel(), filter);
    for (scala.Tuple2<Integer, TopNBuffer> block : buffers.collect()) {
      fromBuffer(block._2(), queries.blocks().offsetOf(block._1()), lists, scores);
    }
  }

  private static void fromBuffer(TopNBuffer buffer, int offset, int[][] lists, float[][] scores) {
    int[] ids = new int[buffer.n()];
    float[] s = new float[buffer.n()];
    for (int r = 0; r < buffer.rows(); r++) {
      int count = buffer.sorted(r, ids, s);
      lists[offset + r] = Arrays.copyOf(ids, count);
      scores[offset + r] = Arrays.copyOf(s, count);
    }
  }
}
