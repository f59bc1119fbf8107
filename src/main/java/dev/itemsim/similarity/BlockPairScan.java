package dev.itemsim.similarity;

/**
 * Top-N selection fused with block products: a single pass over a strip of {@code C = A_i · A_jᵀ} feeds every
 * score both to its row in block i and to its row in block j, so each unordered block pair is multiplied
 * once. Strips are small enough to be scanned while still in cache. Scores below a row's current threshold
 * cost one comparison.
 */
final class BlockPairScan {
  private BlockPairScan() {}

  /**
   * Scans {@code c} ({@code stripRows × rowsJ}, row-major): rows {@code firstRow..} of block i (global index
   * offset {@code offsetI}) against all rows of a different block j (global offset {@code offsetJ}).
   */
  static void scanPair(float[] c, int firstRow, int stripRows, int rowsJ, int offsetI, int offsetJ,
      TopNBuffer topI, TopNBuffer topJ, NeighborFilter filter) {
    float[] columnThresholds = topJ.thresholds;
    // Invariant: thresholds only rise, so skipping s < threshold never loses a candidate, and a chunk's
    // smallest column threshold (taken at the start of the strip) stays a lower bound of each of its columns':
    // most scores fail one comparison against `gate` and are never looked at again. Floors per chunk of
    // CHUNK columns rather than per strip keep one slow column from opening the gate for all the others.
    float[] floors = chunkFloors(columnThresholds, 0, rowsJ);
    for (int r = 0; r < stripRows; r++) {
      int row = firstRow + r;
      int base = r * rowsJ;
      float rowThreshold = topI.threshold(row);
      for (int from = 0, chunk = 0; from < rowsJ; from += CHUNK, chunk++) {
        float floor = floors[chunk];
        float gate = Math.min(rowThreshold, floor);
        int to = Math.min(rowsJ, from + CHUNK);
        for (int col = from; col < to; col++) {
          float s = c[base + col];
          if (s < gate) {
            continue;
          }
          if (s >= rowThreshold && (filter == null || filter.allows(offsetI + row, offsetJ + col))) {
            topI.offer(row, s, offsetJ + col);
            rowThreshold = topI.threshold(row);
            gate = Math.min(rowThreshold, floor);
          }
          if (s >= columnThresholds[col] && (filter == null || filter.allows(offsetJ + col, offsetI + row))) {
            topJ.offer(col, s, offsetI + row);
          }
        }
      }
    }
  }

  /**
   * Scans {@code c} ({@code stripRows × rowsJ}) for the rows only: rows {@code firstRow..} of a query block
   * against corpus rows starting at global corpus index {@code offsetJ} (cross-catalogue search, where
   * corpus rows have no lists of their own).
   */
  static void scanRows(float[] c, int firstRow, int stripRows, int rowsJ, int offsetI, int offsetJ, TopNBuffer top,
      NeighborFilter filter) {
    for (int r = 0; r < stripRows; r++) {
      int row = firstRow + r;
      int base = r * rowsJ;
      float rowThreshold = top.threshold(row);
      for (int col = 0; col < rowsJ; col++) {
        float s = c[base + col];
        if (s >= rowThreshold && (filter == null || filter.allows(offsetI + row, offsetJ + col))) {
          top.offer(row, s, offsetJ + col);
          rowThreshold = top.threshold(row);
        }
      }
    }
  }

  /**
   * Scans a strip of a block's product with itself: {@code c} is {@code stripRows × (rows − firstRow)}, the
   * strip's rows against block rows {@code firstRow..rows}. Only the strict upper triangle is read, each score
   * going to both of its rows; the diagonal (an item with itself) is skipped.
   */
  static void scanDiagonal(float[] c, int firstRow, int stripRows, int rows, int offset, TopNBuffer top,
      NeighborFilter filter) {
    int width = rows - firstRow;
    float[] columnThresholds = top.thresholds;
    float[] floors = chunkFloors(columnThresholds, firstRow, rows);
    for (int r = 0; r < stripRows; r++) {
      int row = firstRow + r;
      int base = r * width - firstRow;
      float rowThreshold = top.threshold(row);
      for (int from = firstRow, chunk = 0; from < rows; from += CHUNK, chunk++) {
        int to = Math.min(rows, from + CHUNK);
        if (to <= row + 1) {
          continue;
        }
        float floor = floors[chunk];
        float gate = Math.min(rowThreshold, floor);
        for (int col = Math.max(from, row + 1); col < to; col++) {
          float s = c[base + col];
          if (s < gate) {
            continue;
          }
          if (s >= rowThreshold && (filter == null || filter.allows(offset + row, offset + col))) {
            top.offer(row, s, offset + col);
            rowThreshold = top.threshold(row);
            gate = Math.min(rowThreshold, floor);
          }
          if (s >= columnThresholds[col] && (filter == null || filter.allows(offset + col, offset + row))) {
            top.offer(col, s, offset + row);
          }
        }
      }
    }
  }

  /** Columns per gate floor in the fused scans. */
  static final int CHUNK = 64;

  /** The smallest of {@code thresholds[from..to)} per chunk of {@link #CHUNK}, chunks starting at {@code from}. */
  private static float[] chunkFloors(float[] thresholds, int from, int to) {
    float[] floors = new float[(to - from + CHUNK - 1) / CHUNK];
    for (int chunk = 0; chunk < floors.length; chunk++) {
      floors[chunk] = min(thresholds, from + chunk * CHUNK, Math.min(to, from + (chunk + 1) * CHUNK));
    }
    return floors;
  }

  private static float min(float[] values, int from, int to) {
    float m = Float.POSITIVE_INFINITY;
    for (int i = from; i < to; i++) {
      m = Math.min(m, values[i]);
    }
    return m;
  }
}
