package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.SparkTestSupport;
import dev.itemsim.embed.Vectors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import scala.Tuple2;

class BlockedTopNTest {
  private static final MatMulKernel KERNEL = Kernels.select("auto");

  /** Random unit vectors: ids must match brute force except where two scores are within float noise. */
  @ParameterizedTest(name = "n={0} dim={1} block={2} topN={3}")
  @CsvSource({"500, 32, 64, 10", "500, 32, 500, 10", "517, 24, 100, 7", "300, 16, 1000, 5", "257, 8, 16, 12",
      "1, 8, 16, 10", "2, 8, 1, 10", "9, 8, 2, 10", "10, 8, 3, 20",
      // blocks wider than a product tile and taller than a strip: tile and strip edges inside a block
      "1500, 16, 1100, 10", "2600, 8, 2600, 5"})
  void equalsBruteForceOnRandomUnitVectors(int n, int dim, int blockSize, int topN) {
    List<float[]> vectors = randomUnitVectors(n, dim, new Random(n * 31L + dim));
    List<List<BruteForce.Neighbor>> expected = BruteForce.topN(vectors, topN);
    VectorBlocks blocks = VectorBlocks.of(vectors, dim, blockSize);
    Map<Integer, TopNBuffer> merged = BlockedTopN.computeLocally(blocks, topN, KERNEL);
    assertSameAsBruteForce(vectors, expected, blocks, merged, topN);
  }

