package dev.itemsim.job;

import dev.itemsim.similarity.TopNBuffer;
import dev.itemsim.similarity.VectorBlocks;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Encoded items gathered on the driver in item-id order (Java string order), packed as {@link VectorBlocks}:
 * vector index {@code g} belongs to {@code ids[g]}, so "lower index" ties are "lower id" ties.
 */
record EncodedItems(String[] ids, VectorBlocks blocks) {

  /** Collects {@code item_id, embedding} rows of an encoded dataset. */
  static EncodedItems collect(Dataset<Row> encoded, int blockSize) {
    List<Row> rows = new ArrayList<>(encoded.select("item_id", "embedding").collectAsList());
    rows.sort(Comparator.comparing(r -> r.getString(0)));
    String[] ids = new String[rows.size()];
    List<float[]> vectors = new ArrayList<>(rows.size());
    for (int i = 0; i < ids.length; i++) {
      ids[i] = rows.get(i).getString(0);
      List<Object> values = rows.get(i).getList(1);
      float[] v = new float[values.size()];
      for (int k = 0; k < v.length; k++) {
        v[k] = (Float) values.get(k);
      }
      vectors.add(v);
    }
    int dim = vectors.isEmpty() ? 1 : vectors.get(0).length;
    return new EncodedItems(ids, VectorBlocks.of(vectors, dim, blockSize));
  }

  /**
   * Rows {@code (item_id, rank, neighbor_id, score, model)} of one merged block: query ids from
   * {@code queryIds} starting at {@code offset}, neighbour ids from {@code neighborIds}; scores below
   * {@code minScore} dropped unless {@code minScore <= -1}.
   */
  static Iterator<Row> neighborRows(int offset, TopNBuffer buffer, String[] queryIds, String[] neighborIds,
      String model, float minScore) {
    List<Row> out = new ArrayList<>(buffer.rows() * buffer.n());
    int[] neighbors = new int[buffer.n()];
    float[] scores = new float[buffer.n()];
    for (int r = 0; r < buffer.rows(); r++) {
      int count = buffer.sorted(r, neighbors, scores);
      String itemId = queryIds[offset + r];
      for (int k = 0; k < count && (minScore <= -1f || scores[k] >= minScore); k++) {
        out.add(RowFactory.create(itemId, k + 1, neighborIds[neighbors[k]], scores[k], model));
      }
    }
    return out.iterator();
  }
}
