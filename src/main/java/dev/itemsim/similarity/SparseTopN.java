package dev.itemsim.similarity;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Top-N by sparse dot product through an inverted index of the corpus: a query touches only the corpus rows
 * sharing a feature with it. Ties go to the lower corpus index. Features whose posting list is longer than
 * {@code maxPostings} (very common words and n-grams, of low IDF weight) are skipped while gathering: scores
 * are then exact only when no feature was skipped, so callers that prune re-score the candidates exactly
 * ({@link HybridRanker}). Without pruning the result is exact.
 */
public final class SparseTopN implements java.io.Serializable {
  private final SparseVectors corpus;
  private final int[] postingOffsets;
  private final int[] postingRows;
  private final float[] postingValues;
  private final int[] featureIds;
  private final int maxPostings;

  /** Builds the inverted index of {@code corpus}; exact (nothing pruned). */
  public SparseTopN(SparseVectors corpus) {
    this(corpus, Integer.MAX_VALUE);
  }

  /** Builds the inverted index of {@code corpus}, skipping features with more than {@code maxPostings} rows. */
  public SparseTopN(SparseVectors corpus, int maxPostings) {
    this.corpus = corpus;
    this.maxPostings = maxPostings;
    int[] features = Arrays.copyOf(corpus.indices(), corpus.indices().length);
    Arrays.sort(features);
    int distinct = 0;
    for (int k = 0; k < features.length; k++) {
      if (k == 0 || features[k] != features[k - 1]) {
        features[distinct++] = features[k];
      }
    }
    featureIds = Arrays.copyOf(features, distinct);
    int[] counts = new int[distinct + 1];
    for (int idx : corpus.indices()) {
      counts[Arrays.binarySearch(featureIds, idx) + 1]++;
    }
    for (int f = 0; f < distinct; f++) {
      counts[f + 1] += counts[f];
    }
    postingOffsets = counts.clone();
    postingRows = new int[corpus.indices().length];
    postingValues = new float[corpus.indices().length];
    int[] fill = Arrays.copyOf(counts, distinct);
    for (int row = 0; row < corpus.rows(); row++) {
      for (int k = corpus.offsets()[row]; k < corpus.offsets()[row + 1]; k++) {
        int f = Arrays.binarySearch(featureIds, corpus.indices()[k]);
        postingRows[fill[f]] = row;
        postingValues[fill[f]++] = corpus.values()[k];
      }
    }
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
        int f = Arrays.binarySearch(featureIds, queries.indices()[k]);
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
