package dev.itemsim.similarity;

import java.util.Iterator;
import java.util.NoSuchElementException;
import scala.Tuple2;

/**
 * Runs one {@link BlockPairPlan.Task}: multiplies its block pairs with the kernel and emits partial top-N
 * buffers lazily, one per other block and finally the row block's own, so a task holds two blocks (its row
 * block and the current other one, read from the {@link BlockSource} once each), one product strip
 * ({@code STRIP_ROWS × blockSize} floats) and two top-N buffers ({@code blockSize·N}) at a time.
 */
final class BlockTaskRunner implements Iterator<Tuple2<Integer, TopNBuffer>> {
  private final BlockSource blocks;
  /** Row block i, read once per task. */
  private final float[] rowBlock;
  private final BlockPairPlan.Task task;
  private final int topN;
  /** Rows of block i multiplied and scanned at a time: the strip's product stays in cache for the scan. */
  static final int STRIP_ROWS = 256;

  private final MatMulKernel kernel;
  private final float[] product;
  private final TopNBuffer own;
  private int nextOther = -1;

  private final NeighborFilter filter;

  BlockTaskRunner(BlockSource blocks, BlockPairPlan.Task task, int topN, MatMulKernel kernel) {
    this(blocks, task, topN, kernel, null);
  }

  BlockTaskRunner(BlockSource blocks, BlockPairPlan.Task task, int topN, MatMulKernel kernel,
      NeighborFilter filter) {
    this.filter = filter;
    this.blocks = blocks;
    this.task = task;
    this.topN = topN;
    this.kernel = kernel;
    int i = task.rowBlock();
    int maxRows = blocks.rowsIn(i);
    for (int j : task.otherBlocks()) {
      maxRows = Math.max(maxRows, blocks.rowsIn(j));
    }
    this.product = productBuffer(Math.min(STRIP_ROWS, blocks.rowsIn(i)) * maxRows);
    this.own = new TopNBuffer(blocks.rowsIn(i), topN);
    this.rowBlock = blocks.block(i);
  }

  /** One product strip per thread, reused by the thread's tasks (a few MB allocated once, not per task). */
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
    if (nextOther == -1 && task.withDiagonal()) {
      float[] a = rowBlock;
      for (int from = 0; from < rowsI; from += STRIP_ROWS) {
        int strip = Math.min(STRIP_ROWS, rowsI - from);
        kernel.multiplyTransposed(a, from, strip, a, from, rowsI - from, blocks.dim(), product);
        BlockPairScan.scanDiagonal(product, from, strip, rowsI, blocks.offsetOf(i), own, filter);
      }
    }
    nextOther = Math.max(nextOther, 0);
    if (nextOther == task.otherBlocks().length) {
      nextOther++;
      return new Tuple2<>(i, own);
    }
    int j = task.otherBlocks()[nextOther++];
    int rowsJ = blocks.rowsIn(j);
    TopNBuffer other = new TopNBuffer(rowsJ, topN);
    float[] blockJ = blocks.block(j);
    for (int from = 0; from < rowsI; from += STRIP_ROWS) {
      int strip = Math.min(STRIP_ROWS, rowsI - from);
      kernel.multiplyTransposed(rowBlock, from, strip, blockJ, 0, rowsJ, blocks.dim(), product);
      BlockPairScan.scanPair(product, from, strip, rowsJ, blocks.offsetOf(i), blocks.offsetOf(j), own, other,
          filter);
    }
    return new Tuple2<>(j, other);
  }
}
