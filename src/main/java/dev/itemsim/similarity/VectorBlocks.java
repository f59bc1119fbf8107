package dev.itemsim.similarity;

import java.util.List;

/**
 * n vectors of one dimension cut into row blocks of {@code blockSize} (the last one shorter), each block a
 * row-major float32 array: the row partitioning of MLlib's {@code BlockMatrix}/{@code GridPartitioner}.
 * Vector {@code g} lives in block {@code g / blockSize} at row {@code g % blockSize}.
 */
public final class VectorBlocks extends BlockLayout {
  private final float[][] blocks;

  private VectorBlocks(int count, int dim, int blockSize, float[][] blocks) {
    super(count, dim, blockSize);
    this.blocks = blocks;
  }

  /** Packs {@code vectors} (all of length {@code dim}) in order. */
  public static VectorBlocks of(List<float[]> vectors, int dim, int blockSize) {
    if (blockSize < 1) {
      throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
    }
    int n = vectors.size();
    int numBlocks = (n + blockSize - 1) / blockSize;
    float[][] blocks = new float[numBlocks][];
    for (int b = 0; b < numBlocks; b++) {
      int rows = Math.min(blockSize, n - b * blockSize);
      float[] block = new float[rows * dim];
      for (int r = 0; r < rows; r++) {
        float[] v = vectors.get(b * blockSize + r);
        if (v.length != dim) {
          throw new IllegalArgumentException("Vector " + (b * blockSize + r) + " has length " + v.length
              + ", expected " + dim);
        }
        System.arraycopy(v, 0, block, r * dim, dim);
      }
      blocks[b] = block;
    }
    return new VectorBlocks(n, dim, blockSize, blocks);
  }

  /** A copy of vector {@code g}. */
  public float[] vector(int g) {
    float[] v = new float[dim];
    System.arraycopy(blocks[g / blockSize], (g % blockSize) * dim, v, 0, dim);
    return v;
  }

  @Override
  public int numBlocks() {
    return blocks.length;
  }

  @Override
  public float[] block(int b) {
    return blocks[b];
  }

  @Override
  public int rowsIn(int b) {
    return blocks[b].length / dim;
  }

  @Override
  public int offsetOf(int b) {
    return b * blockSize;
  }
}
