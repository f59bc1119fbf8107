package dev.itemsim.similarity;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One task's share of a lexical or hybrid search: a chunk of consecutive queries against every corpus shard,
 * one shard in memory at a time. Pure Java, no Spark: {@link CandidateReranking} runs one chunk per task.
 *
 * <ol>
 *   <li>Lexical candidates ({@link #lexicalCandidates}): the chunk's lexical vectors go into an inverted
 *       index without the corpus's frequent features, then each corpus row of each shard adds its products to
 *       the scores of the queries sharing a feature with it ({@link SparseTopN#accumulate}), and every
 *       touched query keeps its best K in a bounded list. Each score is the same float sum, in the same
 *       feature order, as a search of the whole corpus's index ({@link SparseTopN#search}), and the best K of
 *       the union of shards is the best K of the whole, so the candidates are exactly those of one index over
 *       the whole corpus; ties go to the lower corpus index, i.e. the lower id.
 *   <li>Exact scores ({@link #score}): each query's candidates — its lexical K and the embedding
 *       retriever's K — sorted by corpus index and scored shard by shard from both sides' embeddings and
 *       lexical vectors (and, for a learned blend, the lexical parts and both candidate ranks), blended by
 *       {@link Blend}; the best N are the query's list.
 * </ol>
 *
 * <p>Memory per task: the query chunk (vectors and index), one corpus shard, a K-long and an N-long list
 * per query, and the chunk's candidate pairs; none of it grows with the corpus.
 */
final class ShardSearch {
  private ShardSearch() {}

  /** Queries {@code from .. to − 1} of query shard {@code shard}, global indexes from {@code first}. */
  record Chunk(int shard, int from, int to, int first) implements Serializable {
    int size() {
      return to - from;
    }
  }

  /** Chunks of at most {@code rows} queries each, in index order, never across shards; empty shards have none. */
  static List<Chunk> plan(ShardSource queries, int rows) {
    List<Chunk> chunks = new ArrayList<>();
    for (int s = 0; s < queries.numShards(); s++) {
      int size = queries.offset(s + 1) - queries.offset(s);
      for (int from = 0; from < size; from += rows) {
        chunks.add(new Chunk(s, from, Math.min(size, from + rows), queries.offset(s) + from));
      }
    }
    return chunks;
  }

  /** The position in {@code chunks} (index order) of the chunk holding global query index {@code g}. */
  static int chunkOf(List<Chunk> chunks, int g) {
    int lo = 0;
    int hi = chunks.size() - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (chunks.get(mid).first() <= g) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  /** What a search reads besides the chunk: the corpus, its frequent features, the filters, the blend. */
  record Setup(ShardSource corpus, boolean self, int[] frequentFeatures, SearchRequest.FilterColumns filter,
      Blend blend, int candidates, int topN) implements Serializable {
    /** The query shard parts this search reads (ids for the output rows when {@code withIds}). */
    Shard.Parts queryParts(boolean withIds) {
      return new Shard.Parts(withIds, filter.any(), true, blend.readsEmbedding());
    }
  }

  /**
   * The best {@code setup.candidates()} corpus items of each query of {@code chunk} by the pruned lexical
   * score (frequent features passed over), that the filters allow and that are not the query itself (one
   * catalogue); rows of the buffer are the chunk's queries, neighbours global corpus indexes.
   */
  static TopNBuffer lexicalCandidates(Shard queries, Chunk chunk, Setup setup) {
    SparseTopN index = SparseTopN.without(queries.lexical().slice(chunk.from(), chunk.to()),
        setup.frequentFeatures());
    int m = chunk.size();
    TopNBuffer top = new TopNBuffer(m, setup.candidates());
    float[] scores = new float[m];
    int[] touched = new int[m];
    int[] marks = new int[m];
    Arrays.fill(marks, -1);
    int stamp = 0;
    ShardFilter filters = setup.filter().any() ? new ShardFilter(setup.filter(), queries.attrs) : null;
    Shard.Parts parts = new Shard.Parts(false, filters != null, true, false);
    ShardSource corpus = setup.corpus();
    Shard c = null;
    for (int s = 0; s < corpus.numShards(); s++) {
      c = corpus.read(s, parts, c);
      NeighborFilter filter = filters == null ? null : filters.against(c.attrs);
      int base = corpus.offset(s);
      for (int row = 0; row < c.rows; row++) {
        int cg = base + row;
        int count = index.accumulate(c.indices, c.values, c.offsets[row], c.offsets[row + 1], scores, touched, marks,
            stamp++);
        for (int t = 0; t < count; t++) {
          int q = touched[t];
          if (!(setup.self() && chunk.first() + q == cg) && (filter == null || filter.allows(chunk.from() + q, row))) {
            top.offer(q, scores[q], cg);
          }
          scores[q] = 0f;
        }
      }
    }
    return top;
  }

  /** Receives the score of pair {@code p}. */
  interface PairSink {
    void accept(int p, float score);
  }

  /**
   * Scores pairs {@code 0 .. count − 1}: query row {@code queryRows[p]} of {@code queries} with corpus item of
   * global index {@code corpusIndexes[p]}, ascending. Reads each corpus shard holding a pair once. A blend that
   * reads the candidates' ranks ({@link Blend#needsParts}) gets {@code embeddingRanks[p]} and
   * {@code lexicalRanks[p]} (1-based, 0 = not proposed; null arrays: all 0).
   */
  static void score(Shard queries, int[] queryRows, int[] corpusIndexes, int count, int[] embeddingRanks,
      int[] lexicalRanks, Setup setup, PairSink sink) {
    Blend blend = setup.blend();
    boolean parts = blend.needsParts();
    Shard.Parts read = new Shard.Parts(false, false, blend.readsLexical(), blend.readsEmbedding());
    SparseVectors queryLexical = parts ? new SparseVectors(queries.offsets, queries.indices, queries.values) : null;
    ShardSource corpus = setup.corpus();
    int dim = queries.dim;
    Shard c = null;
    for (int p = 0; p < count; ) {
      int s = corpus.shardOf(corpusIndexes[p]);
      int base = corpus.offset(s);
      int end = corpus.offset(s + 1);
      c = corpus.read(s, read, c);
      if (blend.readsEmbedding() && c.dim != dim) {
        throw new IllegalStateException("query embeddings have " + dim + " dimensions, corpus embeddings " + c.dim);
      }
      SparseVectors corpusLexical = parts ? new SparseVectors(c.offsets, c.indices, c.values) : null;
      for (; p < count && corpusIndexes[p] < end; p++) {
        int q = queryRows[p];
        int row = corpusIndexes[p] - base;
        float embedding = blend.readsEmbedding()
            ? HybridRanker.dot(queries.vectors, q * dim, c.vectors, row * dim, dim) : 0f;
        PairFeatures features;
        if (parts) {
          features = PairFeatures.of(embedding, LexicalFeatures.partDots(queryLexical, q, corpusLexical, row),
              embeddingRanks == null ? 0 : embeddingRanks[p], lexicalRanks == null ? 0 : lexicalRanks[p]);
        } else {
          float lexical = blend.readsLexical() ? SparseVectors.dot(queries.indices, queries.values,
              queries.offsets[q], queries.offsets[q + 1], c.indices, c.values, c.offsets[row], c.offsets[row + 1]) : 0f;
          features = PairFeatures.of(embedding, lexical);
        }
        sink.accept(p, blend.score(features));
      }
    }
  }

  /** One listed neighbour of a query. */
  record Listed(String queryId, int rank, String neighborId, float score) {}

  /**
   * The chunk's lists: lexical candidates, plus {@code embeddingPairs} (each {@code corpus index << 32 | query
   * row in the chunk}, any order, repeats allowed; {@code embeddingRanks} their 1-based ranks in the embedding
   * lists), scored exactly; the best {@code setup.topN()} per query.
   * Queries with no candidate have no list.
   */
  static List<Listed> rank(Shard queries, Chunk chunk, long[] embeddingPairs, int[] embeddingRanks,
      int embeddingCount, Setup setup) {
    TopNBuffer lexical = lexicalCandidates(queries, chunk, setup);
    int m = chunk.size();
    long[] pairs = Arrays.copyOf(embeddingPairs, embeddingCount + m * setup.candidates());
    int size = embeddingCount;
    int[][] fromLexical = new int[m][];
    int[] ids = new int[setup.candidates()];
    float[] unused = new float[setup.candidates()];
    for (int q = 0; q < m; q++) {
      int found = lexical.sorted(q, ids, unused);
      fromLexical[q] = Arrays.copyOf(ids, found);
      for (int k = 0; k < found; k++) {
        pairs[size++] = (long) ids[k] << 32 | q;
      }
    }
    Arrays.sort(pairs, 0, size);
    int count = 0;
    for (int p = 0; p < size; p++) {
      if (p == 0 || pairs[p] != pairs[p - 1]) {
        pairs[count++] = pairs[p];
      }
    }
    int[] queryRows = new int[count];
    int[] corpusIndexes = new int[count];
    for (int p = 0; p < count; p++) {
      queryRows[p] = chunk.from() + (int) pairs[p];
      corpusIndexes[p] = (int) (pairs[p] >>> 32);
    }
    int[] pairEmbeddingRanks = null;
    int[] pairLexicalRanks = null;
    if (setup.blend().needsParts()) {
      pairEmbeddingRanks = new int[count];
      pairLexicalRanks = new int[count];
      for (int e = 0; e < embeddingCount; e++) {
        markRank(pairs, count, embeddingPairs[e], embeddingRanks[e], pairEmbeddingRanks);
      }
      for (int q = 0; q < m; q++) {
        for (int k = 0; k < fromLexical[q].length; k++) {
          markRank(pairs, count, (long) fromLexical[q][k] << 32 | q, k + 1, pairLexicalRanks);
        }
      }
    }
    TopNBuffer top = new TopNBuffer(m, setup.topN());
    score(queries, queryRows, corpusIndexes, count, pairEmbeddingRanks, pairLexicalRanks, setup,
        (p, score) -> top.offer(queryRows[p] - chunk.from(), score, corpusIndexes[p]));

    int n = setup.topN();
    int[][] lists = new int[m][];
    float[][] listScores = new float[m][];
    int total = 0;
    for (int q = 0; q < m; q++) {
      int[] neighbors = new int[n];
      float[] scores = new float[n];
      int found = top.sorted(q, neighbors, scores);
      lists[q] = Arrays.copyOf(neighbors, found);
      listScores[q] = Arrays.copyOf(scores, found);
      total += found;
    }
    Map<Integer, String> names = neighborIds(lists, total, setup.corpus());
    List<Listed> out = new ArrayList<>(total);
    for (int q = 0; q < m; q++) {
      for (int k = 0; k < lists[q].length; k++) {
        out.add(new Listed(queries.ids[chunk.from() + q], k + 1, names.get(lists[q][k]), listScores[q][k]));
      }
    }
    return out;
  }

  /** Sets {@code ranks} at pair {@code key}'s place among the sorted distinct {@code pairs} to its best rank. */
  private static void markRank(long[] pairs, int count, long key, int rank, int[] ranks) {
    int p = Arrays.binarySearch(pairs, 0, count, key);
    if (p >= 0 && (ranks[p] == 0 || rank < ranks[p])) {
      ranks[p] = rank;
    }
  }

  /** The ids of the listed corpus indexes, read from the shards that hold them. */
  private static Map<Integer, String> neighborIds(int[][] lists, int total, ShardSource corpus) {
    int[] wanted = new int[total];
    int at = 0;
    for (int[] list : lists) {
      System.arraycopy(list, 0, wanted, at, list.length);
      at += list.length;
    }
    Arrays.sort(wanted);
    Map<Integer, String> names = new HashMap<>(2 * total);
    for (int p = 0; p < total; ) {
      int s = corpus.shardOf(wanted[p]);
      int end = corpus.offset(s + 1);
      String[] shardIds = corpus.read(s, Shard.Parts.IDS, null).ids;
      for (; p < total && wanted[p] < end; p++) {
        names.put(wanted[p], shardIds[wanted[p] - corpus.offset(s)]);
      }
    }
    return names;
  }

  /**
   * The neighbour filters between one query shard and any corpus shard: the query side's filter values
   * dictionary-coded once, each corpus shard's values looked up in that dictionary (a value no query holds
   * gets a code no query has), so memory follows the query shard, not the corpus. Same rules as
   * {@link SearchRequest.FilterColumns#compile}.
   */
  static final class ShardFilter {
    private static final int NO_QUERY_HOLDS_IT = -2;
    private final SearchRequest.FilterColumns columns;
    private final List<Map<String, Integer>> dictionaries = new ArrayList<>();
    private final List<int[]> queryCodes = new ArrayList<>();

    ShardFilter(SearchRequest.FilterColumns columns, String[][] queryAttrs) {
      this.columns = columns;
      for (String[] values : queryAttrs) {
        Map<String, Integer> dictionary = new HashMap<>();
        int[] codes = new int[values.length];
        for (int i = 0; i < values.length; i++) {
          String v = values[i];
          codes[i] = v == null || v.isBlank() ? NeighborFilter.MISSING
              : dictionary.computeIfAbsent(v, key -> dictionary.size());
        }
        dictionaries.add(dictionary);
        queryCodes.add(codes);
      }
    }

    /** The filter between the query shard and a corpus shard with filter values {@code corpusAttrs}. */
    NeighborFilter against(String[][] corpusAttrs) {
      int[][] corpusCodes = new int[corpusAttrs.length][];
      for (int a = 0; a < corpusAttrs.length; a++) {
        String[] values = corpusAttrs[a];
        Map<String, Integer> dictionary = dictionaries.get(a);
        int[] codes = new int[values.length];
        for (int i = 0; i < values.length; i++) {
          String v = values[i];
          codes[i] = v == null || v.isBlank() ? NeighborFilter.MISSING
              : dictionary.getOrDefault(v, NO_QUERY_HOLDS_IT);
        }
        corpusCodes[a] = codes;
      }
      int attr = 0;
      int[] sameQuery = null;
      int[] sameCorpus = null;
      if (!columns.sameValueOf().isEmpty()) {
        sameQuery = queryCodes.get(attr);
        sameCorpus = corpusCodes[attr++];
      }
      int[] excludeQuery = null;
      int[] excludeCorpus = null;
      if (!columns.excludeSameValueOf().isEmpty()) {
        excludeQuery = queryCodes.get(attr);
        excludeCorpus = corpusCodes[attr];
      }
      return new NeighborFilter(sameQuery, sameCorpus, excludeQuery, excludeCorpus);
    }
  }
}
