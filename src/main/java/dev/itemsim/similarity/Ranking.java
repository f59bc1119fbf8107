package dev.itemsim.similarity;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The result of one retrieval: neighbour lists as rows, what ran, and a scorer for any other pair under the
 * same scoring. The rows may be computed lazily from scratch data the ranking owns (vector block files), so
 * write or cache them before {@link #close()}.
 */
public interface Ranking extends AutoCloseable {
  /** {@code item_id string, rank int (1..N), neighbor_id string, score float}. */
  StructType SCHEMA = new StructType()
      .add("item_id", DataTypes.StringType, false)
      .add("rank", DataTypes.IntegerType, false)
      .add("neighbor_id", DataTypes.StringType, false)
      .add("score", DataTypes.FloatType, false);

  /** {@code item_id string, neighbor_id string, score float}. */
  StructType PAIR_SCHEMA = new StructType()
      .add("item_id", DataTypes.StringType, false)
      .add("neighbor_id", DataTypes.StringType, false)
      .add("score", DataTypes.FloatType, false);

  /** The neighbour lists ({@link #SCHEMA}). */
  Dataset<Row> rows();

  /** What ran: scorer, kernel, vector layout. */
  SearchFacts facts();

  /**
   * The score of each {@code (item_id, neighbor_id)} pair of {@code pairs} (query id, corpus id) under this
   * ranking's scorer ({@link #PAIR_SCHEMA}); pairs naming an id that is not among the items are left out.
   */
  Dataset<Row> score(Dataset<Row> pairs);

  /** Deletes scratch data; the rows can no longer be computed afterwards. */
  @Override
  void close();
}
