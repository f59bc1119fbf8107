package dev.itemsim.similarity;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * Exact cosine top-N of every vector among all others (vectors must be unit length), never materialising
 * the n×n matrix.
 *
 * <p>The vectors are in row blocks ({@link BlockSource}: broadcast in memory, or files each task reads only
 * the blocks of); each Spark task computes the
 * block products {@link BlockPairPlan} gives it through a {@link MatMulKernel}, selecting per-row top-N
 * while the product is hot in cache ({@link BlockPairScan}), and the partial lists of each block are merged
 * with {@code reduceByKey}. Tasks in one JVM share what they learn of each row's threshold
 * ({@link ThresholdFloors}), so later block pairs skip candidates already known to be out. Self is excluded; ties go to the lower index.
 */
public final class BlockedTopN {
  private BlockedTopN() {}

  /**
   * Returns, per block id, the merged top-N buffer of that block's rows; neighbour values are global vector
   * indexes. {@code kernelName} is resolved on each executor ({@link Kernels#select}).
   */
  public static JavaPairRDD<Integer, TopNBuffer> compute(JavaSparkContext jsc, BlockSource blocks, int topN,
      String kernelName) {
    return compute(jsc, blocks, topN, kernelName, null);
  }

  /**
   * {@link #compute} keeping only neighbours {@code filter} allows (null: all). In-memory {@link VectorBlocks}
   * are broadcast once per executor; {@link BlockFiles} are read by each task, two blocks at a time.
   */
  public static JavaPairRDD<Integer, TopNBuffer> compute(JavaSparkContext jsc, BlockSource blocks, int topN,
      String kernelName, NeighborFilter filter) {
    BlockSource source = blocks instanceof VectorBlocks inMemory ? new Broadcasted(jsc.broadcast(inMemory)) : blocks;
    // several tasks per core, so no core idles through the last round
    int pairsPerTask = BlockPairPlan.pairsPerTask(blocks.numBlocks(), 4 * jsc.defaultParallelism());
    List<BlockPairPlan.Task> tasks = BlockPairPlan.largestFirst(BlockPairPlan.tasks(blocks.numBlocks(), pairsPerTask),
        blocks);
    String computation = UUID.randomUUID().toString();
    return jsc.parallelize(tasks, tasks.size())
        .flatMapToPair(task -> new BlockTaskRunner(source, task, topN, Kernels.select(kernelName), filter,
            computation))
        .reduceByKey(TopNBuffer::mergeFrom, Math.max(1, Math.min(blocks.numBlocks(), jsc.defaultParallelism())));
  }

  /** In-memory blocks shipped once per executor as a broadcast variable. */
  private record Broadcasted(Broadcast<VectorBlocks> shared) implements BlockSource {
    @Override
    public int count() {
      return shared.value().count();
    }

    @Override
    public int dim() {
      return shared.value().dim();
    }

    @Override
    public int blockSize() {
      return shared.value().blockSize();
    }

    @Override
    public float[] block(int b) {
      return shared.value().block(b);
    }
  }

  /**
   * Cross-catalogue top-N: for every query vector its {@code topN} nearest corpus vectors (neighbour values
   * are corpus indexes; ties go to the lower corpus index), keyed by query block id.
   */
  public static JavaPairRDD<Integer, TopNBuffer> computeCross(JavaSparkContext jsc, VectorBlocks queries,
      VectorBlocks corpus, int topN, String kernelName) {
    return computeCross(jsc, queries, corpus, topN, kernelName, null);
  }

  /** {@link #computeCross} keeping only neighbours {@code filter} allows (null: all). */
  public static JavaPairRDD<Integer, TopNBuffer> computeCross(JavaSparkContext jsc, VectorBlocks queries,
      VectorBlocks corpus, int topN, String kernelName, NeighborFilter filter) {
    checkSameDimension(queries, corpus);
    Broadcast<VectorBlocks> sharedQueries = jsc.broadcast(queries);
    Broadcast<VectorBlocks> sharedCorpus = jsc.broadcast(corpus);
    List<CrossTaskRunner.Task> tasks = CrossTaskRunner.plan(queries.numBlocks(), corpus.numBlocks(),
        4 * jsc.defaultParallelism());
    return jsc.parallelize(tasks, Math.max(1, tasks.size()))
        .mapToPair(task -> new Tuple2<>(task.queryBlock(), CrossTaskRunner.run(sharedQueries.value(),
            sharedCorpus.value(), task, topN, Kernels.select(kernelName), filter)))
        .reduceByKey(TopNBuffer::mergeFrom, Math.max(1, Math.min(queries.numBlocks(), jsc.defaultParallelism())));
  }

  /** {@link #computeCross} in the calling thread. */
  public static Map<Integer, TopNBuffer> computeCrossLocally(VectorBlocks queries, VectorBlocks corpus, int topN,
      MatMulKernel kernel) {
    checkSameDimension(queries, corpus);
    Map<Integer, TopNBuffer> merged = new HashMap<>();
    for (CrossTaskRunner.Task task : CrossTaskRunner.plan(queries.numBlocks(), corpus.numBlocks(), 3)) {
      merged.merge(task.queryBlock(), CrossTaskRunner.run(queries, corpus, task, topN, kernel, null),
          TopNBuffer::mergeFrom);
    }
    return merged;
  }

  private static void checkSameDimension(VectorBlocks queries, VectorBlocks corpus) {
    if (queries.dim() != corpus.dim()) {
      throw new IllegalArgumentException("Query vectors have dimension " + queries.dim() + ", corpus vectors "
          + corpus.dim() + ": both sides must be encoded with the same model");
    }
  }

  /** The same computation in the calling thread, for tests, benchmarks and small inputs. */
  public static Map<Integer, TopNBuffer> computeLocally(BlockSource blocks, int topN, MatMulKernel kernel) {
    Map<Integer, TopNBuffer> merged = new HashMap<>();
    String computation = UUID.randomUUID().toString();
    for (BlockPairPlan.Task task : BlockPairPlan.tasks(blocks.numBlocks())) {
      Iterator<Tuple2<Integer, TopNBuffer>> it = new BlockTaskRunner(blocks, task, topN, kernel, null, computation);
      while (it.hasNext()) {
        Tuple2<Integer, TopNBuffer> partial = it.next();
        merged.merge(partial._1(), partial._2(), TopNBuffer::mergeFrom);
      }
    }
    return merged;
  }

  /** Lists of neighbour indexes per vector, best first, from merged block buffers. */
  public static List<int[]> neighborLists(VectorBlocks blocks, Map<Integer, TopNBuffer> merged) {
    List<int[]> lists = new ArrayList<>(blocks.count());
    for (int b = 0; b < blocks.numBlocks(); b++) {
      TopNBuffer buffer = merged.get(b);
      int[] ids = new int[buffer.n()];
      float[] scores = new float[buffer.n()];
      for (int r = 0; r < buffer.rows(); r++) {
        int count = buffer.sorted(r, ids, scores);
        lists.add(java.util.Arrays.copyOf(ids, count));
      }
    }
    return lists;
  }
}
