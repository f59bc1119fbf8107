package dev.itemsim.similarity;

/**
 * Top-N selection fused with one block product: a single pass over {@code C = A_i · A_jᵀ} feeds every score
 * both to row {@code r} of block i and to row {@code c} of block j, so each unordered block pair is
 * multiplied once. Scores below a row's current threshold cost one comparison.
 */
final class BlockPairScan {
  private BlockPairScan() {}

  /**
   * Scans {@code c} ({@code rowsI × rowsJ}, row-major) of two different blocks starting at global indexes
   * {@code offsetI} and {@code offsetJ}.
   */
  static void scanPair(float[] c, int rowsI, int rowsJ, int offsetI, int offsetJ, TopNBuffer topI,
      TopNBuffer topJ) {
    // Invariant: threshold(row) only rises, so skipping s < threshold never loses a candidate.
    for (int r = 0; r < rowsI; r++) {
      int base = r * rowsJ;
      int globalR = offsetI + r;
      float rowThreshold = topI.threshold(r);
      for (int col = 0; col < rowsJ; col++) {
        float s = c[base + col];
        if (s >= rowThreshold) {
          topI.offer(r, s, offsetJ + col);
          rowThreshold = topI.threshold(r);
        }
        if (s >= topJ.threshold(col)) {
          topJ.offer(col, s, globalR);
        }
      }
    }
  }

  /**
   * Scans the product of a block with itself: only the strict upper triangle is read, each score going to
   * both of its rows; the diagonal (an item with itself) is skipped.
   */
  static void scanDiagonal(float[] c, int rows, int offset, TopNBuffer top) {
    for (int r = 0; r < rows; r++) {
      int base = r * rows;
      int globalR = offset + r;
      float rowThreshold = top.threshold(r);
      for (int col = r + 1; col < rows; col++) {
        float s = c[base + col];
        if (s >= rowThreshold) {
          top.offer(r, s, offset + col);
          rowThreshold = top.threshold(r);
        }
        if (s >= top.threshold(col)) {
          top.offer(col, s, globalR);
        }
      }
    }
  }
}
