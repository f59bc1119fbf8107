package dev.itemsim.similarity;

import java.util.Arrays;

/**
 * Blends two retrievers: the candidates of a query are the union of its embedding top-K and its lexical
 * top-K, and each candidate is scored by a {@link Blend} of its exact embedding and lexical cosines (by default
 * {@code embeddingWeight · cos(embeddings) + (1 − embeddingWeight) · cos(lexical)}; a learned blend also reads
 * the lexical parts and the candidate's ranks). Ties go to the lower corpus index.
 */
public final class HybridRanker {
  private HybridRanker() {}

  /** Scores of one query's candidates, best first. */
  public record Ranked(int[] corpusIndexes, float[] scores) {}

  /**
   * @param embeddingCandidates corpus indexes from the embedding retriever, best first
   * @param lexicalCandidates corpus indexes from the lexical retriever, best first
   */
  public static Ranked rank(int query, int[] embeddingCandidates, int[] lexicalCandidates, VectorBlocks queryVectors,
      VectorBlocks corpusVectors, SparseVectors queryLexical, SparseVectors corpusLexical, double embeddingWeight,
      int n) {
    return rank(query, embeddingCandidates, lexicalCandidates, queryVectors, corpusVectors, queryLexical,
        corpusLexical, Blend.linear(embeddingWeight), n);
  }

  /** The same with any {@link Blend}. */
  public static Ranked rank(int query, int[] embeddingCandidates, int[] lexicalCandidates, VectorBlocks queryVectors,
      VectorBlocks corpusVectors, SparseVectors queryLexical, SparseVectors corpusLexical, Blend blend, int n) {
    int[] union = union(embeddingCandidates, lexicalCandidates);
    TopNBuffer top = new TopNBuffer(1, Math.max(1, n));
    for (int c : union) {
      top.offer(0, score(query, c, queryVectors, corpusVectors, queryLexical, corpusLexical, blend,
          blend.needsParts() ? rankIn(embeddingCandidates, c) : 0,
          blend.needsParts() ? rankIn(lexicalCandidates, c) : 0), c);
    }
    int[] ids = new int[top.n()];
    float[] scores = new float[top.n()];
    int count = top.sorted(0, ids, scores);
    return new Ranked(Arrays.copyOf(ids, count), Arrays.copyOf(scores, count));
  }

  /**
   * The linear blend's score of corpus item {@code c} for query {@code q}; a side with weight 0 is not computed
   * (its vectors may then be null).
   */
  public static float score(int q, int c, VectorBlocks queryVectors, VectorBlocks corpusVectors,
      SparseVectors queryLexical, SparseVectors corpusLexical, double embeddingWeight) {
    return score(q, c, queryVectors, corpusVectors, queryLexical, corpusLexical, Blend.linear(embeddingWeight), 0, 0);
  }

  /**
   * The score {@code blend} gives corpus item {@code c} for query {@code q}, ranked {@code embeddingRank} and
   * {@code lexicalRank} (1-based, 0 = not proposed) in the two retrievers' candidate lists.
   */
  public static float score(int q, int c, VectorBlocks queryVectors, VectorBlocks corpusVectors,
      SparseVectors queryLexical, SparseVectors corpusLexical, Blend blend, int embeddingRank, int lexicalRank) {
    if (blend.needsParts()) {
      return blend.score(features(q, c, queryVectors, corpusVectors, queryLexical, corpusLexical, embeddingRank,
          lexicalRank));
    }
    return blend.score(PairFeatures.of(blend.readsEmbedding() ? dot(queryVectors, q, corpusVectors, c) : 0f,
        blend.readsLexical() ? queryLexical.dot(q, corpusLexical, c) : 0f));
  }

  /** Everything the blends read about one pair. */
  public static PairFeatures features(int q, int c, VectorBlocks queryVectors, VectorBlocks corpusVectors,
      SparseVectors queryLexical, SparseVectors corpusLexical, int embeddingRank, int lexicalRank) {
    // the lexical vectors hold words, n-grams and model numbers side by side (LexicalFeatures)
    return PairFeatures.of(dot(queryVectors, q, corpusVectors, c),
        LexicalFeatures.partDots(queryLexical, q, corpusLexical, c), embeddingRank, lexicalRank);
  }

  /** 1-based position of {@code c} in {@code list}, 0 when absent. */
  static int rankIn(int[] list, int c) {
    for (int i = 0; i < list.length; i++) {
      if (list[i] == c) {
        return i + 1;
      }
    }
    return 0;
  }

  static int[] union(int[] a, int[] b) {
    return java.util.stream.IntStream.concat(Arrays.stream(a), Arrays.stream(b)).distinct().toArray();
  }

  /** Dot product of vector {@code i} of {@code x} and vector {@code j} of {@code y}. */
  public static float dot(VectorBlocks x, int i, VectorBlocks y, int j) {
    return dot(x.block(i / x.blockSize()), (i % x.blockSize()) * x.dim(), y.block(j / y.blockSize()),
        (j % y.blockSize()) * y.dim(), x.dim());
  }

  /**
   * Dot product of the {@code dim} floats of {@code x} from {@code ox} and of {@code y} from {@code oy}: float
   * products summed in double, in index order (the embedding cosine of every hybrid score).
   */
  public static float dot(float[] x, int ox, float[] y, int oy, int dim) {
    double s = 0;
    for (int k = 0; k < dim; k++) {
      s += x[ox + k] * y[oy + k];
    }
    return (float) s;
  }
}
