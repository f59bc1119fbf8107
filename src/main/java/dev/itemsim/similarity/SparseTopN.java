package dev.itemsim.similarity;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An inverted index of sparse rows (CSR), and top-N by sparse dot product through it: a query touches only the
 * indexed rows sharing a feature with it. Ties go to the lower row index. Features whose posting list is
 * longer than {@code maxPostings} (very common words and n-grams, of low IDF weight), or that are listed as
 * skipped, are passed over while gathering: scores are then exact only when no feature was passed over, so
 * callers that prune re-score the candidates exactly ({@link HybridRanker}). Without pruning the result is
 * exact.
 *
 * <p>Every score is a float sum, from 0, of {@code query value · indexed value} over the features both rows
 * hold, in ascending feature order, whichever side is indexed ({@link #search} indexes the corpus,
 * {@link #accumulate} the queries): both give bit-identical scores.
 */
public final class SparseTopN implements java.io.Serializable {
  private final SparseVectors corpus;
  private final int[] postingOffsets;
  private final int[] postingRows;
  private final float[] postingValues;
  private final int[] featureIds;
  private final int maxPostings;
  /** Open-addressing table from feature id to its position in {@link #featureIds}; −1 marks a free slot. */
  private final int[] slotKeys;
  private final int[] slotFeatures;

  /** Builds the inverted index of {@code corpus}; exact (nothing pruned). */
  public SparseTopN(SparseVectors corpus) {
    this(corpus, Integer.MAX_VALUE);
  }

  /** Builds the inverted index of {@code corpus}, skipping features with more than {@code maxPostings} rows. */
  public SparseTopN(SparseVectors corpus, int maxPostings) {
    this(corpus, maxPostings, new int[0]);
  }

  /**
   * The inverted index of {@code rows} without the features {@code skipped} lists (ascending): those are
   * passed over as if no row held them.
   */
  public static SparseTopN without(SparseVectors rows, int[] skipped) {
    return new SparseTopN(rows, Integer.MAX_VALUE, skipped);
  }

  private SparseTopN(SparseVectors corpus, int maxPostings, int[] skipped) {
    this.corpus = corpus;
    this.maxPostings = maxPostings;
    int[] features = Arrays.copyOf(corpus.indices(), corpus.offsets()[corpus.rows()]);
    Arrays.sort(features);
    int distinct = 0;
    for (int k = 0; k < features.length; k++) {
      if ((k == 0 || features[k] != features[k - 1]) && Arrays.binarySearch(skipped, features[k]) < 0) {
        features[distinct++] = features[k];
      }
    }
    featureIds = Arrays.copyOf(features, distinct);
    int capacity = Integer.highestOneBit(Math.max(4, distinct * 2)) << 1;
    slotKeys = new int[capacity];
    slotFeatures = new int[capacity];
    Arrays.fill(slotKeys, -1);
    for (int f = 0; f < distinct; f++) {
      int slot = slotOf(featureIds[f]);
      slotKeys[slot] = featureIds[f];
      slotFeatures[slot] = f;
    }
    int[] counts = new int[distinct + 1];
    for (int k = 0; k < corpus.offsets()[corpus.rows()]; k++) {
      int f = feature(corpus.indices()[k]);
      if (f >= 0) {
        counts[f + 1]++;
      }
    }
    for (int f = 0; f < distinct; f++) {
      counts[f + 1] += counts[f];
    }
    postingOffsets = counts.clone();
    postingRows = new int[counts[distinct]];
    postingValues = new float[counts[distinct]];
    int[] fill = Arrays.copyOf(counts, distinct);
    for (int row = 0; row < corpus.rows(); row++) {
      for (int k = corpus.offsets()[row]; k < corpus.offsets()[row + 1]; k++) {
        int f = feature(corpus.indices()[k]);
        if (f >= 0) {
          postingRows[fill[f]] = row;
          postingValues[fill[f]++] = corpus.values()[k];
        }
      }
    }
  }

  /** The slot holding {@code id}, or the free slot where it would go (linear probing). */
  private int slotOf(int id) {
    int mask = slotKeys.length - 1;
    int slot = (id * 0x9E3779B9) >>> 7 & mask;
    while (slotKeys[slot] != -1 && slotKeys[slot] != id) {
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  /** Position of feature {@code id} in the index, or −1 when no indexed row holds it (or it is skipped). */
  private int feature(int id) {
    int slot = slotOf(id);
    return slotKeys[slot] == id ? slotFeatures[slot] : -1;
  }

  /**
   * Top-{@code n} corpus rows for each query row {@code from..to} of {@code queries}; {@code excludeSelf}
   * skips corpus row {@code q} for query row {@code q} (one catalogue searched against itself). Rows with no
   * shared feature are not listed.
   */
  public TopNBuffer search(SparseVectors queries, int from, int to, int n, boolean excludeSelf) {
    return search(queries, from, to, n, excludeSelf, null);
  }

  /** {@link #search} keeping only neighbours {@code filter} allows (null: all). */
  public TopNBuffer search(SparseVectors queries, int from, int to, int n, boolean excludeSelf,
      NeighborFilter filter) {
    TopNBuffer top = new TopNBuffer(to - from, n);
    float[] scores = new float[corpus.rows()];
    int[] touched = new int[corpus.rows()];
    int[] touchedBy = new int[corpus.rows()];
    Arrays.fill(touchedBy, -1);
    for (int q = from; q < to; q++) {
      int touchedCount = 0;
      for (int k = queries.offsets()[q]; k < queries.offsets()[q + 1]; k++) {
        int f = feature(queries.indices()[k]);
        if (f < 0 || postingOffsets[f + 1] - postingOffsets[f] > maxPostings) {
          continue;
        }
        float w = queries.values()[k];
        for (int p = postingOffsets[f]; p < postingOffsets[f + 1]; p++) {
          int row = postingRows[p];
          if (touchedBy[row] != q) {
            touchedBy[row] = q;
            touched[touchedCount++] = row;
          }
          scores[row] += w * postingValues[p];
        }
      }
      for (int t = 0; t < touchedCount; t++) {
        int row = touched[t];
        if (!(excludeSelf && row == q) && (filter == null || filter.allows(q, row))) {
          top.offer(q - from, scores[row], row);
        }
        scores[row] = 0f;
      }
    }
    return top;
  }

  /**
   * The other direction of {@link #search}, for an index of queries: adds the products of one corpus row —
   * features {@code indices[from..to)} (ascending) with {@code values} — to the score of every indexed row
   * sharing a feature with it ({@code scores[row] += indexed value · corpus value}), and lists each such row
   * once in {@code touched}, returning how many. {@code marks} (one per indexed row) remembers which rows this
   * call has listed: pass a {@code stamp} no earlier call used. The caller reads the touched rows' scores
   * and sets them back to 0. The pruning by {@code maxPostings} does not apply here: build the index
   * {@link #without} the features to pass over.
   */
  public int accumulate(int[] indices, float[] values, int from, int to, float[] scores, int[] touched, int[] marks,
      int stamp) {
    int touchedCount = 0;
    for (int k = from; k < to; k++) {
      int f = feature(indices[k]);
      if (f < 0) {
        continue;
      }
      float w = values[k];
      for (int p = postingOffsets[f]; p < postingOffsets[f + 1]; p++) {
        int row = postingRows[p];
        if (marks[row] != stamp) {
          marks[row] = stamp;
          touched[touchedCount++] = row;
        }
        scores[row] += postingValues[p] * w;
      }
    }
    return touchedCount;
  }

  /** Lists of corpus indexes, best first, for every query row. */
  public List<int[]> searchAll(SparseVectors queries, int n, boolean excludeSelf) {
    return searchAll(queries, n, excludeSelf, null);
  }

  /**
   * {@link #searchAll} keeping only neighbours {@code filter} allows (null: all). Queries are searched in
   * chunks on all cores of this JVM.
   */
  public List<int[]> searchAll(SparseVectors queries, int n, boolean excludeSelf, NeighborFilter filter) {
    int chunk = 512;
    int chunks = (queries.rows() + chunk - 1) / chunk;
    int[][] lists = new int[queries.rows()][];
    java.util.stream.IntStream.range(0, chunks).parallel().forEach(c -> {
      int from = c * chunk;
      int to = Math.min(queries.rows(), from + chunk);
      TopNBuffer top = search(queries, from, to, n, excludeSelf, filter);
      int[] ids = new int[n];
      float[] s = new float[n];
      for (int r = 0; r < to - from; r++) {
        lists[from + r] = Arrays.copyOf(ids, top.sorted(r, ids, s));
      }
    });
    return new ArrayList<>(Arrays.asList(lists));
  }
}
