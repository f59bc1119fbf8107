package dev.itemsim.similarity;

import dev.itemsim.InvalidInputException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The hand-tuned blend: {@code embeddingWeight · embedding cosine + (1 − embeddingWeight) · lexical cosine}, in
 * double, rounded once to float. A side with weight 0 is not read.
 */
public record LinearBlend(double embeddingWeight) implements Blend {
  public LinearBlend {
    if (!(embeddingWeight >= 0 && embeddingWeight <= 1)) {
      throw new InvalidInputException("similarity.hybrid.embeddingWeight = " + embeddingWeight
          + " is out of range 0..1");
    }
  }

  @Override
  public float score(PairFeatures f) {
    return (float) ((embeddingWeight == 0 ? 0 : embeddingWeight * f.embedding())
        + (embeddingWeight == 1 ? 0 : (1 - embeddingWeight) * f.lexical()));
  }

  @Override
  public boolean needsParts() {
    return false;
  }

  @Override
  public boolean readsEmbedding() {
    return embeddingWeight != 0;
  }

  @Override
  public boolean readsLexical() {
    return embeddingWeight != 1;
  }

  @Override
  public Map<String, Object> settings() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("hybrid.embeddingWeight", embeddingWeight);
    return m;
  }
}
