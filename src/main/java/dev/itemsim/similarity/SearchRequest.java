package dev.itemsim.similarity;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A retrieval: every query item's {@code topN} corpus items.
 *
 * <p>Items are {@link SearchItems} datasets. {@code corpus == queries} (the same object) means one
 * catalogue searched against itself: an item never lists itself.
 *
 * @param filter neighbour rules over columns of both datasets
 * @param scratchDir a folder on a file system every executor can read and write (vector block files go
 *     there; the ranking deletes them on close)
 */
public record SearchRequest(Dataset<Row> queries, Dataset<Row> corpus, int topN, FilterColumns filter,
    String scratchDir) {

  public SearchRequest {
    if (topN < 1) {
      throw new IllegalArgumentException("topN must be >= 1, got " + topN);
    }
    filter = filter == null ? FilterColumns.NONE : filter;
  }

  /** Whether one catalogue is searched against itself. */
  public boolean self() {
    return corpus == queries;
  }

  /**
   * Columns the neighbour filters read, the same name on both sides; "" for no such rule.
   *
   * @param sameValueOf only neighbours with the query's value of this column (a missing value is a value of
   *     its own)
   * @param excludeSameValueOf no neighbour sharing the query's value of this column (a missing value
   *     excludes nothing)
   */
  public record FilterColumns(String sameValueOf, String excludeSameValueOf) implements java.io.Serializable {
    public static final FilterColumns NONE = new FilterColumns("", "");

    public FilterColumns {
      sameValueOf = sameValueOf == null ? "" : sameValueOf;
      excludeSameValueOf = excludeSameValueOf == null ? "" : excludeSameValueOf;
    }

    /** The filter columns in order same, exclude (absent ones skipped). */
    public List<String> columns() {
      List<String> out = new ArrayList<>();
      if (!sameValueOf.isEmpty()) {
        out.add(sameValueOf);
      }
      if (!excludeSameValueOf.isEmpty()) {
        out.add(excludeSameValueOf);
      }
      return out;
    }

    public boolean any() {
      return !columns().isEmpty();
    }

    /**
     * The rule over collected values: {@code query.attrs()} / {@code corpus.attrs()} hold the values of
     * {@link #columns()} in order. Null when no rule is set.
     */
    NeighborFilter compile(CollectedItems query, CollectedItems corpus) {
      if (!any()) {
        return null;
      }
      int attr = 0;
      int[][] same = {null, null};
      int[][] exclude = {null, null};
      if (!sameValueOf.isEmpty()) {
        same = NeighborFilter.codes(query.attrs()[attr], corpus.attrs()[attr]);
        attr++;
      }
      if (!excludeSameValueOf.isEmpty()) {
        exclude = NeighborFilter.codes(query.attrs()[attr], corpus.attrs()[attr]);
      }
      return new NeighborFilter(same[0], same[1], exclude[0], exclude[1]);
    }
  }
}
