package dev.itemsim.similarity;

import org.apache.spark.sql.SparkSession;

/**
 * One way of finding each query item's best corpus items: exact embedding cosine, lexical TF-IDF, their
 * hybrid blend (and approximate search later). A retriever owns its options (validated when it is built,
 * see {@link Retrievers}); what every retriever shares — list length, neighbour filters, duplicate
 * collapsing, minimum score — is applied around it by {@link NeighborSearch}, so every job and the public
 * API rank through the same code.
 *
 * <p>Contract of {@link #rank}: for every query item, up to {@code request.topN()} corpus items, best
 * first, scores non-increasing, ties broken by the lower neighbour id ({@link CollectedItems#compareIds}),
 * only neighbours {@code request.filter()} allows, never the item itself when the request searches one
 * catalogue. A query item with no allowed neighbour has no rows.
 */
public interface Retriever {

  /** The name users pick it by ({@code similarity.scorer}). */
  String name();

  /** Whether its scores read the items' embeddings (else only their texts). */
  boolean usesEmbeddings();

  /**
   * How its embedding side finds neighbours ({@code similarity.method}); exact for a scorer without one. A job
   * keeps lists between runs only where this resolves to exact search.
   */
  default SearchMethod method() {
    return new SearchMethod.Exact();
  }

  /** The options that shape its lists, by configuration key relative to {@code similarity.}, for reports. */
  java.util.Map<String, Object> settings();

  /** Ranks the request's corpus for every query item; close the result once its rows are written. */
  Ranking rank(SparkSession spark, SearchRequest request);
}
