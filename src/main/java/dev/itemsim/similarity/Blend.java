package dev.itemsim.similarity;

import java.io.Serializable;
import java.util.Map;

/**
 * How the hybrid scorer turns a candidate pair's scores ({@link PairFeatures}) into its blended score: the
 * hand-tuned linear blend ({@code similarity.hybrid.embeddingWeight}) or a logistic model fitted on labelled
 * pairs ({@link LogisticBlend}, {@code similarity.hybrid.learned}). Every hybrid and lexical score — ranked
 * lists on the executors ({@link ShardSearch}), pair scores, explanations — comes from {@link #score}.
 */
public interface Blend extends Serializable {
  /** The lexical score alone: what the lexical scorer ranks by. */
  Blend LEXICAL = linear(0);

  /** The blended score; higher is better. */
  float score(PairFeatures features);

  /** Whether {@link #score} reads the lexical parts and ranks (else only the embedding and lexical cosines). */
  boolean needsParts();

  /** Whether {@link #score} reads the embedding cosine (else it may be left at 0, and no vectors are needed). */
  boolean readsEmbedding();

  /** Whether {@link #score} reads the lexical cosine or its parts (else they may be left at 0). */
  boolean readsLexical();

  /** What shapes the scores, for reports ({@code metrics.json} settings), keys relative to {@code similarity.}. */
  Map<String, Object> settings();

  /** {@code embeddingWeight · embedding + (1 − embeddingWeight) · lexical}. */
  static Blend linear(double embeddingWeight) {
    return new LinearBlend(embeddingWeight);
  }
}
