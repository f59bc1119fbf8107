package dev.itemsim.api;

import dev.itemsim.similarity.EmbeddingRetriever;
import dev.itemsim.similarity.NeighborSearch;
import dev.itemsim.similarity.Ranking;
import dev.itemsim.similarity.SearchRequest;
import java.util.UUID;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Exact cosine top-N over {@code (id, vector)} rows with itemsim's blocked kernel (block products fused with
 * top-N selection; never an n×n matrix): every item's {@code topN} nearest other items, or, with
 * {@link #search(Dataset, Dataset)}, every query's nearest items of a second dataset.
 *
 * <p>Result columns: {@code item_id string, rank int (1..topN), neighbor_id string, score float} — scores are
 * cosines, non-increasing with rank, ties broken by the lower neighbour id; an item never lists itself. Ids
 * are cast to strings and must be unique; vectors ({@code array<float>}, {@code array<double>} or an ML
 * {@code Vector}) are L2-normalised first.
 *
 * <p>One dataset is searched from vector block files the executors write under {@link #setScratchDir} (a
 * folder every executor can read and write; default {@code <default file system>/tmp/itemsim-scratch}); the
 * result is materialised (local checkpoint) before they are deleted.
 */
public final class NearestNeighbors {
  private String idCol = "id";
  private String vectorCol = "embedding";
  private int topN = 10;
  private int blockSize = EmbeddingRetriever.Options.defaults().blockSize();
  private String kernel = "auto";
  private float minScore = -1f;
  private String scratchDir = "/tmp/itemsim-scratch";

  public NearestNeighbors setIdCol(String value) {
    idCol = value;
    return this;
  }

  public NearestNeighbors setVectorCol(String value) {
    vectorCol = value;
    return this;
  }

  /** Neighbours per item (1..1000). */
  public NearestNeighbors setTopN(int value) {
    topN = value;
    return this;
  }

  /** Rows per block of the blocked product (16..16384). */
  public NearestNeighbors setBlockSize(int value) {
    blockSize = value;
    return this;
  }

  /** auto (native BLAS, loud warning on the pure-Java fallback), native-blas (or fail) or java. */
  public NearestNeighbors setKernel(String value) {
    kernel = value;
    return this;
  }

  /** Neighbours scoring below this cosine are dropped (-1 keeps all). */
  public NearestNeighbors setMinScore(float value) {
    minScore = value;
    return this;
  }

  public NearestNeighbors setScratchDir(String value) {
    scratchDir = value;
    return this;
  }

  /** Every item's nearest other items of the same dataset. */
  public Dataset<Row> search(Dataset<Row> items) {
    Dataset<Row> prepared = SearchColumns.of(items, "items", idCol, vectorCol, null);
    return run(items.sparkSession(), prepared, null);
  }

  /** Every query's nearest items of {@code corpus} (the same id and vector column names on both). */
  public Dataset<Row> search(Dataset<Row> queries, Dataset<Row> corpus) {
    return run(queries.sparkSession(), SearchColumns.of(queries, "queries", idCol, vectorCol, null),
        SearchColumns.of(corpus, "corpus items", idCol, vectorCol, null));
  }

  private Dataset<Row> run(SparkSession spark, Dataset<Row> queries, Dataset<Row> corpus) {
    EmbeddingRetriever retriever = new EmbeddingRetriever(new EmbeddingRetriever.Options(kernel, blockSize));
    return materialise(spark, retriever, new NeighborSearch.Options(topN, minScore, SearchRequest.FilterColumns.NONE,
        false), queries, corpus, scratchDir);
  }

  /** Runs a search and checkpoints its rows on the executors, so the ranking's scratch data can go. */
  static Dataset<Row> materialise(SparkSession spark, dev.itemsim.similarity.Retriever retriever,
      NeighborSearch.Options options, Dataset<Row> queries, Dataset<Row> corpus, String scratchDir) {
    String scratch = new Path(scratchDir, UUID.randomUUID().toString()).toString();
    try (Ranking ranking = NeighborSearch.search(spark, retriever, options, queries, corpus, scratch)) {
      return ranking.rows().localCheckpoint(true);
    }
  }
}
