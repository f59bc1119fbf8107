package dev.itemsim.job;

import dev.itemsim.config.TypedConfig;
import dev.itemsim.similarity.LexicalFeatures;
import dev.itemsim.similarity.NativeBlas;
import java.util.Set;

/**
 * How neighbours are found and scored, shared by every job ({@code similarity.*} keys in
 * {@code conf/defaults.conf}).
 *
 * @param kernel matrix-product kernel name ({@code similarity.kernel})
 * @param blas the BLAS netlib binds for it: bundled or system ({@code similarity.blas})
 * @param scorer embedding, lexical or hybrid ({@code similarity.scorer})
 * @param candidates candidates per retriever before re-scoring ({@code similarity.candidates})
 * @param embeddingWeight weight of the embedding cosine in the hybrid score
 * @param lexical the lexical scorer's settings ({@code similarity.lexical.*})
 */
public record ScoringSettings(String kernel, String blas, String scorer, int candidates, double embeddingWeight,
    LexicalFeatures.Settings lexical) {

  static ScoringSettings from(TypedConfig c) {
    return new ScoringSettings(
        c.oneOf("similarity.kernel", Set.of("auto", "native-blas", "java")),
        c.oneOf("similarity.blas", NativeBlas.SOURCES),
        c.oneOf("similarity.scorer", Set.of("embedding", "lexical", "hybrid")),
        c.intIn("similarity.candidates", 1, 10_000),
        c.doubleIn("similarity.hybrid.embeddingWeight", 0, 1),
        new LexicalFeatures.Settings(c.doubleIn("similarity.lexical.wordWeight", 0, 1),
            c.doubleIn("similarity.lexical.modelWeight", 0, 1), c.intIn("similarity.lexical.ngram", 2, 6),
            c.intIn("similarity.lexical.maxPostings", 0, Integer.MAX_VALUE)));
  }

  public boolean hybrid() {
    return scorer.equals("hybrid");
  }
}