  /**
   * Small-integer vectors (multiples of 1/8) make every dot product exact in float32, whatever the summation
   * order, so ties are real and must resolve to the lower index exactly as the brute force does.
   */
  @ParameterizedTest(name = "block={0}")
  @CsvSource({"1", "3", "16", "50", "64", "400"})
  void breaksPlantedTiesByLowerIndex(int blockSize) {
    Random random = new Random(11);
    List<float[]> vectors = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      float[] v = new float[12];
      for (int k = 0; k < v.length; k++) {
        v[k] = (random.nextInt(5) - 2) / 8f;
      }
      vectors.add(v);
    }
    for (int i = 0; i < 40; i++) {  // exact duplicates far apart in index order
      vectors.set(299 - i, vectors.get(i).clone());
    }
    List<List<BruteForce.Neighbor>> expected = BruteForce.topN(vectors, 10);
    VectorBlocks blocks = VectorBlocks.of(vectors, 12, blockSize);
    Map<Integer, TopNBuffer> merged = BlockedTopN.computeLocally(blocks, 10, KERNEL);
    List<int[]> actual = BlockedTopN.neighborLists(blocks, merged);
    for (int i = 0; i < vectors.size(); i++) {
      assertThat(actual.get(i)).as("row %d", i).containsExactly(BruteForce.indexes(expected.get(i)));
    }
  }

  @Test
  void blockFilesWrittenByExecutorsGiveTheSameListsAsBlocksInMemory(@TempDir Path dir) {
    List<float[]> vectors = randomUnitVectors(1100, 16, new Random(9));
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    List<Tuple2<Long, float[]>> indexed = indexed(vectors);
    java.util.Collections.shuffle(indexed, new Random(1));  // arrival order must not matter
    BlockFiles files = BlockFiles.write(jsc.parallelizePairs(indexed, 3), vectors.size(), 16, 128,
        dir.resolve("blocks").toString(), jsc.hadoopConfiguration());
    assertThat(files.numBlocks()).isEqualTo(9);
    assertThat(files.block(8)).hasSize(76 * 16);
    VectorBlocks inMemory = VectorBlocks.of(vectors, 16, 128);
    for (int b = 0; b < files.numBlocks(); b++) {
      assertThat(files.block(b)).as("block %d", b).containsExactly(inMemory.block(b));
    }
    Map<Integer, TopNBuffer> local = BlockedTopN.computeLocally(inMemory, 10, KERNEL);
    Map<Integer, TopNBuffer> viaFiles = topNOnSpark(jsc, files, null);
    assertThat(BlockedTopN.neighborLists(inMemory, viaFiles)).usingRecursiveComparison()
        .isEqualTo(BlockedTopN.neighborLists(inMemory, local));
    files.delete();
    assertThat(dir.resolve("blocks")).doesNotExist();
  }

  /**
   * With a cache of three blocks, reading nine blocks over and over drops and reuses arrays: an array must be
   * reused only once every user released it (a block held across the reads keeps its contents), and top-N
   * over the files stays identical to top-N over blocks in memory.
   */
  @Test
  void blockArraysAreReusedOnlyWhenNobodyHoldsThem(@TempDir Path dir) {
    List<float[]> vectors = randomUnitVectors(1100, 16, new Random(19));
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    BlockFiles files = BlockFiles.write(jsc.parallelizePairs(indexed(vectors), 3), vectors.size(), 16, 128,
        dir.resolve("blocks").toString(), jsc.hadoopConfiguration());
    VectorBlocks inMemory = VectorBlocks.of(vectors, 16, 128);
    BlockFiles.RecentBlocks.resetWithBudget(3L * 128 * 16 * 4);
    try {
      float[] held = files.block(0);
      for (int round = 0; round < 3; round++) {
        for (int b = 1; b < files.numBlocks(); b++) {
          float[] block = files.block(b);
          assertThat(block).as("round %d block %d", round, b).containsExactly(inMemory.block(b));
          files.release(block);
        }
      }
      assertThat(held).as("held while the cache turned over").containsExactly(inMemory.block(0));
      assertThat(BlockFiles.RecentBlocks.spares()).as("dropped arrays kept for reuse").isPositive();
      files.release(held);
      Map<Integer, TopNBuffer> local = BlockedTopN.computeLocally(inMemory, 10, KERNEL);
      Map<Integer, TopNBuffer> viaFiles = topNOnSpark(jsc, files, null);
      assertThat(BlockedTopN.neighborLists(inMemory, viaFiles)).usingRecursiveComparison()
          .isEqualTo(BlockedTopN.neighborLists(inMemory, local));
      assertThat(BlockedTopN.neighborLists(inMemory, BlockedTopN.computeLocally(files, 10, KERNEL)))
          .usingRecursiveComparison().isEqualTo(BlockedTopN.neighborLists(inMemory, local));
    } finally {
      BlockFiles.RecentBlocks.resetWithBudget(BlockFiles.RecentBlocks.BUDGET);
      files.delete();
    }
  }

  @Test
  void blockFilesRefuseMissingRepeatedAndMisshapenRows() throws Exception {
    // not a @TempDir: tasks of an aborted stage may still be writing while JUnit would delete it
    Path dir = java.nio.file.Files.createTempDirectory(java.nio.file.Path.of("target"), "bad-blocks-");
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    List<Tuple2<Long, float[]>> rows = new ArrayList<>();
    for (long i = 0; i < 10; i++) {
      rows.add(new Tuple2<>(i, new float[] {1, 0}));
    }
    List<Tuple2<Long, float[]>> repeated = new ArrayList<>(rows);
    repeated.add(new Tuple2<>(3L, new float[] {0, 1}));
    assertThatThrownBy(() -> BlockFiles.write(jsc.parallelizePairs(repeated, 2), 10, 2, 4,
        dir.resolve("a").toString(), jsc.hadoopConfiguration())).hasStackTraceContaining("Vector index 3 appears twice");
    List<Tuple2<Long, float[]>> missing = new ArrayList<>(rows);
    missing.remove(7);
    assertThatThrownBy(() -> BlockFiles.write(jsc.parallelizePairs(missing, 2), 10, 2, 4,
        dir.resolve("b").toString(), jsc.hadoopConfiguration())).hasStackTraceContaining("Vector index 7 is missing");
    rows.set(7, new Tuple2<>(7L, new float[] {1, 0, 0}));
    assertThatThrownBy(() -> BlockFiles.write(jsc.parallelizePairs(rows, 2), 10, 2, 4, dir.resolve("c").toString(),
        jsc.hadoopConfiguration())).hasStackTraceContaining("Vector 7 has length 3, expected 2");
  }

  /**
   * Tasks share what they learn of each row's threshold, per computation: the first computation's vectors
   * are near-duplicates (every threshold close to 1), the second's random (thresholds far lower); bounds
   * leaking from the first into the second would empty its lists.
   */
  @Test
  void thresholdsLearntInOneComputationNeverReachAnother() {
    Random random = new Random(5);
    float[] centre = randomUnitVectors(1, 16, random).get(0);
    List<float[]> nearDuplicates = new ArrayList<>();
    for (int i = 0; i < 700; i++) {
      float[] v = centre.clone();
      v[random.nextInt(16)] += 0.01f * (float) random.nextGaussian();
      nearDuplicates.add(Vectors.normalize(v));
    }
    List<float[]> spread = randomUnitVectors(700, 16, random);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    for (List<float[]> vectors : List.of(nearDuplicates, spread, nearDuplicates, spread)) {
      VectorBlocks blocks = VectorBlocks.of(vectors, 16, 100);
      List<List<BruteForce.Neighbor>> expected = BruteForce.topN(vectors, 10);
      assertSameAsBruteForce(vectors, expected, blocks, BlockedTopN.computeLocally(blocks, 10, KERNEL), 10);
      assertSameAsBruteForce(vectors, expected, blocks,
          topNOnSpark(jsc, blocks, null), 10);
    }
  }

  @Test
  void sparkComputationEqualsLocalOne() {
    List<float[]> vectors = randomUnitVectors(1500, 16, new Random(3));
    VectorBlocks blocks = VectorBlocks.of(vectors, 16, 128);  // 12 blocks: tasks are split
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    List<Tuple2<Integer, TopNBuffer>> viaSpark;
    try (BlockedTopN.Computation topN = BlockedTopN.open(jsc, blocks, 10, "auto", null)) {
      viaSpark = topN.buffers().collect();
    }
    Map<Integer, TopNBuffer> local = BlockedTopN.computeLocally(blocks, 10, KERNEL);
    assertThat(viaSpark).hasSize(blocks.numBlocks());
    int[] a = new int[10];
    int[] b = new int[10];
    float[] sa = new float[10];
    float[] sb = new float[10];
    for (Tuple2<Integer, TopNBuffer> t : viaSpark) {
      TopNBuffer expected = local.get(t._1());
      for (int r = 0; r < expected.rows(); r++) {
        assertThat(t._2().sorted(r, a, sa)).isEqualTo(expected.sorted(r, b, sb));
        assertThat(a).containsExactly(b);
        assertThat(sa).containsExactly(sb);
      }
    }
  }

  @ParameterizedTest(name = "queries={0} corpus={1} block={2}")
  @CsvSource({"300, 500, 64", "17, 900, 100", "250, 3, 16", "1, 1, 8", "1100, 1300, 1100"})
  void crossSearchEqualsBruteForce(int nq, int nc, int blockSize) {
    List<float[]> queries = randomUnitVectors(nq, 16, new Random(nq));
    List<float[]> corpus = randomUnitVectors(nc, 16, new Random(nc + 1));
    VectorBlocks q = VectorBlocks.of(queries, 16, blockSize);
    VectorBlocks c = VectorBlocks.of(corpus, 16, blockSize);
    Map<Integer, TopNBuffer> local = BlockedTopN.computeCrossLocally(q, c, 10, KERNEL);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    Map<Integer, TopNBuffer> viaSpark;
    try (BlockedTopN.Computation topN = BlockedTopN.openCross(jsc, q, c, 10, "auto", null)) {
      viaSpark = new java.util.HashMap<>(topN.buffers().collectAsMap());
    }
    int[] ids = new int[10];
    float[] scores = new float[10];
    int[] sparkIds = new int[10];
    for (int i = 0; i < nq; i++) {
      List<BruteForce.Neighbor> want = new ArrayList<>();
      for (int j = 0; j < nc; j++) {
        want.add(new BruteForce.Neighbor(j, BruteForce.dot(queries.get(i), corpus.get(j))));
      }
      want.sort(java.util.Comparator.comparingDouble(BruteForce.Neighbor::score).reversed()
          .thenComparingInt(BruteForce.Neighbor::index));
      TopNBuffer buffer = local.get(i / blockSize);
      int count = buffer.sorted(i % blockSize, ids, scores);
      assertThat(count).isEqualTo(Math.min(10, nc));
      assertThat(viaSpark.get(i / blockSize).sorted(i % blockSize, sparkIds, new float[10])).isEqualTo(count);
      assertThat(sparkIds).containsExactly(ids);
      for (int k = 0; k < count; k++) {
        assertThat((double) scores[k]).isCloseTo(want.get(k).score(), org.assertj.core.data.Offset.offset(1e-5));
        assertThat(ids[k]).as("query %d rank %d", i, k + 1).isEqualTo(want.get(k).index());
      }
    }
  }

  @Test
  void filtersNeverLeakAForbiddenNeighbour() {
    Random random = new Random(21);
    List<float[]> vectors = randomUnitVectors(600, 16, random);
    int[] category = new int[600];
    int[] seller = new int[600];
    for (int i = 0; i < 600; i++) {
      category[i] = i % 7 == 0 ? NeighborFilter.MISSING : random.nextInt(4);
      seller[i] = i % 5 == 0 ? NeighborFilter.MISSING : random.nextInt(30);
    }
    NeighborFilter filter = new NeighborFilter(category, category, seller, seller);
    VectorBlocks blocks = VectorBlocks.of(vectors, 16, 64);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    Map<Integer, TopNBuffer> merged = topNOnSpark(jsc, blocks, filter);
    int[] ids = new int[10];
    float[] scores = new float[10];
    for (int i = 0; i < 600; i++) {
      final int q = i;
      List<BruteForce.Neighbor> allowed = new ArrayList<>();
      for (int j = 0; j < 600; j++) {
        if (j != q && filter.allows(q, j)) {
          allowed.add(new BruteForce.Neighbor(j, BruteForce.dot(vectors.get(q), vectors.get(j))));
        }
      }
      allowed.sort(java.util.Comparator.comparingDouble(BruteForce.Neighbor::score).reversed()
          .thenComparingInt(BruteForce.Neighbor::index));
      int count = merged.get(i / 64).sorted(i % 64, ids, scores);
      assertThat(count).isEqualTo(Math.min(10, allowed.size()));
      for (int k = 0; k < count; k++) {
        assertThat(category[ids[k]]).isEqualTo(category[q]);
        assertThat(seller[q] == NeighborFilter.MISSING || seller[ids[k]] != seller[q]).isTrue();
        assertThat(ids[k]).as("item %d rank %d", q, k + 1).isEqualTo(allowed.get(k).index());
      }
    }
  }

  @Test
  void javaAndNativeKernelsAgree() {
    org.junit.jupiter.api.Assumptions.assumeTrue(KERNEL.isNative(),
        () -> "no native BLAS loads in this JVM (" + KERNEL.name() + "): nothing to compare the Java BLAS with");
    List<float[]> vectors = randomUnitVectors(90, 20, new Random(5));
    VectorBlocks blocks = VectorBlocks.of(vectors, 20, 90);
    float[] c1 = new float[90 * 90];
    float[] c2 = new float[90 * 90];
    KERNEL.multiplyTransposed(blocks.block(0), 90, blocks.block(0), 90, 20, c1);
    NetlibBlasKernel.javaOnly().multiplyTransposed(blocks.block(0), 90, blocks.block(0), 90, 20, c2);
    for (int i = 0; i < c1.length; i++) {
      assertThat(c1[i]).isCloseTo(c2[i], org.assertj.core.data.Offset.offset(1e-5f));
    }
    assertThat(c1[1 * 90 + 2]).isCloseTo((float) BruteForce.dot(vectors.get(1), vectors.get(2)),
        org.assertj.core.data.Offset.offset(1e-5f));
  }

  @ParameterizedTest(name = "max pairs per task {0}")
  @CsvSource({"2147483647", "1", "2", "3"})
  void planCoversEveryUnorderedBlockPairExactlyOnce(int maxPairs) {
    for (int numBlocks = 1; numBlocks <= 13; numBlocks++) {
      Set<String> seen = new HashSet<>();
      int maxPerTask = 0;
      for (BlockPairPlan.Task task : BlockPairPlan.tasks(numBlocks, maxPairs)) {
        assertThat(task.products()).isBetween(1, maxPairs);
        if (task.withDiagonal()) {
          assertThat(seen.add(task.rowBlock() + "-" + task.rowBlock())).isTrue();
        }
        for (int j : task.otherBlocks()) {
          int lo = Math.min(task.rowBlock(), j);
          int hi = Math.max(task.rowBlock(), j);
          assertThat(lo).isNotEqualTo(hi);
          assertThat(seen.add(lo + "-" + hi)).as("pair %d-%d for %d blocks", lo, hi, numBlocks).isTrue();
        }
        maxPerTask = Math.max(maxPerTask, task.products());
      }
      assertThat(seen).hasSize(numBlocks * (numBlocks + 1) / 2);
      assertThat(maxPerTask).isLessThanOrEqualTo(numBlocks / 2 + 1);
    }
  }

  @Test
  void tasksRunLargestFirst() {
    VectorBlocks blocks = VectorBlocks.of(randomUnitVectors(2500, 4, new Random(2)), 4, 1000);  // 1000, 1000, 500
    List<BlockPairPlan.Task> plan = BlockPairPlan.tasks(blocks.numBlocks(), 1);
    List<BlockPairPlan.Task> ordered = BlockPairPlan.largestFirst(plan, blocks);
    assertThat(ordered).containsExactlyInAnyOrderElementsOf(plan);
    long[] scores = ordered.stream().mapToLong(t -> BlockPairPlan.scores(t, blocks)).toArray();
    // the pair of the two 1000-row blocks, the pairs with the 500-row block, the two 1000-row triangles,
    // the 500-row triangle
    assertThat(scores).containsExactly(1_000_000, 500_000, 500_000, 499_500, 499_500, 124_750);
  }

  /** Top-10 of {@code blocks} computed by Spark, its broadcasts released once collected. */
  static Map<Integer, TopNBuffer> topNOnSpark(JavaSparkContext jsc, BlockSource blocks, NeighborFilter filter) {
    try (BlockedTopN.Computation topN = BlockedTopN.open(jsc, blocks, 10, "auto", filter)) {
      return new java.util.HashMap<>(topN.buffers().collectAsMap());
    }
  }

  /** (global index, vector) pairs, as the job feeds {@link BlockFiles#write}. */
  private static List<Tuple2<Long, float[]>> indexed(List<float[]> vectors) {
    List<Tuple2<Long, float[]>> indexed = new ArrayList<>();
    for (int i = 0; i < vectors.size(); i++) {
      indexed.add(new Tuple2<>((long) i, vectors.get(i)));
    }
    return indexed;
  }

  private static void assertSameAsBruteForce(List<float[]> vectors, List<List<BruteForce.Neighbor>> expected,
      VectorBlocks blocks, Map<Integer, TopNBuffer> merged, int topN) {
    int[] ids = new int[topN];
    float[] scores = new float[topN];
    int row = 0;
    for (int b = 0; b < blocks.numBlocks(); b++) {
      TopNBuffer buffer = merged.get(b);
      for (int r = 0; r < buffer.rows(); r++, row++) {
        List<BruteForce.Neighbor> want = expected.get(row);
        int count = buffer.sorted(r, ids, scores);
        assertThat(count).as("row %d", row).isEqualTo(Math.min(topN, vectors.size() - 1));
        for (int k = 0; k < count; k++) {
          assertThat(ids[k]).as("row %d must not list itself", row).isNotEqualTo(row);
          assertThat((double) scores[k]).as("row %d rank %d", row, k + 1)
              .isCloseTo(want.get(k).score(), org.assertj.core.data.Offset.offset(1e-5));
          if (k > 0) {
            assertThat(scores[k]).isLessThanOrEqualTo(scores[k - 1]);
          }
          boolean clearCut = (k == 0 || want.get(k - 1).score() - want.get(k).score() > 1e-5)
              && (k + 1 >= want.size() || want.get(k).score() - want.get(k + 1).score() > 1e-5);
          if (clearCut) {
            assertThat(ids[k]).as("row %d rank %d", row, k + 1).isEqualTo(want.get(k).index());
          }
        }
      }
    }
    assertThat(row).isEqualTo(vectors.size());
  }

  static List<float[]> randomUnitVectors(int n, int dim, Random random) {
    List<float[]> vectors = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] v = new float[dim];
      for (int k = 0; k < dim; k++) {
        v[k] = (float) random.nextGaussian();
      }
      vectors.add(Vectors.normalize(v));
    }
    return vectors;
  }
}
