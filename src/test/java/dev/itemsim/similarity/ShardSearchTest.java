package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sharded lexical search and re-scoring against brute force and against the whole-corpus inverted index
 * and per-query union the driver used to run: same candidates, same scores to the bit, ties to the lower index,
 * filters that never leak, whatever the shard and chunk boundaries (empty shards included).
 */
class ShardSearchTest {
  private static final SearchRequest.FilterColumns FILTERS = new SearchRequest.FilterColumns("category", "seller");

  @TempDir
  Path dir;

  /**
   * Random sparse rows over {@code vocabulary} features spread over the three lexical parts' index ranges;
   * feature 0 in about 70 % of rows (a skewed, frequent feature); about one row in eight empty. Values are
   * multiples of 1/16 when {@code exact} (so every sum is exact and ties are common), else arbitrary floats.
   */
  static SparseVectors rows(int n, int vocabulary, boolean exact, Random random) {
    int[] offsets = new int[n + 1];
    List<Integer> idx = new ArrayList<>();
    List<Float> val = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      TreeMap<Integer, Float> row = new TreeMap<>();
      if (random.nextInt(8) != 0) {
        if (random.nextInt(10) < 7) {
          row.put(0, value(exact, random));
        }
        int nnz = random.nextInt(6);
        for (int k = 0; k < nnz; k++) {
          int f = 1 + random.nextInt(vocabulary - 1);
          row.put((f % 3) * LexicalFeatures.FEATURES + f, value(exact, random));
        }
      }
      row.forEach((i, v) -> {
        idx.add(i);
        val.add(v);
      });
      offsets[r + 1] = idx.size();
    }
    float[] v = new float[val.size()];
    for (int k = 0; k < v.length; k++) {
      v[k] = val.get(k);
    }
    return new SparseVectors(offsets, idx.stream().mapToInt(Integer::intValue).toArray(), v);
  }

  private static float value(boolean exact, Random random) {
    return exact ? (1 + random.nextInt(8)) / 16f : random.nextFloat();
  }

  /** Filter values per row: a category of three (or blank, or null) and a seller of four (or null). */
  static String[][] attrs(int n, Random random) {
    String[][] a = new String[2][n];
    for (int i = 0; i < n; i++) {
      int c = random.nextInt(8);
      a[0][i] = c == 0 ? null : c == 1 ? " " : "c" + (c % 3);
      int s = random.nextInt(5);
      a[1][i] = s == 0 ? null : "s" + s;
    }
    return a;
  }

  static String[] ids(String prefix, int n) {
    String[] ids = new String[n];
    for (int i = 0; i < n; i++) {
      ids[i] = String.format("%s%04d", prefix, i);
    }
    return ids;
  }

  /** Features held by more than {@code maxPostings} rows, ascending. */
  static int[] frequent(SparseVectors rows, int maxPostings) {
    TreeMap<Integer, Integer> counts = new TreeMap<>();
    for (int k = 0; k < rows.offsets()[rows.rows()]; k++) {
      counts.merge(rows.indices()[k], 1, Integer::sum);
    }
    return counts.entrySet().stream().filter(e -> e.getValue() > maxPostings).mapToInt(e -> e.getKey()).toArray();
  }

  @Test
  void lexicalCandidatesEqualBruteForceWithPruningTiesEmptyRowsAndSelf() {
    Random random = new Random(5);
    for (boolean self : new boolean[] {true, false}) {
      SparseVectors corpus = rows(300, 25, true, random);
      SparseVectors queries = self ? corpus : rows(90, 25, true, random);
      int[] frequent = frequent(corpus, 40);
      assertThat(frequent).as("the skewed feature is pruned").contains(0);
      ShardSource c = new LocalShards(dir.resolve("c" + self), LocalShards.randomSizes(corpus.rows(), random),
          ids("c", corpus.rows()), new String[0][], corpus, null, 0);
      ShardSource q = self ? c : new LocalShards(dir.resolve("q"), LocalShards.randomSizes(queries.rows(), random),
          ids("q", queries.rows()), new String[0][], queries, null, 0);
      ShardSearch.Setup setup = new ShardSearch.Setup(c, self, frequent, SearchRequest.FilterColumns.NONE,
          Blend.LEXICAL, 7, 7);
      int checked = 0;
      for (ShardSearch.Chunk chunk : ShardSearch.plan(q, 13)) {
        TopNBuffer top = ShardSearch.lexicalCandidates(q.read(chunk.shard(), setup.queryParts(true), null), chunk,
            setup);
        for (int r = 0; r < chunk.size(); r++) {
          int query = chunk.first() + r;
          List<double[]> expected = new ArrayList<>();
          for (int cand = 0; cand < corpus.rows(); cand++) {
            if (self && cand == query) {
              continue;
            }
            Double s = prunedScore(queries, query, corpus, cand, frequent);
            if (s != null) {
              expected.add(new double[] {s, cand});
            }
          }
          expected.sort(Comparator.<double[]>comparingDouble(e -> -e[0]).thenComparingDouble(e -> e[1]));
          int[] got = new int[7];
          float[] gotScores = new float[7];
          int count = top.sorted(r, got, gotScores);
          assertThat(count).as("query %d self %s", query, self).isEqualTo(Math.min(7, expected.size()));
          for (int k = 0; k < count; k++) {
            assertThat(got[k]).as("query %d rank %d", query, k).isEqualTo((int) expected.get(k)[1]);
            assertThat((double) gotScores[k]).isEqualTo(expected.get(k)[0]);
          }
          checked++;
        }
      }
      assertThat(checked).isEqualTo(queries.rows());
    }
  }

  /** The score over shared features not pruned (exact in double for these values), or null when none. */
  private static Double prunedScore(SparseVectors q, int i, SparseVectors c, int j, int[] frequent) {
    double s = 0;
    boolean shared = false;
    for (int a = q.offsets()[i]; a < q.offsets()[i + 1]; a++) {
      for (int b = c.offsets()[j]; b < c.offsets()[j + 1]; b++) {
        if (q.indices()[a] == c.indices()[b] && Arrays.binarySearch(frequent, q.indices()[a]) < 0) {
          shared = true;
          s += (double) q.values()[a] * c.values()[b];
        }
      }
    }
    return shared ? s : null;
  }

  @Test
  void candidatesAreThoseOfOneIndexOverTheWholeCorpusToTheBit() {
    Random random = new Random(11);
    for (boolean self : new boolean[] {true, false}) {
      SparseVectors corpus = rows(400, 40, false, random);
      SparseVectors queries = self ? corpus : rows(150, 40, false, random);
      String[][] corpusAttrs = attrs(corpus.rows(), random);
      String[][] queryAttrs = self ? corpusAttrs : attrs(queries.rows(), random);
      int maxPostings = 60;
      ShardSource c = new LocalShards(dir.resolve("w" + self), LocalShards.randomSizes(corpus.rows(), random),
          ids("c", corpus.rows()), corpusAttrs, corpus, null, 0);
      ShardSource q = self ? c : new LocalShards(dir.resolve("wq"), LocalShards.randomSizes(queries.rows(), random),
          ids("q", queries.rows()), queryAttrs, queries, null, 0);
      for (SearchRequest.FilterColumns filters : List.of(SearchRequest.FilterColumns.NONE, FILTERS)) {
        NeighborFilter whole = filters.compile(new CollectedItems(null, null, new String[0], queryAttrs),
            new CollectedItems(null, null, new String[0], corpusAttrs));
        TopNBuffer expected = new SparseTopN(corpus, maxPostings).search(queries, 0, queries.rows(), 9, self, whole);
        ShardSearch.Setup setup = new ShardSearch.Setup(c, self, frequent(corpus, maxPostings), filters,
            Blend.LEXICAL, 9, 9);
        for (ShardSearch.Chunk chunk : ShardSearch.plan(q, 17)) {
          TopNBuffer top = ShardSearch.lexicalCandidates(q.read(chunk.shard(), setup.queryParts(true), null), chunk,
              setup);
          for (int r = 0; r < chunk.size(); r++) {
            assertSameRow(expected, chunk.first() + r, top, r);
          }
        }
      }
    }
  }

  private static void assertSameRow(TopNBuffer expected, int expectedRow, TopNBuffer actual, int actualRow) {
    int[] e = new int[expected.n()];
    float[] es = new float[expected.n()];
    int[] a = new int[actual.n()];
    float[] as = new float[actual.n()];
    int ec = expected.sorted(expectedRow, e, es);
    int ac = actual.sorted(actualRow, a, as);
    assertThat(Arrays.copyOf(a, ac)).as("row %d", expectedRow).containsExactly(Arrays.copyOf(e, ec));
    for (int k = 0; k < ec; k++) {
      assertThat(Float.floatToIntBits(as[k])).as("row %d rank %d", expectedRow, k)
          .isEqualTo(Float.floatToIntBits(es[k]));
    }
  }

  @Test
  void rankedListsEqualTheDriversUnionRankingToTheBitAndFiltersNeverLeak() {
    Random random = new Random(23);
    int dim = 8;
    for (boolean self : new boolean[] {true, false}) {
      SparseVectors corpus = rows(260, 30, false, random);
      SparseVectors queries = self ? corpus : rows(120, 30, false, random);
      float[] corpusVectors = unitVectors(corpus.rows(), dim, random);
      float[] queryVectors = self ? corpusVectors : unitVectors(queries.rows(), dim, random);
      String[][] corpusAttrs = attrs(corpus.rows(), random);
      String[][] queryAttrs = self ? corpusAttrs : attrs(queries.rows(), random);
      String[] corpusIds = ids("c", corpus.rows());
      String[] queryIds = self ? corpusIds : ids("q", queries.rows());
      ShardSource c = new LocalShards(dir.resolve("r" + self), LocalShards.randomSizes(corpus.rows(), random),
          corpusIds, corpusAttrs, corpus, corpusVectors, dim);
      ShardSource q = self ? c : new LocalShards(dir.resolve("rq"), LocalShards.randomSizes(queries.rows(), random),
          queryIds, queryAttrs, queries, queryVectors, dim);
      VectorBlocks cv = blocks(corpusVectors, corpus.rows(), dim);
      VectorBlocks qv = blocks(queryVectors, queries.rows(), dim);
      int k = 12;
      int topN = 5;
      int maxPostings = 50;
      NeighborFilter whole = FILTERS.compile(new CollectedItems(null, null, new String[0], queryAttrs),
          new CollectedItems(null, null, new String[0], corpusAttrs));
      List<int[]> lexical = new SparseTopN(corpus, maxPostings).searchAll(queries, k, self, whole);
      // embedding candidates as the embedding retriever would give them: allowed, not the item itself
      int[][] embedding = new int[queries.rows()][];
      for (int i = 0; i < queries.rows(); i++) {
        int query = i;
        List<Integer> allowed = new ArrayList<>();
        for (int x = 0; x < corpus.rows(); x++) {
          if (!(self && x == query) && whole.allows(query, x)) {
            allowed.add(x);
          }
        }
        java.util.Collections.shuffle(allowed, random);
        embedding[i] = allowed.stream().limit(k).mapToInt(Integer::intValue).toArray();
      }
      // a learned blend also reads the lexical parts and both candidate ranks (weighted heavily here)
      for (Blend blend : List.of(Blend.linear(0.3), Blend.LEXICAL, new LogisticBlend(-2.5,
          new double[] {3, 1, 2, 0.5, 1.5, 2, 3}, 3, new LexicalFeatures.Settings(0.2, 0.35, 3), "test"))) {
        boolean withEmbedding = blend.readsEmbedding();
        ShardSearch.Setup setup = new ShardSearch.Setup(c, self, frequent(corpus, maxPostings), FILTERS, blend, k,
            topN);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < queries.rows(); i++) {
          HybridRanker.Ranked r = HybridRanker.rank(i, withEmbedding ? embedding[i] : new int[0], lexical.get(i), qv,
              cv, queries, corpus, blend, topN);
          for (int n = 0; n < r.corpusIndexes().length; n++) {
            expected.add(queryIds[i] + " " + (n + 1) + " " + corpusIds[r.corpusIndexes()[n]] + " "
                + Float.floatToIntBits(r.scores()[n]));
          }
        }
        List<String> actual = new ArrayList<>();
        List<ShardSearch.Chunk> chunks = ShardSearch.plan(q, 19);
        for (ShardSearch.Chunk chunk : chunks) {
          long[] pairs = new long[chunk.size() * k];
          int[] ranks = new int[chunk.size() * k];
          int count = 0;
          if (withEmbedding) {
            for (int r = 0; r < chunk.size(); r++) {
              int[] list = embedding[chunk.first() + r];
              for (int e = 0; e < list.length; e++) {
                ranks[count] = e + 1;
                pairs[count++] = (long) list[e] << 32 | r;
              }
            }
          }
          for (ShardSearch.Listed l : ShardSearch.rank(q.read(chunk.shard(), setup.queryParts(true), null), chunk,
              pairs, ranks, count, setup)) {
            actual.add(l.queryId() + " " + l.rank() + " " + l.neighborId() + " " + Float.floatToIntBits(l.score()));
            int query = Arrays.asList(queryIds).indexOf(l.queryId());
            int neighbor = Arrays.asList(corpusIds).indexOf(l.neighborId());
            assertThat(whole.allows(query, neighbor)).as("%s lists %s", l.queryId(), l.neighborId()).isTrue();
            assertThat(self && query == neighbor).isFalse();
            assertThat(FILTERS.sameValueOf()).isNotEmpty();
            assertThat(codeOf(queryAttrs[0][query])).isEqualTo(codeOf(corpusAttrs[0][neighbor]));
            if (codeOf(queryAttrs[1][query]) != null) {
              assertThat(corpusAttrs[1][neighbor]).isNotEqualTo(queryAttrs[1][query]);
            }
          }
        }
        assertThat(actual).as("self %s blend %s", self, blend).isNotEmpty().containsExactlyElementsOf(expected);
      }
    }
  }

  /** A filter value as the rules see it: null and blank are "missing". */
  private static String codeOf(String value) {
    return value == null || value.isBlank() ? null : value;
  }

  @Test
  void pairScoresAreTheBlendOfBothCosines() {
    Random random = new Random(3);
    int dim = 6;
    SparseVectors corpus = rows(120, 20, false, random);
    SparseVectors queries = rows(40, 20, false, random);
    float[] corpusVectors = unitVectors(corpus.rows(), dim, random);
    float[] queryVectors = unitVectors(queries.rows(), dim, random);
    ShardSource c = new LocalShards(dir.resolve("s"), LocalShards.randomSizes(corpus.rows(), random),
        ids("c", corpus.rows()), new String[0][], corpus, corpusVectors, dim);
    ShardSource q = new LocalShards(dir.resolve("sq"), new int[] {queries.rows()}, ids("q", queries.rows()),
        new String[0][], queries, queryVectors, dim);
    ShardSearch.Setup setup = new ShardSearch.Setup(c, false, new int[0], SearchRequest.FilterColumns.NONE,
        Blend.linear(0.4), 5, 5);
    int pairs = 300;
    int[] queryRows = random.ints(pairs, 0, queries.rows()).toArray();
    int[] corpusIndexes = random.ints(pairs, 0, corpus.rows()).sorted().toArray();
    float[] scores = new float[pairs];
    ShardSearch.score(q.read(0, setup.queryParts(false), null), queryRows, corpusIndexes, pairs, null, null, setup,
        (p, s) -> scores[p] = s);
    VectorBlocks qv = blocks(queryVectors, queries.rows(), dim);
    VectorBlocks cv = blocks(corpusVectors, corpus.rows(), dim);
    for (int p = 0; p < pairs; p++) {
      assertThat(Float.floatToIntBits(scores[p])).isEqualTo(Float.floatToIntBits(HybridRanker.score(queryRows[p],
          corpusIndexes[p], qv, cv, queries, corpus, 0.4)));
    }
  }

  @Test
  void chunksCoverEveryQueryOnceWithinShards() {
    Random random = new Random(1);
    SparseVectors rows = rows(200, 10, true, random);
    int[] sizes = LocalShards.randomSizes(rows.rows(), random);
    ShardSource shards = new LocalShards(dir.resolve("p"), sizes, ids("i", rows.rows()), new String[0][], rows,
        null, 0);
    List<ShardSearch.Chunk> chunks = ShardSearch.plan(shards, 7);
    int next = 0;
    for (int i = 0; i < chunks.size(); i++) {
      ShardSearch.Chunk chunk = chunks.get(i);
      assertThat(chunk.first()).isEqualTo(next);
      assertThat(chunk.size()).isBetween(1, 7);
      assertThat(chunk.first()).isEqualTo(shards.offset(chunk.shard()) + chunk.from());
      assertThat(chunk.to()).isLessThanOrEqualTo(shards.offset(chunk.shard() + 1) - shards.offset(chunk.shard()));
      for (int g = chunk.first(); g < chunk.first() + chunk.size(); g++) {
        assertThat(ShardSearch.chunkOf(chunks, g)).isEqualTo(i);
        assertThat(shards.shardOf(g)).isEqualTo(chunk.shard());
      }
      next += chunk.size();
    }
    assertThat(next).isEqualTo(rows.rows());
  }

  static float[] unitVectors(int n, int dim, Random random) {
    float[] v = new float[n * dim];
    for (int i = 0; i < n; i++) {
      double norm = 0;
      for (int k = 0; k < dim; k++) {
        v[i * dim + k] = (float) random.nextGaussian();
        norm += v[i * dim + k] * v[i * dim + k];
      }
      for (int k = 0; k < dim; k++) {
        v[i * dim + k] /= (float) Math.sqrt(norm);
      }
    }
    return v;
  }

  static VectorBlocks blocks(float[] flat, int n, int dim) {
    List<float[]> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      list.add(Arrays.copyOfRange(flat, i * dim, (i + 1) * dim));
    }
    return VectorBlocks.of(list, dim, 32);
  }
}
