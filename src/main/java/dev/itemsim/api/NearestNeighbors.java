package dev.itemsim.api;

import dev.itemsim.similarity.EmbeddingRetriever;
import dev.itemsim.similarity.Retriever;

/**
 * Exact cosine top-N over {@code (id, vector)} rows with itemsim's blocked kernel (block products fused with
 * top-N selection; never an n×n matrix): every item's {@code topN} nearest other items
 * ({@link #search(org.apache.spark.sql.Dataset)}), or every query's nearest items of a second dataset
 * ({@link #search(org.apache.spark.sql.Dataset, org.apache.spark.sql.Dataset)}).
 *
 * <p>Result columns: {@code item_id string, rank int (1..topN), neighbor_id string, score float} — scores are
 * cosines, non-increasing with rank, ties broken by the lower neighbour id; an item never lists itself. Ids
 * are cast to strings and must be unique; vectors ({@code array<float>}, {@code array<double>} or an ML
 * {@code Vector}) are L2-normalised first. One dataset is searched from vector block files the executors
 * write under the scratch folder; the result is checkpointed on the executors before they are deleted.
 */
public final class NearestNeighbors extends ItemSearch<NearestNeighbors> {
  private EmbeddingRetriever.Options options = EmbeddingRetriever.Options.defaults();

  /** Rows per block of the blocked product (16..16384). */
  public NearestNeighbors setBlockSize(int value) {
    options = new EmbeddingRetriever.Options(options.kernel(), value);
    return this;
  }

  /**
   * auto (the GPU Spark assigned to the task when it opens, else native BLAS, loud warning on the pure-Java
   * fallback), gpu (or fail), native-blas (or fail) or java; see {@code similarity.kernel} in defaults.conf.
   */
  public NearestNeighbors setKernel(String value) {
    options = new EmbeddingRetriever.Options(value, options.blockSize());
    return this;
  }

  @Override
  NearestNeighbors self() {
    return this;
  }

  @Override
  Retriever retriever() {
    return new EmbeddingRetriever(options);
  }

  @Override
  String textCol() {
    return null;
  }
}
