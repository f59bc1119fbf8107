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
 * Encoded items gathered on the driver in item-id order ({@link #compareIds}), packed as {@link VectorBlocks}:
 * vector index {@code g} belongs to {@code ids[g]}, so "lower index" ties are "lower id" ties. {@code texts}
 * and {@code attrs[k]} (the carried filter columns) follow the same order.
 */
record EncodedItems(String[] ids, VectorBlocks blocks, String[] texts, String[][] attrs) {

  /** Collects {@code item_id, embedding, text, attr_0..attr_(attrCount-1)} rows of an encoded dataset. */
  static EncodedItems collect(Dataset<Row> encoded, int blockSize, int attrCount) {
    List<String> columns = new ArrayList<>(List.of("item_id", "embedding", "text"));
    for (int k = 0; k < attrCount; k++) {
      columns.add("attr_" + k);
    }
    List<Row> rows = new ArrayList<>(encoded.selectExpr(columns.toArray(String[]::new)).collectAsList());
    rows.sort(Comparator.comparing(r -> r.getString(0), EncodedItems::compareIds));
    int n = rows.size();
    String[] ids = new String[n];
    String[] texts = new String[n];
    String[][] attrs = new String[attrCount][n];
    List<float[]> vectors = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Row r = rows.get(i);
      ids[i] = r.getString(0);
      vectors.add(floats(r.getList(1)));
      texts[i] = r.getString(2);
      for (int k = 0; k < attrCount; k++) {
        attrs[k][i] = r.isNullAt(3 + k) ? null : r.getString(3 + k);
      }
    }
    int dim = vectors.isEmpty() ? 1 : vectors.get(0).length;
    return new EncodedItems(ids, VectorBlocks.of(vectors, dim, blockSize), texts, attrs);
  }

  /** An {@code array<float>} column value as a float array. */
  static float[] floats(List<Object> values) {
    float[] v = new float[values.size()];
    for (int k = 0; k < v.length; k++) {
      v[k] = (Float) values.get(k);
    }
    return v;
  }

  /**
   * The order of item ids everywhere in the job: by Unicode code point, which is UTF-8 byte order and so
   * Spark's string order ({@code orderBy("item_id")}); it differs from {@link String#compareTo} only for
   * characters beyond U+FFFF.
   */
  static int compareIds(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  /** The items at {@code indexes} (ascending), in that order. */
  EncodedItems subset(int[] indexes) {
    String[] subIds = new String[indexes.length];
    String[] subTexts = new String[indexes.length];
    String[][] subAttrs = new String[attrs.length][indexes.length];
    List<float[]> vectors = new ArrayList<>(indexes.length);
    for (int k = 0; k < indexes.length; k++) {
      subIds[k] = ids[indexes[k]];
      subTexts[k] = texts[indexes[k]];
      for (int a = 0; a < attrs.length; a++) {
        subAttrs[a][k] = attrs[a][indexes[k]];
      }
      vectors.add(blocks.vector(indexes[k]));
    }
    return new EncodedItems(subIds, VectorBlocks.of(vectors, blocks.dim(), blocks.blockSize()), subTexts, subAttrs);
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
      addRows(queryIds[offset + r], neighbors, scores, count, neighborIds, model, minScore, out);
    }
    return out.iterator();
  }

  static void addRows(String itemId, int[] neighbors, float[] scores, int count, String[] neighborIds, String model,
      float minScore, List<Row> out) {
    for (int k = 0; k < count && (minScore <= -1f || scores[k] >= minScore); k++) {
      out.add(RowFactory.create(itemId, k + 1, neighborIds[neighbors[k]], scores[k], model));
    }
  }
}
