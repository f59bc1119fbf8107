package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;

import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The lists of an IVF search: computed and kept on the executors (neighbours as corpus item numbers, query
 * ids from the list segment files); corpus ids looked up in a broadcast array as the rows are made, or joined
 * in when they are read (large corpora); pair scores by joining the items' vectors. Closing it drops the
 * lists, the item numbers and the list segment files.
 */
final class IvfRanking implements Ranking {
  /**
   * Corpus sizes up to which the ids are broadcast to the join instead of shuffled with every list row (a
   * broadcast passes through the driver: tens of MB here; beyond it the driver's share stays independent of n).
   */
  static final long BROADCAST_IDS_UP_TO = 500_000;

  /**
   * How neighbour numbers become ids: a broadcast array of the ids in id order (the index rows are then named
   * already), or a join with a numbers table.
   */
  record Names(Broadcast<String[]> sorted, Dataset<Row> numbers, long corpusItems) {
    /** Every id in id order, indexed by item number ({@link ItemNumbers#sortedOnDriver}). */
    static Names broadcast(Broadcast<String[]> sorted) {
      return new Names(sorted, null, sorted.value().length);
    }

    /** {@link ItemNumbers#SCHEMA} rows of {@code corpusItems} items, joined (by broadcast up to the threshold). */
    static Names joined(Dataset<Row> numbers, long corpusItems) {
      return new Names(null, numbers, corpusItems);
    }
  }

  private final SparkSession spark;
  private final Dataset<Row> index;
  private final Names names;
  private final SearchFacts facts;
  private final SearchRequest request;
  private final IvfPlan plan;
  private final Runnable cleanup;

  IvfRanking(SparkSession spark, Dataset<Row> index, Names names, SearchFacts facts, SearchRequest request,
      IvfPlan plan, Runnable cleanup) {
    this.spark = spark;
    this.index = index;
    this.names = names;
    this.facts = facts;
    this.request = request;
    this.plan = plan;
    this.cleanup = cleanup;
  }

  @Override
  public Dataset<Row> rows() {
    if (names.sorted() != null) {  // named as they were made
      return index;
    }
    Dataset<Row> selected = names.numbers().select(col(SearchItems.ID).as("_neighbor_id"), col("_item"));
    Dataset<Row> joined = names.corpusItems() <= BROADCAST_IDS_UP_TO ? broadcast(selected) : selected;
    return index.join(joined, index.col("_neighbor").equalTo(joined.col("_item")))
        .select(index.col(SearchItems.ID), col("rank"), col("_neighbor_id").as("neighbor_id"), col("score"));
  }

  @Override
  public SearchFacts facts() {
    return facts;
  }

  @Override
  public Dataset<Row> score(Dataset<Row> pairs) {
    return EmbeddingRetriever.dotProducts(spark, pairs, request.queries(), request.corpus());
  }

  /** The task plan the search ran (tests check its balance). */
  IvfPlan plan() {
    return plan;
  }

  @Override
  public void close() {
    cleanup.run();
  }
}
