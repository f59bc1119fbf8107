package dev.itemsim.similarity;

/**
 * How the hybrid scorer turns one (query, candidate) pair's features into its score: {@code embeddingWeight ·
 * embedding cosine + (1 − embeddingWeight) · lexical cosine}, in double, rounded once to float. This is the
 * only place the two sides are combined; every hybrid score — ranked lists, pair scores — comes from
 * {@link #score}. A side with weight 0 is not read ({@link #readsEmbedding}, {@link #readsLexical}), so its
 * features may be left at 0.
 */
public record HybridBlend(double embeddingWeight) implements java.io.Serializable {
  /** The lexical score alone: what the lexical scorer ranks by. */
  public static final HybridBlend LEXICAL = new HybridBlend(0);

  public HybridBlend {
    if (!(embeddingWeight >= 0 && embeddingWeight <= 1)) {
      throw new IllegalArgumentException("embeddingWeight must be in 0..1, got " + embeddingWeight);
    }
  }

  /** Whether {@link #score} reads the embedding cosine. */
  public boolean readsEmbedding() {
    return embeddingWeight != 0;
  }

  /** Whether {@link #score} reads the lexical cosine. */
  public boolean readsLexical() {
    return embeddingWeight != 1;
  }

  /** The pair's score from its embedding cosine and its lexical cosine. */
  public float score(float embeddingCosine, float lexicalCosine) {
    return (float) ((embeddingWeight == 0 ? 0 : embeddingWeight * embeddingCosine)
        + (embeddingWeight == 1 ? 0 : (1 - embeddingWeight) * lexicalCosine));
  }
}
