package dev.itemsim.similarity;

/**
 * What the hybrid scorer knows about one (query, candidate) pair: the embedding cosine, the lexical cosine and
 * its three parts as the lexical vectors hold them (each part's dot product carries its weight:
 * {@code wordWeight · cos(words)}, {@code gramWeight · cos(n-grams)}, {@code modelWeight · cos(model
 * numbers)}; {@code lexical} is their sum), and the candidate's 1-based rank in each retriever's candidate
 * list (0 when that retriever did not propose it). Everything comes from the pair's own scores and lists.
 */
public record PairFeatures(float embedding, float lexical, float words, float grams, float models, int embeddingRank,
    int lexicalRank) {}
