package dev.itemsim.similarity;

import dev.itemsim.InvalidInputException;
import dev.itemsim.config.TypedConfig;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * TF-IDF over words, model numbers and character n-grams ({@link LexicalFeatures}): candidates gathered
 * through an inverted index (very common features skipped), then re-scored exactly.
 */
public record LexicalRetriever(Options options) implements Retriever {
  public static final String NAME = "lexical";

  /**
   * @param lexical feature weights and pruning ({@code similarity.lexical.*})
   * @param candidates candidates gathered per query before exact re-scoring ({@code similarity.candidates})
   */
  public record Options(LexicalFeatures.Settings lexical, int candidates) implements java.io.Serializable {
    /** The keys {@link #from} reads. */
    public static final List<String> KEYS = List.of("similarity.lexical.wordWeight",
        "similarity.lexical.modelWeight", "similarity.lexical.ngram", "similarity.lexical.maxPostings",
        "similarity.candidates");

    public Options {
      if (candidates < 1 || candidates > 10_000) {
        throw new InvalidInputException("similarity.candidates = " + candidates + " is out of range 1..10000");
      }
    }

    /** As {@code similarity.*} keys (relative). */
    java.util.Map<String, Object> settings() {
      java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
      out.put("lexical.wordWeight", lexical.wordWeight());
      out.put("lexical.modelWeight", lexical.modelWeight());
      out.put("lexical.ngram", lexical.ngram());
      out.put("candidates", candidates);
      return out;
    }

    public static Options defaults() {
      return new Options(new LexicalFeatures.Settings(0.2, 0.35, 3), 50);
    }

    public static Options from(TypedConfig c) {
      return new Options(new LexicalFeatures.Settings(c.doubleIn("similarity.lexical.wordWeight", 0, 1),
          c.doubleIn("similarity.lexical.modelWeight", 0, 1), c.intIn("similarity.lexical.ngram", 2, 6),
          c.intIn("similarity.lexical.maxPostings", 0, Integer.MAX_VALUE)),
          c.intIn("similarity.candidates", 1, 10_000));
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean usesEmbeddings() {
    return false;
  }

  @Override
  public java.util.Map<String, Object> settings() {
    return options.settings();
  }

  @Override
  public Ranking rank(SparkSession spark, SearchRequest request) {
    return CandidateReranking.rank(spark, request, NAME, options, Blend.linear(0), null);
  }
}
