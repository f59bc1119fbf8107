package dev.itemsim.similarity;

/**
 * The rows of one list segment in memory ({@link ListSegments}): their vectors as one row-major float32
 * block, and per row its item number, replica number, the lists it probes (queries), the lists it is stored
 * in and its filter values (ids are read apart: {@link ListSegments#readIds}).
 *
 * @param list the inverted list the rows belong to
 * @param vectors rows × dim floats, row-major
 * @param items each row's item number: its position in corpus id order (ties in a top-N list go to the lower
 *     one), or −1 for a query of another catalogue
 * @param replicas 0 when the row is the item's nearest list (the copy that ranks as a query and is counted
 *     once by exact search), 1.. for the further lists it is also stored in
 * @param probes rows × nprobe list numbers, nearest first (−1 for rows that do not rank)
 * @param lists rows × assignments list numbers the item is stored in, nearest first
 * @param values filter values, one array per filter column (null for a missing or blank value)
 */
record ListSegment(int list, int rows, int dim, float[] vectors, int[] items, byte[] replicas, int nprobe,
    int[] probes, int assignments, int[] lists, String[][] values) {

  /** Whether row {@code r} probes list {@code l}. */
  boolean probes(int r, int l) {
    for (int k = r * nprobe, end = k + nprobe; k < end; k++) {
      if (probes[k] == l) {
        return true;
      }
    }
    return false;
  }

  /** Bytes this segment holds in memory (vectors and numbers; strings estimated), for the read cache. */
  long bytes() {
    return 4L * vectors.length + 5L * rows + 4L * (probes.length + lists.length) + 48L * rows * values.length;
  }
}
