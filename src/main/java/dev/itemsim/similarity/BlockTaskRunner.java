package dev.itemsim.similarity;

import java.util.Iterator;
import java.util.NoSuchElementException;
import scala.Tuple2;

/**
 * Runs one {@link BlockPairPlan.Task}: multiplies its block pairs with the kernel and emits partial top-N
 * buffers lazily, one per other block and finally the row block's own, so a task holds two blocks (its row
 * block and the current other one, read from the {@link BlockSource} once each), one product tile
 * ({@value #STRIP_ROWS} × {@value #TILE_COLUMNS} floats, 2 MB, reused per thread) and two top-N buffers
 * ({@code blockSize·N}) at a time. Every buffer starts from the thresholds this JVM already knows for its rows
 * ({@link ThresholdFloors}), and trades what it learnt for what other tasks learnt after every strip.
 */
final class BlockTaskRunner implements Iterator<Tuple2<Integer, TopNBuffer>> {
  /** Rows of block i per product tile of a pair of different blocks. */
  static final int STRIP_ROWS = 1024;
  /**
   * Rows per tile on a block's product with itself: tiles start at their strip's first row, so each strip
   * computes a {@code strip × strip} square of which half is the wasted lower triangle; narrow strips keep
   * that waste near 3 %.
   */
  static final int DIAGONAL_STRIP_ROWS = 256;
  /**
   * Columns per product tile: a tile (2 MB) stays in this core's cache between the product and the scan,
   * which measured 10 % faster per block pair than strips as wide as the block.
   */
  static final int TILE_COLUMNS = 512;

  private final BlockSource blocks;
  /** Row block i, read once per task. */
  private final float[] rowBlock;
  private final BlockPairPlan.Task task;
  private final int topN;
  private final String computation;
  private final MatMulKernel kernel;
  private final float[] product;
  private final TopNBuffer own;
  private int nextOther = -1;

  private final NeighborFilter filter;

  /**
   * {@code computation} names the top-N run, so that the bounds tasks share ({@link ThresholdFloors}) never
   * cross from one run's vectors to another's.
   */
  BlockTaskRunner(BlockSource blocks, BlockPairPlan.Task task, int topN, MatMulKernel kernel, NeighborFilter filter,
      String computation) {
    this.filter = filter;
    this.blocks = blocks;
    this.task = task;
    this.topN = topN;
    this.kernel = kernel;
    this.computation = computation;
    int i = task.rowBlock();
    this.product = productBuffer(STRIP_ROWS * TILE_COLUMNS);
    this.own = new TopNBuffer(blocks.rowsIn(i), topN);
    ThresholdFloors.seed(computation, i, own);
    this.rowBlock = blocks.block(i);
  }

  /**
   * Swaps threshold knowledge with the JVM's other tasks mid-pair: tasks that start together (the first
   * round, when nothing is known yet) profit from each other as soon as one has scanned a strip.
   */
  private void share(int block, TopNBuffer buffer) {
    ThresholdFloors.learn(computation, block, buffer);
    ThresholdFloors.seed(computation, block, buffer);
  }

  /** One product tile per thread, reused by the thread's tasks (allocated once, not per task). */
  private static final ThreadLocal<float[]> PRODUCT = new ThreadLocal<>();

  private static float[] productBuffer(int size) {
    float[] p = PRODUCT.get();
    if (p == null || p.length < size) {
      p = new float[size];
      PRODUCT.set(p);
    }
    return p;
  }

  @Override
  public boolean hasNext() {
    return nextOther <= task.otherBlocks().length;
  }

  @Override
  public Tuple2<Integer, TopNBuffer> next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    int i = task.rowBlock();
    int rowsI = blocks.rowsIn(i);
    int dim = blocks.dim();
    if (nextOther == -1 && task.withDiagonal()) {
      for (int from = 0; from < rowsI; from += DIAGONAL_STRIP_ROWS) {
        int strip = Math.min(DIAGONAL_STRIP_ROWS, rowsI - from);
        for (int col = from; col < rowsI; col += TILE_COLUMNS) {
          int cols = Math.min(TILE_COLUMNS, rowsI - col);
          kernel.multiplyTransposed(rowBlock, from, strip, rowBlock, col, cols, dim, product);
          BlockPairScan.scanDiagonal(product, from, strip, col, cols, blocks.offsetOf(i), own, filter);
        }
        if (from % STRIP_ROWS == 0) {
          share(i, own);
        }
      }
      ThresholdFloors.learn(computation, i, own);
    }
    nextOther = Math.max(nextOther, 0);
    if (nextOther == task.otherBlocks().length) {
      nextOther++;
      blocks.release(rowBlock);
      return new Tuple2<>(i, own);
    }
    int j = task.otherBlocks()[nextOther++];
    int rowsJ = blocks.rowsIn(j);
    TopNBuffer other = new TopNBuffer(rowsJ, topN);
    ThresholdFloors.seed(computation, j, other);
    float[] blockJ = blocks.block(j);
    for (int from = 0; from < rowsI; from += STRIP_ROWS) {
      int strip = Math.min(STRIP_ROWS, rowsI - from);
      for (int col = 0; col < rowsJ; col += TILE_COLUMNS) {
        int cols = Math.min(TILE_COLUMNS, rowsJ - col);
        kernel.multiplyTransposed(rowBlock, from, strip, blockJ, col, cols, dim, product);
        BlockPairScan.scanPair(product, from, strip, col, cols, blocks.offsetOf(i), blocks.offsetOf(j), own, other,
            filter);
      }
      share(i, own);
      share(j, other);
    }
    blocks.release(blockJ);  // both buffers' thresholds were shared after the last strip
    return new Tuple2<>(j, other);
  }
}
