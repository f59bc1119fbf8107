package dev.itemsim.similarity;

/**
 * What the hybrid scorer knows about one (query, candidate) pair: the embedding cosine, the lexical cosine and
 * its three parts as the lexical vectors hold them (each part's dot product carries its weight:
 * {@code wordWeight · cos(words)}, {@code gramWeight · cos(n-grams)}, {@code modelWeight · cos(model
 * numbers)}; {@code lexical} is their sum), and the candidate's 1-based rank in each retriever's candidate
 * list (0 when that retriever did not propose it). Everything comes from the pair's own scores and lists.
 */
public record PairFeatures(float embedding, float lexical, float words, float grams, float models, int embeddingRank,
    int lexicalRank) {

  /** A pair known by its two cosines only (what the linear blend reads). */
  static PairFeatures of(float embedding, float lexical) {
    return new PairFeatures(embedding, lexical, 0f, 0f, 0f, 0, 0);
  }

  /** A pair with its lexical parts' dot products ({@link LexicalFeatures#partDots}) and its ranks. */
  static PairFeatures of(float embedding, double[] lexicalParts, int embeddingRank, int lexicalRank) {
    return new PairFeatures(embedding, (float) (lexicalParts[0] + lexicalParts[1] + lexicalParts[2]),
        (float) lexicalParts[0], (float) lexicalParts[1], (float) lexicalParts[2], embeddingRank, lexicalRank);
  }
}
