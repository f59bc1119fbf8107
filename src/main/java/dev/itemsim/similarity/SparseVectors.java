package dev.itemsim.similarity;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Sparse unit vectors in compressed rows (CSR): row {@code i} has features {@code indices[offsets[i] ..
 * offsets[i+1])} with {@code values} in the same places, indices ascending. Dot products of rows are
 * cosines when rows are L2-normalised.
 */
public record SparseVectors(int[] offsets, int[] indices, float[] values) implements Serializable {

  public int rows() {
    return offsets.length - 1;
  }

  /** Dot product of row {@code i} of this and row {@code j} of {@code other} (merge of sorted indices). */
  public float dot(int i, SparseVectors other, int j) {
    return dot(indices, values, offsets[i], offsets[i + 1], other.indices, other.values, other.offsets[j],
        other.offsets[j + 1]);
  }

  /**
   * Dot product of two rows given as ranges of index and value arrays ({@code aIndices[a..aEnd)}, ascending):
   * the products of shared features summed in double, in feature order.
   */
  public static float dot(int[] aIndices, float[] aValues, int a, int aEnd, int[] bIndices, float[] bValues, int b,
      int bEnd) {
    double s = 0;
    while (a < aEnd && b < bEnd) {
      int ia = aIndices[a];
      int ib = bIndices[b];
      if (ia == ib) {
        s += (double) aValues[a++] * bValues[b++];
      } else if (ia < ib) {
        a++;
      } else {
        b++;
      }
    }
    return (float) s;
  }

  /** Rows {@code from..to} as vectors of their own (copied). */
  public SparseVectors slice(int from, int to) {
    int start = offsets[from];
    int[] o = new int[to - from + 1];
    for (int r = from; r <= to; r++) {
      o[r - from] = offsets[r] - start;
    }
    return new SparseVectors(o, Arrays.copyOfRange(indices, start, offsets[to]),
        Arrays.copyOfRange(values, start, offsets[to]));
  }
}
