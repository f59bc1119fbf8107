package dev.itemsim.similarity;

import dev.itemsim.InvalidInputException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Search items gathered on the driver in item-id order ({@link #compareIds}), their vectors packed as
 * {@link VectorBlocks}: vector index {@code g} belongs to {@code ids[g]}, so "lower index" ties are "lower id"
 * ties. {@code texts} and {@code attrs[k]} (the values of the filter columns) follow the same order; either
 * may be empty when the retriever does not need them.
 */
public record CollectedItems(String[] ids, VectorBlocks blocks, String[] texts, String[][] attrs) {

  /**
   * Collects {@code item_id}, {@code embedding} (packed in blocks of {@code blockSize} rows; not read when
   * {@code blockSize} is 0, {@code blocks} is then null) and, when {@code withTexts}, {@code text}, plus the
   * {@code attrColumns}, of a {@link SearchItems} dataset.
   */
  public static CollectedItems collect(Dataset<Row> items, int blockSize, boolean withTexts, List<String> attrColumns) {
    boolean withVectors = blockSize > 0;
    List<String> columns = new ArrayList<>(List.of(SearchItems.ID, withVectors ? SearchItems.EMBEDDING : SearchItems.ID));
    if (withTexts) {
      columns.add("text");
    }
    columns.addAll(attrColumns);
    List<Row> rows = new ArrayList<>(items.selectExpr(quoted(columns)).collectAsList());
    rows.sort(Comparator.comparing(r -> r.getString(0), CollectedItems::compareIds));
    int n = rows.size();
    int attrFrom = withTexts ? 3 : 2;
    String[] ids = new String[n];
    String[] texts = new String[withTexts ? n : 0];
    String[][] attrs = new String[attrColumns.size()][n];
    List<float[]> vectors = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Row r = rows.get(i);
      ids[i] = r.getString(0);
      if (i > 0 && ids[i].equals(ids[i - 1])) {  // sorted: a repeated id is next to its twin
        throw new InvalidInputException("Item id '" + ids[i] + "' appears twice among the items to search");
      }
      if (withVectors) {
        vectors.add(i == 0 ? floats(r.getList(1)) : requireLength(ids[i], floats(r.getList(1)), vectors.get(0).length));
      }
      if (withTexts) {
        texts[i] = r.getString(2);
      }
      for (int k = 0; k < attrColumns.size(); k++) {
        attrs[k][i] = r.isNullAt(attrFrom + k) ? null : r.getString(attrFrom + k);
      }
    }
    if (!withVectors) {
      return new CollectedItems(ids, null, texts, attrs);
    }
    int dim = vectors.isEmpty() ? 1 : vectors.get(0).length;
    return new CollectedItems(ids, VectorBlocks.of(vectors, dim, blockSize), texts, attrs);
  }

  /**
   * {@code vector}, when it has {@code dim} values.
   *
   * @throws InvalidInputException naming item {@code id} otherwise
   */
  static float[] requireLength(String id, float[] vector, int dim) {
    if (vector.length != dim) {
      throw new InvalidInputException("The vector of item '" + id + "' has " + vector.length + " values, the other "
          + "items' " + dim + ": every vector of a search must have the same length");
    }
    return vector;
  }

  static String[] quoted(List<String> columns) {
    return columns.stream().map(c -> "`" + c.replace("`", "``") + "`").toArray(String[]::new);
  }

  /**
   * An {@code array<float>} value of Spark's internal rows ({@code Dataset.queryExecution().toRdd()}) as a float
   * array, copied in one piece with no boxed value per float; fails on a null element, naming item {@code id}.
   */
  static float[] floats(org.apache.spark.sql.catalyst.util.ArrayData values, String id) {
    requireNoNull(values, id);
    return values.toFloatArray();
  }

  /** Fails naming item {@code id} when its embedding {@code values} holds a null. */
  static void requireNoNull(org.apache.spark.sql.catalyst.util.ArrayData values, String id) {
    for (int k = 0; k < values.numElements(); k++) {
      if (values.isNullAt(k)) {
        throw new IllegalArgumentException("The embedding of item '" + id + "' holds a null at position " + k);
      }
    }
  }

  /** The same, for a value whose item is not known here. */
  static float[] floats(org.apache.spark.sql.catalyst.util.ArrayData values) {
    for (int k = 0; k < values.numElements(); k++) {
      if (values.isNullAt(k)) {
        throw new IllegalArgumentException("An embedding holds a null at position " + k);
      }
    }
    return values.toFloatArray();
  }

  /** An {@code array<float>} column value as a float array. */
  public static float[] floats(List<Object> values) {
    float[] v = new float[values.size()];
    for (int k = 0; k < v.length; k++) {
      v[k] = (Float) values.get(k);
    }
    return v;
  }

  /**
   * The order of item ids everywhere in itemsim: by Unicode code point, which is UTF-8 byte order and so
   * Spark's string order ({@code orderBy("item_id")}); it differs from {@link String#compareTo} only for
   * characters beyond U+FFFF.
   */
  public static int compareIds(String a, String b) {
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

  /** Position of every id. */
  public Map<String, Integer> indexById() {
    Map<String, Integer> m = new HashMap<>(2 * ids.length);
    for (int i = 0; i < ids.length; i++) {
      m.put(ids[i], i);
    }
    return m;
  }
}
