package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The lists of an IVF search: computed and kept on the executors' disks (neighbours as corpus item
 * numbers), corpus ids joined in when the rows are read; pair scores by joining the items' vectors. Closing
 * it drops the lists, the item numbers and the list segment files.
 */
final class IvfRanking implements Ranking {
  /**
   * Corpus sizes up to which the ids are broadcast to the join instead of shuffled with every list row (a
   * broadcast passes through the driver: tens of MB here; beyond it the driver's share stays independent of n).
   */
  static final long BROADCAST_IDS_UP_TO = 500_000;

  private final SparkSession spark;
  private final Dataset<Row> index;
  private final Dataset<Row> numbers;
  private final long corpusItems;
  private final SearchFacts facts;
  private final SearchRequest request;
  private final IvfPlan plan;
  private final Runnable cleanup;

  IvfRanking(SparkSession spark, Dataset<Row> index, Dataset<Row> numbers, long corpusItems, SearchFacts facts,
      SearchRequest request, IvfPlan plan, Runnable cleanup) {
    this.spark = spark;
    this.index = index;
    this.numbers = numbers;
    this.corpusItems = corpusItems;
    this.facts = facts;
    this.request = request;
    this.plan = plan;
    this.cleanup = cleanup;
  }

  @Override
  public Dataset<Row> rows() {
    Dataset<Row> selected = numbers.select(col(SearchItems.ID).as("_neighbor_id"), col("_item"));
    Dataset<Row> names = corpusItems <= BROADCAST_IDS_UP_TO ? broadcast(selected) : selected;
    return index.join(names, index.col("_neighbor").equalTo(names.col("_item")))
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
