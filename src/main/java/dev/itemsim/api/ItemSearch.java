package dev.itemsim.api;

import dev.itemsim.similarity.NeighborSearch;
import dev.itemsim.similarity.Ranking;
import dev.itemsim.similarity.Retriever;
import dev.itemsim.similarity.SearchRequest;
import java.util.UUID;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What the public searches share: the id and vector columns, the list length, a minimum score, where scratch
 * data may go, and running a retriever through the jobs' retrieval stage with the result checkpointed on
 * the executors (so the ranking's scratch data can be deleted before the rows are used).
 */
abstract class ItemSearch<S extends ItemSearch<S>> {
  String idCol = "id";
  String vectorCol = "embedding";
  int topN = 10;
  float minScore = -1f;
  String scratchDir = "/tmp/itemsim-scratch";

  abstract S self();

  /** The retriever this search runs, with the options set so far. */
  abstract Retriever retriever();

  /** The text column, or null when the search reads none. */
  abstract String textCol();

  public S setIdCol(String value) {
    idCol = value;
    return self();
  }

  public S setVectorCol(String value) {
    vectorCol = value;
    return self();
  }

  /** Neighbours per item (1..1000). */
  public S setTopN(int value) {
    topN = value;
    return self();
  }

  /** Neighbours scoring below this are dropped (-1 keeps all). */
  public S setMinScore(float value) {
    minScore = value;
    return self();
  }

  /** A folder every executor can read and write (default {@code /tmp/itemsim-scratch} on the default file system). */
  public S setScratchDir(String value) {
    scratchDir = value;
    return self();
  }

  /** Every item's best other items of the same dataset. */
  public Dataset<Row> search(Dataset<Row> items) {
    return run(SearchColumns.of(items, "items", idCol, vectorCol, textCol()), null);
  }

  /** Every query's best items of {@code corpus} (the same column names on both). */
  public Dataset<Row> search(Dataset<Row> queries, Dataset<Row> corpus) {
    return run(SearchColumns.of(queries, "queries", idCol, vectorCol, textCol()),
        SearchColumns.of(corpus, "corpus items", idCol, vectorCol, textCol()));
  }

  private Dataset<Row> run(Dataset<Row> queries, Dataset<Row> corpus) {
    NeighborSearch.Options options = new NeighborSearch.Options(topN, minScore, SearchRequest.FilterColumns.NONE,
        false);
    String scratch = new Path(scratchDir, UUID.randomUUID().toString()).toString();
    try (Ranking ranking = NeighborSearch.search(queries.sparkSession(), retriever(), options, queries, corpus,
        scratch)) {
      return ranking.rows().localCheckpoint(true);
    }
  }
}
