package dev.itemsim.similarity;

import dev.itemsim.config.TypedConfig;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * The blend of both: a query's candidates are the union of its embedding top-K (from the embedding retriever
 * with this scorer's {@code method}: exact, IVF, or auto by corpus size) and its lexical top-K
 * ({@code K = max(topN, candidates)}), each scored
 * {@code embeddingWeight · embedding cosine + (1 − embeddingWeight) · lexical cosine} ({@link LinearBlend}) or
 * by a blend learned from labelled pairs ({@code similarity.hybrid.learned}, {@link LogisticBlend}), both
 * cosines computed exactly, on the executors ({@link CandidateReranking}).
 */
public record HybridRetriever(Options options, SearchMethod method) implements Retriever {
  public static final String NAME = "hybrid";

  public HybridRetriever {
    method = method == null ? new SearchMethod.Exact() : method;
  }

  /** Embedding candidates found exactly. */
  public HybridRetriever(Options options) {
    this(options, new SearchMethod.Exact());
  }

  /**
   * @param embeddingWeight weight of the embedding cosine ({@code similarity.hybrid.embeddingWeight})
   * @param embedding the embedding candidates' kernel and blocks
   * @param lexical the lexical side and the candidate count
   * @param learned a learned blend replacing the linear one ({@code similarity.hybrid.learned}), or null
   */
  public record Options(double embeddingWeight, EmbeddingRetriever.Options embedding,
      LexicalRetriever.Options lexical, LogisticBlend learned) implements java.io.Serializable {
    /** The keys {@link #from} reads. */
    public static final List<String> KEYS = keys();

    public Options {
      if (!(embeddingWeight >= 0 && embeddingWeight <= 1)) {
        throw new dev.itemsim.InvalidInputException("similarity.hybrid.embeddingWeight = " + embeddingWeight
            + " is out of range 0..1");
      }
    }

    /** The hand-tuned linear blend. */
    public Options(double embeddingWeight, EmbeddingRetriever.Options embedding, LexicalRetriever.Options lexical) {
      this(embeddingWeight, embedding, lexical, null);
    }

    public static Options defaults() {
      return new Options(0.3, EmbeddingRetriever.Options.defaults(), LexicalRetriever.Options.defaults());
    }

    public static Options from(TypedConfig c) {
      LexicalRetriever.Options lexical = LexicalRetriever.Options.from(c);
      String learned = c.string("similarity.hybrid.learned").trim();
      return new Options(c.doubleIn("similarity.hybrid.embeddingWeight", 0, 1), EmbeddingRetriever.Options.from(c),
          lexical, learned.isEmpty() ? null : LogisticBlend.read(learned, lexical.lexical()));
    }

    /** The blend candidates are scored with. */
    public Blend blend() {
      return learned != null ? learned : Blend.linear(embeddingWeight);
    }

    private static List<String> keys() {
      List<String> keys = new ArrayList<>(List.of("similarity.hybrid.embeddingWeight", "similarity.hybrid.learned"));
      keys.addAll(EmbeddingRetriever.Options.KEYS);
      keys.addAll(LexicalRetriever.Options.KEYS);
      return List.copyOf(keys);
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean usesEmbeddings() {
    return true;
  }

  @Override
  public java.util.Map<String, Object> settings() {
    java.util.Map<String, Object> out = new java.util.LinkedHashMap<>(options.lexical().settings());
    out.putAll(options.blend().settings());
    out.putAll(method.settings());
    return out;
  }

  @Override
  public Ranking rank(SparkSession spark, SearchRequest request) {
    return CandidateReranking.rank(spark, request, NAME, options.lexical(), options.blend(),
        new EmbeddingRetriever(options.embedding(), method));
  }
}
