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
 *
 * <p>{@link #open} and {@link #openCross} return a {@link Computation}: the lazy RDD of buffers and the
 * broadcast variables its tasks read, destroyed by {@link Computation#close} once the buffers have been
 * materialised, typically {@code try (var topN = BlockedTopN.open(...)) { topN.buffers().collect(); }}.
 */
public final class BlockedTopN {
  private BlockedTopN() {}

  /**
   * A top-N computation: its per-block buffers, a lazy RDD, and the broadcast variables the RDD's tasks read
   * (the in-memory blocks; none for {@link BlockFiles}). {@link #close} it once every action on
   * {@link #buffers} — or on an RDD or Dataset derived from it — has run: closing destroys the broadcasts on
   * the driver and the executors, after which the buffers can no longer be computed.
   */
  public static final class Computation implements AutoCloseable {
    private final JavaPairRDD<Integer, TopNBuffer> buffers;
    private final List<Broadcast<?>> broadcasts;
    private boolean closed;

    private Computation(JavaPairRDD<Integer, TopNBuffer> buffers, List<Broadcast<?>> broadcasts) {
      this.buffers = buffers;
      this.broadcasts = broadcasts;
    }

    /** Per block id, the merged top-N buffer of that block's rows. */
    public JavaPairRDD<Integer, TopNBuffer> buffers() {
      return buffers;
    }

    @Override
    public synchronized void close() {
      if (!closed) {
        closed = true;
        broadcasts.forEach(Broadcast::destroy);
      }
    }
  }

  /**
   * The top-N computation of {@code blocks}: per block id, the merged top-N buffer of that block's rows,
   * keeping only neighbours {@code filter} allows (null: all); neighbour values are global vector indexes.
   * {@code kernelName} is resolved in each task ({@link Kernels#select}: the task's GPU or the CPU). In-memory
   * {@link VectorBlocks} are broadcast once per executor, until the computation is closed; {@link BlockFiles} are
   * read by each task, two blocks at a time.
   */
  public static Computation open(JavaSparkContext jsc, BlockSource blocks, int topN, String kernelName,
      NeighborFilter filter) {
    return open(jsc, blocks, topN, kernelName, null, filter);
  }

  /** {@link #open}, each task reporting its kernel to {@code usage} (null: none). */
  static Computation open(JavaSparkContext jsc, BlockSource blocks, int topN, String kernelName, KernelUsage usage,
      NeighborFilter filter) {
    Broadcast<VectorBlocks> shared = blocks instanceof VectorBlocks inMemory ? jsc.broadcast(inMemory) : null;
    BlockSource source = shared == null ? blocks : new Broadcasted(shared);
    // several tasks per core, so no core idles through the last round
    int pairsPerTask = BlockPairPlan.pairsPerTask(blocks.numBlocks(), 4 * jsc.defaultParallelism());
    List<BlockPairPlan.Task> tasks = BlockPairPlan.largestFirst(BlockPairPlan.tasks(blocks.numBlocks(), pairsPerTask),
        blocks);
    String computation = UUID.randomUUID().toString();
    JavaPairRDD<Integer, TopNBuffer> buffers = jsc.parallelize(tasks, tasks.size())
        .flatMapToPair(task -> new BlockTaskRunner(source, task, topN, KernelUsage.select(usage, kernelName),
            filter, computation))
        .reduceByKey(TopNBuffer::mergeFrom, Math.max(1, Math.min(blocks.numBlocks(), jsc.defaultParallelism())));
    return new Computation(buffers, shared == null ? List.of() : List.of(shared));
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
   * The cross-catalogue top-N computation: for every query vector its {@code topN} nearest corpus vectors
   * that {@code filter} allows (null: all), neighbour values corpus indexes, ties to the lower corpus index,
   * keyed by query block id. Both sides are broadcast until the computation is closed.
   */
  public static Computation openCross(JavaSparkContext jsc, VectorBlocks queries, VectorBlocks corpus, int topN,
      String kernelName, NeighborFilter filter) {
    return openCross(jsc, queries, corpus, topN, kernelName, null, filter);
  }

  /** {@link #openCross}, each task reporting its kernel to {@code usage} (null: none). */
  static Computation openCross(JavaSparkContext jsc, VectorBlocks queries, VectorBlocks corpus, int topN,
      String kernelName, KernelUsage usage, NeighborFilter filter) {
    checkSameDimension(queries, corpus);
    Broadcast<VectorBlocks> sharedQueries = jsc.broadcast(queries);
    Broadcast<VectorBlocks> sharedCorpus = jsc.broadcast(corpus);
    List<CrossTaskRunner.Task> tasks = CrossTaskRunner.plan(queries.numBlocks(), corpus.numBlocks(),
        4 * jsc.defaultParallelism());
    JavaPairRDD<Integer, TopNBuffer> buffers = jsc.parallelize(tasks, Math.max(1, tasks.size()))
        .mapToPair(task -> new Tuple2<>(task.queryBlock(), CrossTaskRunner.run(sharedQueries.value(),
            sharedCorpus.value(), task, topN, KernelUsage.select(usage, kernelName), filter)))
        .reduceByKey(TopNBuffer::mergeFrom, Math.max(1, Math.min(queries.numBlocks(), jsc.defaultParallelism())));
    return new Computation(buffers, List.of(sharedQueries, sharedCorpus));
  }

  /** {@link #openCross} in the calling thread. */
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
