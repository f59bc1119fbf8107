package dev.itemsim.similarity;

import dev.itemsim.InvalidInputException;
import dev.itemsim.config.TypedConfig;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * TF-IDF over words, model numbers and character n-grams ({@link LexicalFeatures}): candidates gathered
 * through an inverted index (very common features skipped), then re-scored exactly — all on the executors,
 * from shards of both sides ({@link CandidateReranking}).
 */
public record LexicalRetriever(Options options) implements Retriever {
  public static final String NAME = "lexical";

  /**
   * @param lexical feature weights and pruning ({@code similarity.lexical.*})
   * @param candidates candidates gathered per query before exact re-scoring ({@code similarity.candidates})
   * @param shardSize items per shard of each side, and at most per task's queries
   *     ({@code similarity.lexical.shardSize})
   */
  public record Options(LexicalFeatures.Settings lexical, int candidates, int shardSize)
      implements java.io.Serializable {
    public static final int DEFAULT_SHARD_SIZE = 16_384;
    public static final int MIN_SHARD_SIZE = 16;
    public static final int MAX_SHARD_SIZE = 1 << 22;
    /** The keys {@link #from} reads. */
    public static final List<String> KEYS = List.of("similarity.lexical.wordWeight",
        "similarity.lexical.modelWeight", "similarity.lexical.ngram", "similarity.lexical.maxPostings",
        "similarity.lexical.shardSize", "similarity.candidates");

    public Options {
      if (candidates < 1 || candidates > 10_000) {
        throw new InvalidInputException("similarity.candidates = " + candidates + " is out of range 1..10000");
      }
      if (shardSize < MIN_SHARD_SIZE || shardSize > MAX_SHARD_SIZE) {
        throw new InvalidInputException("similarity.lexical.shardSize = " + shardSize + " is out of range "
            + MIN_SHARD_SIZE + ".." + MAX_SHARD_SIZE);
      }
    }

    /** With the default shard size. */
    public Options(LexicalFeatures.Settings lexical, int candidates) {
      this(lexical, candidates, DEFAULT_SHARD_SIZE);
    }

    public Options withShardSize(int size) {
      return new Options(lexical, candidates, size);
    }

    public Options withCandidates(int count) {
      return new Options(lexical, count, shardSize);
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
          c.intIn("similarity.candidates", 1, 10_000),
          c.intIn("similarity.lexical.shardSize", MIN_SHARD_SIZE, MAX_SHARD_SIZE));
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
