package dev.itemsim.similarity;

import java.util.Arrays;

/**
 * The top-N scan of approximate search: every score of a product tile that passes its row's threshold
 * (tested {@value ScoreChunks#MAX_LENGTH} at a time, SIMD where the JVM allows, as in the exact scan) and the
 * offer rules ({@link Check}, looked at only for those few candidates) enters its row's list, under the
 * candidate's item number, so ties resolve to the lower id as in exact search.
 */
final class IvfScan {
  private IvfScan() {}

  /** Whether query row {@code q} may list corpus row {@code c} (rows of the tile's two sides, not item numbers). */
  interface Check {
    boolean allows(int q, int c);
  }

  /** Column thresholds of a scan without column lists: +∞ leaves the row's threshold as the only test. */
  private static final float[] NO_COLUMN_LISTS = new float[ScoreChunks.MAX_LENGTH];
  private static final ScoreChunks CHUNKS = ScoreChunks.best();
  private static final ThreadLocal<float[]> PRODUCT = ThreadLocal.withInitial(
      () -> new float[BlockTaskRunner.STRIP_ROWS * BlockTaskRunner.TILE_COLUMNS]);

  static {
    Arrays.fill(NO_COLUMN_LISTS, Float.POSITIVE_INFINITY);
  }

  /** One product tile per thread ({@code STRIP_ROWS × TILE_COLUMNS} floats), reused by the thread's tasks. */
  static float[] productBuffer() {
    return PRODUCT.get();
  }

  /**
   * Scans {@code c} ({@code stripRows × cols}, row-major). Tile row {@code r} is buffer row
   * {@code rowMap[firstRow + r]} (or {@code firstRow + r} when {@code rowMap} is null); tile column {@code k}
   * is corpus row {@code colMap[firstCol + k]} (or {@code firstCol + k}), offered as item
   * {@code items[corpus row]}.
   */
  static void scan(float[] c, int stripRows, int cols, int[] rowMap, int firstRow, int[] colMap, int firstCol,
      int[] items, TopNBuffer top, Check check) {
    for (int r = 0; r < stripRows; r++) {
      int row = rowMap == null ? firstRow + r : rowMap[firstRow + r];
      int base = r * cols;
      float threshold = top.threshold(row);
      for (int from = 0; from < cols; from += ScoreChunks.MAX_LENGTH) {
        long candidates = CHUNKS.candidates(c, base + from, NO_COLUMN_LISTS, 0,
            Math.min(ScoreChunks.MAX_LENGTH, cols - from), threshold);
        while (candidates != 0) {
          int k = from + Long.numberOfTrailingZeros(candidates);
          candidates &= candidates - 1;
          float s = c[base + k];
          if (s >= threshold) {
            int corpusRow = colMap == null ? firstCol + k : colMap[firstCol + k];
            if (check == null || check.allows(row, corpusRow)) {
              top.offer(row, s, items[corpusRow]);
              threshold = top.threshold(row);
            }
          }
        }
      }
    }
  }

  /**
   * The neighbour filters over stored values, as {@link NeighborFilter} rules them: {@code same} keeps only
   * candidates with the query's value (missing equals missing), {@code exclude} drops candidates sharing the
   * query's value (a missing query value excludes nothing); values were stored with blank as missing (null).
   */
  static boolean filtersAllow(String[][] queryValues, int q, String[][] corpusValues, int c, int same, int exclude) {
    if (same >= 0 && !java.util.Objects.equals(queryValues[same][q], corpusValues[same][c])) {
      return false;
    }
    if (exclude >= 0) {
      String v = queryValues[exclude][q];
      return v == null || !v.equals(corpusValues[exclude][c]);
    }
    return true;
  }
}
