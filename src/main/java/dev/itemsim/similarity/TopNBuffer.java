package dev.itemsim.similarity;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Bounded best-N lists for a block of rows, in two flat primitive arrays (no per-row or per-entry objects).
 *
 * <p>Order: a candidate is better when its score is higher, or the scores are equal and its neighbour index
 * is lower; neighbour indexes follow item-id order, so ties resolve to the smaller id. Each row's slice
 * {@code [row·n, row·n + n)} is a binary heap whose root is the worst kept entry; empty slots hold
 * {@code (-∞, Integer.MAX_VALUE)}, worse than any real candidate.
 */
public final class TopNBuffer implements Serializable {
  static final int EMPTY = Integer.MAX_VALUE;

  private final int rows;
  private final int n;
  final float[] scores;
  final int[] neighbors;
  /**
   * {@code thresholds[row] == max(scores[row * n], floors[row])}, kept contiguous so scans read it
   * sequentially.
   */
  final float[] thresholds;
  /** Known lower bounds of each row's final N-th best score, or null; scans only, not shipped. */
  private transient float[] floors;

  public TopNBuffer(int rows, int n) {
    if (n < 1) {
      throw new IllegalArgumentException("top-N needs n >= 1, got " + n);
    }
    this.rows = rows;
    this.n = n;
    this.scores = new float[rows * n];
    this.neighbors = new int[rows * n];
    this.thresholds = new float[rows];
    Arrays.fill(scores, Float.NEGATIVE_INFINITY);
    Arrays.fill(neighbors, EMPTY);
    Arrays.fill(thresholds, Float.NEGATIVE_INFINITY);
  }

  public int rows() {
    return rows;
  }

  public int n() {
    return n;
  }

  /** Score a candidate must reach to be considered for {@code row} (the worst kept score). */
  float threshold(int row) {
    return thresholds[row];
  }

  /** Keeps {@code (score, neighbor)} for {@code row} if it beats the worst kept entry. */
  void offer(int row, float score, int neighbor) {
    int base = row * n;
    if (!isWorse(scores[base], neighbors[base], score, neighbor)) {
      return;
    }
    scores[base] = score;
    neighbors[base] = neighbor;
    siftDown(base);
    thresholds[row] = floors == null ? scores[base] : Math.max(scores[base], floors[row]);
  }

  /**
   * Raises the thresholds the scans test against to {@code floors} (one per row), which must be lower
   * bounds of each row's N-th best score over all its candidates (for instance the thresholds of another
   * partial list of the same rows). Candidates below them cannot be in the final list, so the scans skip
   * them and this partial list may keep fewer than N entries; merging partial lists still gives the exact
   * top-N. Thresholds never fall.
   */
  void raiseFloors(float[] floors) {
    if (floors.length != rows) {
      throw new IllegalArgumentException("floors has " + floors.length + " rows, the buffer " + rows);
    }
    this.floors = floors.clone();
    for (int row = 0; row < rows; row++) {
      thresholds[row] = Math.max(thresholds[row], floors[row]);
    }
  }

  /** Adds every entry of {@code other} (same rows and n) and returns this buffer. */
  public TopNBuffer mergeFrom(TopNBuffer other) {
    if (other.rows != rows || other.n != n) {
      throw new IllegalArgumentException("Cannot merge top-N buffers of different shapes");
    }
    for (int row = 0; row < rows; row++) {
      for (int k = row * n, end = k + n; k < end; k++) {
        if (other.neighbors[k] != EMPTY) {
          offer(row, other.scores[k], other.neighbors[k]);
        }
      }
    }
    return this;
  }

  /**
   * Writes {@code row}'s entries best first into the arrays and returns how many there are (fewer than n
   * when the row had fewer candidates).
   */
  public int sorted(int row, int[] neighborsOut, float[] scoresOut) {
    int base = row * n;
    int count = 0;
    for (int k = 0; k < n; k++) {
      if (neighbors[base + k] != EMPTY) {
        neighborsOut[count] = neighbors[base + k];
        scoresOut[count] = scores[base + k];
        count++;
      }
    }
    // insertion sort, best first: n is small
    for (int i = 1; i < count; i++) {
      float s = scoresOut[i];
      int id = neighborsOut[i];
      int j = i - 1;
      while (j >= 0 && isWorse(scoresOut[j], neighborsOut[j], s, id)) {
        scoresOut[j + 1] = scoresOut[j];
        neighborsOut[j + 1] = neighborsOut[j];
        j--;
      }
      scoresOut[j + 1] = s;
      neighborsOut[j + 1] = id;
    }
    return count;
  }

  /** True when entry a is worse than entry b: lower score, or equal score and higher index. */
  static boolean isWorse(float scoreA, int neighborA, float scoreB, int neighborB) {
    return scoreA < scoreB || (scoreA == scoreB && neighborA > neighborB);
  }

  private void siftDown(int base) {
    int i = 0;
    while (true) {
      int left = 2 * i + 1;
      if (left >= n) {
        return;
      }
      int worst = left;
      int right = left + 1;
      if (right < n && isWorse(scores[base + right], neighbors[base + right], scores[base + left],
          neighbors[base + left])) {
        worst = right;
      }
      if (!isWorse(scores[base + worst], neighbors[base + worst], scores[base + i], neighbors[base + i])) {
        return;
      }
      float s = scores[base + i];
      int id = neighbors[base + i];
      scores[base + i] = scores[base + worst];
      neighbors[base + i] = neighbors[base + worst];
      scores[base + worst] = s;
      neighbors[base + worst] = id;
      i = worst;
    }
  }
}
