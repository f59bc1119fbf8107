package dev.itemsim.similarity;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Bounded best-N lists for a block of rows, in flat primitive arrays (no per-row or per-entry objects).
 *
 * <p>Order: a candidate is better when its score is higher, or the scores are equal and its neighbour index
 * is lower; neighbour indexes follow item-id order, so ties resolve to the smaller id. Each entry is one
 * {@code long} whose natural order is exactly that order (the score's bits made sortable as a signed int in
 * the high half, {@code Integer.MAX_VALUE − neighbour} in the low half), so comparing two entries is one
 * instruction and a row's N entries share a cache line or two. Each row's slice {@code [row·n, row·n + n)} is
 * a binary min-heap whose root is the worst kept entry; empty slots hold {@code (−∞, Integer.MAX_VALUE)},
 * worse than any real candidate.
 */
public final class TopNBuffer implements Serializable {
  static final int EMPTY = Integer.MAX_VALUE;
  private static final long EMPTY_ENTRY = pack(Float.NEGATIVE_INFINITY, EMPTY);

  private final int rows;
  private final int n;
  private final long[] entries;
  /**
   * {@code thresholds[row] == max(score of the row's root, floors[row])}, kept contiguous so scans read it
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
    this.entries = new long[rows * n];
    this.thresholds = new float[rows];
    Arrays.fill(entries, EMPTY_ENTRY);
    Arrays.fill(thresholds, Float.NEGATIVE_INFINITY);
  }

  public int rows() {
    return rows;
  }

  public int n() {
    return n;
  }

  /** Score a candidate must reach to be considered for {@code row} (the worst kept score, or the floor). */
  float threshold(int row) {
    return thresholds[row];
  }

  /** Keeps {@code (score, neighbor)} for {@code row} if it beats the worst kept entry. */
  void offer(int row, float score, int neighbor) {
    offer(row, pack(score, neighbor));
  }

  private void offer(int row, long entry) {
    int base = row * n;
    if (entry <= entries[base]) {
      return;
    }
    siftDown(base, entry);
    float worst = scoreOf(entries[base]);
    thresholds[row] = floors == null ? worst : Math.max(worst, floors[row]);
  }

  /**
   * Raises the thresholds the scans test against to {@code floors} (one per row), which must be lower
   * bounds of each row's N-th best score over all its candidates (for instance the thresholds of another
   * partial list of the same rows). Candidates below them cannot be in the final list, so the scans skip
   * them and this partial list may keep fewer than N entries; merging partial lists still gives the exact
   * top-N. Thresholds and floors never fall: floors raised twice keep the higher of each.
   */
  void raiseFloors(float[] floors) {
    if (floors.length != rows) {
      throw new IllegalArgumentException("floors has " + floors.length + " rows, the buffer " + rows);
    }
    if (this.floors == null) {
      this.floors = floors.clone();
    } else {
      for (int row = 0; row < rows; row++) {
        this.floors[row] = Math.max(this.floors[row], floors[row]);
      }
    }
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
        long entry = other.entries[k];
        if (entry != EMPTY_ENTRY) {
          offer(row, entry);
        }
      }
    }
    return this;
  }

  /** Entries kept over all rows. */
  public long kept() {
    long count = 0;
    for (long entry : entries) {
      count += entry != EMPTY_ENTRY ? 1 : 0;
    }
    return count;
  }

  /**
   * Writes {@code row}'s entries best first into the arrays and returns how many there are (fewer than n
   * when the row had fewer candidates).
   */
  public int sorted(int row, int[] neighborsOut, float[] scoresOut) {
    long[] kept = new long[n];
    int count = 0;
    for (int k = row * n, end = k + n; k < end; k++) {
      if (entries[k] != EMPTY_ENTRY) {
        kept[count++] = entries[k];
      }
    }
    Arrays.sort(kept, 0, count);
    for (int k = 0; k < count; k++) {
      long entry = kept[count - 1 - k];
      neighborsOut[k] = neighborOf(entry);
      scoresOut[k] = scoreOf(entry);
    }
    return count;
  }

  /**
   * The entry of {@code (score, neighbor)}: signed-int order of the high half is the scores' order (−0 and
   * +0 are one score), the low half is larger for lower neighbour indexes.
   */
  static long pack(float score, int neighbor) {
    int bits = Float.floatToRawIntBits(score + 0.0f);
    int sortable = bits ^ ((bits >> 31) & 0x7fffffff);
    return ((long) sortable << 32) | (Integer.MAX_VALUE - neighbor);
  }

  private static float scoreOf(long entry) {
    int sortable = (int) (entry >> 32);
    return Float.intBitsToFloat(sortable ^ ((sortable >> 31) & 0x7fffffff));
  }

  private static int neighborOf(long entry) {
    return Integer.MAX_VALUE - (int) entry;
  }

  /** Replaces the root of the heap at {@code base} by {@code entry} and restores the heap. */
  private void siftDown(int base, long entry) {
    int i = 0;
    while (true) {
      int child = 2 * i + 1;
      if (child >= n) {
        break;
      }
      long worst = entries[base + child];
      if (child + 1 < n && entries[base + child + 1] < worst) {
        child++;
        worst = entries[base + child];
      }
      if (worst >= entry) {
        break;
      }
      entries[base + i] = worst;
      i = child;
    }
    entries[base + i] = entry;
  }

  /** Ships as a {@link Compact} list: only the kept entries. */
  private Object writeReplace() {
    return new Compact(this);
  }

  private void readObject(java.io.ObjectInputStream in) throws java.io.InvalidObjectException {
    throw new java.io.InvalidObjectException("TopNBuffer is serialized through its Compact form");
  }

  /**
   * The serialized form of a buffer: each row's number of kept entries, then the kept entries. A partial
   * list whose rows started from known thresholds ({@link #raiseFloors}) keeps few entries, so it ships far
   * smaller than its full arrays; thresholds and floors are not shipped (a received buffer's thresholds are
   * its own worst kept scores).
   */
  private static final class Compact implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int rows;
    private final int n;
    private final int[] counts;
    private final long[] kept;

    Compact(TopNBuffer buffer) {
      rows = buffer.rows;
      n = buffer.n;
      counts = new int[rows];
      long[] all = new long[buffer.entries.length];
      int size = 0;
      for (int row = 0; row < rows; row++) {
        for (int k = row * n, end = k + n; k < end; k++) {
          if (buffer.entries[k] != EMPTY_ENTRY) {
            all[size++] = buffer.entries[k];
            counts[row]++;
          }
        }
      }
      kept = Arrays.copyOf(all, size);
    }

    private Object readResolve() throws java.io.InvalidObjectException {
      if (rows < 0 || n < 1 || counts.length != rows) {
        throw new java.io.InvalidObjectException("corrupt top-N list: rows " + rows + ", n " + n);
      }
      TopNBuffer buffer = new TopNBuffer(rows, n);
      int next = 0;
      for (int row = 0; row < rows; row++) {
        if (counts[row] < 0 || counts[row] > n || next + counts[row] > kept.length) {
          throw new java.io.InvalidObjectException("corrupt top-N list: row " + row + " claims " + counts[row]
              + " entries");
        }
        for (int k = 0; k < counts[row]; k++) {
          buffer.offer(row, kept[next++]);
        }
      }
      return buffer;
    }
  }
}
