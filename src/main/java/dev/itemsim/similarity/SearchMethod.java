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

  /** Whether the corpus must be counted to know which method runs ({@link #forCorpus}). */
  default boolean dependsOnCorpusSize() {
    return false;
  }

  /** The method that runs on a corpus of {@code corpusItems} items: this one, unless it decides by size. */
  default SearchMethod forCorpus(long corpusItems) {
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
   * Exact below {@code exactBelow} corpus items, {@code ivf} from there: below that size exact top-N is
   * faster than training and searching an index (measured, see {@link SearchMethods#AUTO_EXACT_BELOW}).
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
    public SearchMethod forCorpus(long corpusItems) {
      return corpusItems < exactBelow ? new Exact() : ivf;
    }
  }
}
