package dev.itemsim.similarity;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/** {@link Ranking#SCHEMA} rows from merged top-N buffers and ranked index lists. */
final class NeighborRows {
  private NeighborRows() {}

  /**
   * Rows of one merged block: query ids from {@code queryIds} starting at {@code offset}, neighbour ids from
   * {@code neighborIds}.
   */
  static Iterator<Row> of(int offset, TopNBuffer buffer, String[] queryIds, String[] neighborIds) {
    List<Row> out = new ArrayList<>(buffer.rows() * buffer.n());
    int[] neighbors = new int[buffer.n()];
    float[] scores = new float[buffer.n()];
    for (int r = 0; r < buffer.rows(); r++) {
      int count = buffer.sorted(r, neighbors, scores);
      add(queryIds[offset + r], neighbors, scores, count, neighborIds, out);
    }
    return out.iterator();
  }

  static void add(String itemId, int[] neighbors, float[] scores, int count, String[] neighborIds, List<Row> out) {
    for (int k = 0; k < count; k++) {
      out.add(RowFactory.create(itemId, k + 1, neighborIds[neighbors[k]], scores[k]));
    }
  }
}
