package dev.itemsim.similarity;

/**
 * Top-N selection fused with block products: a single pass over a tile of {@code C = A_i · A_jᵀ} feeds every
 * score both to its row in block i and to its row in block j, so each unordered block pair is multiplied
 * once. Tiles are small enough to be scanned while still in cache. Each chunk of {@link #CHUNK} scores is
 * tested at once against its row's and its columns' thresholds ({@link ScoreChunks}, SIMD where available);
 * only the candidates it returns are looked at one by one.
 */
final class BlockPairScan {
  private BlockPairScan() {}

  /**
   * Scans {@code c} ({@code stripRows × cols}, row-major): rows {@code firstRow..} of block i (global index
   * offset {@code offsetI}) against rows {@code firstCol..firstCol+cols} of a different block j (global offset
   * {@code offsetJ}).
   */
  static void scanPair(float[] c, int firstRow, int stripRows, int firstCol, int cols, int offsetI, int offsetJ,
      TopNBuffer topI, TopNBuffer topJ, NeighborFilter filter) {
    scan(c, firstRow, stripRows, firstCol, cols, offsetI, offsetJ, topI, topJ, filter, false);
  }

  /**
   * Scans {@code c} ({@code stripRows × cols}) for the rows only: rows {@code firstRow..} of a query block
   * against corpus rows {@code firstCol..firstCol+cols} of a block starting at global corpus index
   * {@code offsetJ} (cross-catalogue search, where corpus rows have no lists of their own).
   */
  static void scanRows(float[] c, int firstRow, int stripRows, int firstCol, int cols, int offsetI, int offsetJ,
      TopNBuffer top, NeighborFilter filter) {
    scan(c, firstRow, stripRows, firstCol, cols, offsetI, offsetJ, top, null, filter, false);
  }

  /** Column thresholds of a scan without column lists: +∞ leaves the row's threshold as the only test. */
  private static final float[] NO_COLUMN_LISTS = new float[ScoreChunks.MAX_LENGTH];

  static {
    java.util.Arrays.fill(NO_COLUMN_LISTS, Float.POSITIVE_INFINITY);
  }

  /**
   * Scans a tile of a block's product with itself: {@code c} is {@code stripRows × cols}, block rows
   * {@code firstRow..} against block rows {@code firstCol..firstCol+cols} ({@code firstCol ≥ firstRow}). Only
   * the strict upper triangle is read, each score going to both of its rows; the diagonal (an item with
   * itself) is skipped.
   */
  static void scanDiagonal(float[] c, int firstRow, int stripRows, int firstCol, int cols, int offset,
      TopNBuffer top, NeighborFilter filter) {
    scan(c, firstRow, stripRows, firstCol, cols, offset, offset, top, top, filter, true);
  }

  /**
   * The fused scan: every score of the tile that the candidate test lets through is offered to its row's
   * list in {@code topI} and its column's in {@code topJ} (the same buffer on a diagonal tile, where only
   * the columns right of each row's own are read; null when columns keep no lists).
   */
  private static void scan(float[] c, int firstRow, int stripRows, int firstCol, int cols, int offsetI, int offsetJ,
      TopNBuffer topI, TopNBuffer topJ, NeighborFilter filter, boolean upperTriangle) {
    boolean columnLists = topJ != null;
    float[] columnThresholds = columnLists ? topJ.thresholds : NO_COLUMN_LISTS;
    int end = firstCol + cols;
    for (int r = 0; r < stripRows; r++) {
      int row = firstRow + r;
      int base = r * cols - firstCol;
      float rowThreshold = topI.threshold(row);
      for (int from = upperTriangle ? Math.max(firstCol, row + 1) : firstCol; from < end; from += CHUNK) {
        long candidates = CHUNKS.candidates(c, base + from, columnThresholds, columnLists ? from : 0,
            Math.min(CHUNK, end - from), rowThreshold);
        while (candidates != 0) {
          int col = from + Long.numberOfTrailingZeros(candidates);
          candidates &= candidates - 1;
          float s = c[base + col];
          if (s >= rowThreshold && (filter == null || filter.allows(offsetI + row, offsetJ + col))) {
            topI.offer(row, s, offsetJ + col);
            rowThreshold = topI.threshold(row);
          }
          if (columnLists && s >= columnThresholds[col]
              && (filter == null || filter.allows(offsetJ + col, offsetI + row))) {
            topJ.offer(col, s, offsetI + row);
          }
        }
      }
    }
  }

  /** Scores per candidate test ({@link ScoreChunks}) in the fused scans. */
  static final int CHUNK = ScoreChunks.MAX_LENGTH;

  /** The candidate test, SIMD where the JVM allows it. */
  private static final ScoreChunks CHUNKS = ScoreChunks.best();
}
