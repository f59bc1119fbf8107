package dev.itemsim.similarity;

/**
 * The items of one shard of a search side, as a task read them ({@link ShardSource#read}): {@code rows} items
 * in id order, their ids, filter values (one array per filter column), lexical vectors in CSR
 * ({@code offsets[0..rows]}, {@code indices}, {@code values}) and embeddings ({@code rows × dim}, row-major).
 * Only the parts asked for are filled; a shard read into another one's arrays may have arrays longer than
 * its content, so read lengths from {@code rows}, {@code offsets[rows]} and {@code dim}.
 */
final class Shard {
  int rows;
  int dim;
  String[] ids;
  String[][] attrs;
  int[] offsets;
  int[] indices;
  float[] values;
  float[] vectors;

  /** Which sections to read. */
  record Parts(boolean ids, boolean attrs, boolean lexical, boolean vectors) implements java.io.Serializable {
    static final Parts IDS = new Parts(true, false, false, false);
    static final Parts LEXICAL = new Parts(false, false, true, false);
  }

  /** The lexical vectors as {@link SparseVectors}; only for a shard read into arrays of its own. */
  SparseVectors lexical() {
    if (offsets.length != rows + 1) {
      throw new IllegalStateException("shard arrays are reused buffers");
    }
    return new SparseVectors(offsets, indices, values);
  }
}
