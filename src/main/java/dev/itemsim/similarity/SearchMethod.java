package dev.itemsim.similarity;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How the embedding side finds each query's nearest corpus vectors ({@code similarity.method}):
 * {@link Exact exactly} (every pair scored by the blocked kernel), approximately through inverted lists
 * ({@link IvfSearch}), or {@link Auto auto} (exact below a corpus size, IVF from there). A method owns and
 * validates its options; {@link EmbeddingRetriever} runs it, so list length, filters, collapsing and the
 * minimum score apply around it as around every retriever ({@link NeighborSearch}), and every method keeps
 * the ranking contract of {@link Retriever}.
 */
public interface SearchMethod extends java.io.Serializable {

  /** The name users pick it by. */
  String name();

  /** Its options by configuration key relative to {@code similarity.}, for reports. */
  Map<String, Object> settings();

  /** Whether the corpus and the queries must be counted to know which method runs ({@link #forSearch}). */
  default boolean dependsOnCorpusSize() {
    return false;
  }

  /**
   * The method that ranks {@code corpusItems} items for each of {@code queries} queries ({@code self}: one
   * catalogue, the queries are the corpus): this one, unless it decides by size. The queries are counted only
   * when the decision needs them.
   */
  default SearchMethod forSearch(java.util.function.LongSupplier queries, long corpusItems, boolean self) {
    return this;
  }

  /** Every pair scored: the blocked exact top-N. */
  record Exact() implements SearchMethod {
    public static final String NAME = "exact";

    @Override
    public String name() {
      return NAME;
    }

    @Override
    public Map<String, Object> settings() {
      return new LinkedHashMap<>(Map.of("method", NAME));
    }
  }

  /**
   * Exact below {@code exactBelow} items in one catalogue, {@code ivf} from there (measured, see
   * {@link SearchMethods#AUTO_EXACT_BELOW}). Against another catalogue, exact search gathers both sides' vectors
   * on the driver, so it runs only while both sides stay below {@code exactBelow} items and it multiplies fewer
   * vector pairs (queries × corpus items) than one catalogue of {@code exactBelow} items does
   * ({@code exactBelow² / 2}, its pairs being unordered); many queries against a small corpus run {@code ivf}.
   */
  record Auto(IvfSearch ivf, long exactBelow) implements SearchMethod {
    public static final String NAME = "auto";

    @Override
    public String name() {
      return NAME;
    }

    @Override
    public Map<String, Object> settings() {
      Map<String, Object> out = ivf.settings();
      out.put("method", NAME);
      out.put("autoExactBelow", exactBelow);
      return out;
    }

    @Override
    public boolean dependsOnCorpusSize() {
      return true;
    }

    @Override
    public SearchMethod forSearch(java.util.function.LongSupplier queries, long corpusItems, boolean self) {
      if (corpusItems >= exactBelow) {
        return ivf;
      }
      if (self) {
        return new Exact();
      }
      long queryCount = queries.getAsLong();
      boolean small = queryCount < exactBelow
          && (double) queryCount * corpusItems < (double) exactBelow * exactBelow / 2;
      return small ? new Exact() : ivf;
    }
  }
}
