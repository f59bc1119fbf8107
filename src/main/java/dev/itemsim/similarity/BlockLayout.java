package dev.itemsim.similarity;

/** The shape every {@link BlockSource} shares: n vectors of one dimension in row blocks of one size. */
abstract class BlockLayout implements BlockSource {
  protected final int count;
  protected final int dim;
  protected final int blockSize;

  BlockLayout(int count, int dim, int blockSize) {
    this.count = count;
    this.dim = dim;
    this.blockSize = blockSize;
  }

  @Override
  public final int count() {
    return count;
  }

  @Override
  public final int dim() {
    return dim;
  }

  @Override
  public final int blockSize() {
    return blockSize;
  }
}
