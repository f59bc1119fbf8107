package dev.itemsim.similarity;

import java.util.Arrays;

/**
 * Blends two retrievers: the candidates of a query are the union of its embedding top-K and its lexical
 * top-K, and each candidate is scored by {@link HybridBlend} from both cosines, computed exactly for every
 * candidate. Ties go to the lower corpus index.
 */
public final class HybridRanker {
  private HybridRanker() {}

  /** Scores of one query's candidates, best first. */
  public record Ranked(int[] corpusIndexes, float[] scores) {}

  /**
   * @param embeddingCandidates corpus indexes from the embedding retriever
   * @param lexicalCandidates corpus indexes from the lexical retriever
   */
  public static Ranked rank(int query, int[] embeddingCandidates, int[] lexicalCandidates, VectorBlocks queryVectors,
      VectorBlocks corpusVectors, SparseVectors queryLexical, SparseVectors corpusLexical, double embeddingWeight,
      int n) {
    int[] union = union(embeddingCandidates, lexicalCandidates);
    TopNBuffer top = new TopNBuffer(1, Math.max(1, n));
    for (int c : union) {
      top.offer(0, score(query, c, queryVectors, corpusVectors, queryLexical, corpusLexical, embeddingWeight), c);
    }
    int[] ids = new int[top.n()];
    float[] scores = new float[top.n()];
    int count = top.sorted(0, ids, scores);
    return new Ranked(Arrays.copyOf(ids, count), Arrays.copyOf(scores, count));
  }

  /**
   * The blended score of corpus item {@code c} for query {@code q} ({@link HybridBlend}); a side with weight 0
   * is not computed (its vectors may then be null).
   */
  public static float score(int q, int c, VectorBlocks queryVectors, VectorBlocks corpusVectors,
      SparseVectors queryLexical, SparseVectors corpusLexical, double embeddingWeight) {
    HybridBlend blend = new HybridBlend(embeddingWeight);
    return blend.score(blend.readsEmbedding() ? dot(queryVectors, q, corpusVectors, c) : 0f,
        blend.readsLexical() ? queryLexical.dot(q, corpusLexical, c) : 0f);
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
