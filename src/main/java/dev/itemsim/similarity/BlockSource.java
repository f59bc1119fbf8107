package dev.itemsim.similarity;

import java.io.Serializable;

/**
 * n vectors of one dimension in row blocks of {@code blockSize} (the last one shorter), each block a
 * row-major float32 array: vector {@code g} is row {@code g % blockSize} of block {@code g / blockSize}.
 * Held in memory ({@link VectorBlocks}) or as one file per block ({@link BlockFiles}), which a task reads
 * only when it multiplies that block.
 */
public interface BlockSource extends Serializable {
  int count();

  int dim();

  int blockSize();

  /**
   * Block {@code b}'s rows, row-major; may read it from storage, so callers keep the array they got and
   * must not modify it.
   */
  float[] block(int b);

  /**
   * Says the caller is done with an array {@link #block} returned: a source that reads blocks from storage
   * may then reuse the array for another block, so the caller must not touch it again. Optional: an array
   * never released is simply left to the garbage collector.
   */
  default void release(float[] block) {}

  default int numBlocks() {
    return (count() + blockSize() - 1) / blockSize();
  }

  default int rowsIn(int b) {
    return Math.min(blockSize(), count() - b * blockSize());
  }

  default int offsetOf(int b) {
    return b * blockSize();
  }
}
