package dev.itemsim.similarity;

import java.io.Serializable;

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
    int a = offsets[i];
    int aEnd = offsets[i + 1];
    int b = other.offsets[j];
    int bEnd = other.offsets[j + 1];
    double s = 0;
    while (a < aEnd && b < bEnd) {
      int ia = indices[a];
      int ib = other.indices[b];
      if (ia == ib) {
        s += (double) values[a++] * other.values[b++];
      } else if (ia < ib) {
        a++;
      } else {
        b++;
      }
    }
    return (float) s;
  }

  /** As {@link #dot}, over the features in {@code [from, to)} only. */
  public double dot(int i, SparseVectors other, int j, int from, int to) {
    int a = offsets[i];
    int aEnd = offsets[i + 1];
    int b = other.offsets[j];
    int bEnd = other.offsets[j + 1];
    double s = 0;
    while (a < aEnd && b < bEnd) {
      int ia = indices[a];
      int ib = other.indices[b];
      if (ia == ib) {
        if (ia >= from && ia < to) {
          s += (double) values[a] * other.values[b];
        }
        a++;
        b++;
      } else if (ia < ib) {
        a++;
      } else {
        b++;
      }
    }
    return s;
  }

  /** The rows {@code picked}, in that order, as new vectors (row k of the result is row picked[k]). */
  public SparseVectors rows(int[] picked) {
    int[] newOffsets = new int[picked.length + 1];
    for (int k = 0; k < picked.length; k++) {
      newOffsets[k + 1] = newOffsets[k] + offsets[picked[k] + 1] - offsets[picked[k]];
    }
    int[] newIndices = new int[newOffsets[picked.length]];
    float[] newValues = new float[newIndices.length];
    for (int k = 0; k < picked.length; k++) {
      int from = offsets[picked[k]];
      int length = offsets[picked[k] + 1] - from;
      System.arraycopy(indices, from, newIndices, newOffsets[k], length);
      System.arraycopy(values, from, newValues, newOffsets[k], length);
    }
    return new SparseVectors(newOffsets, newIndices, newValues);
  }
}
