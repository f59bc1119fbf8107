package dev.itemsim.similarity;

/**
 * What a retrieval ran, for logs and the run summary; null components did not apply.
 *
 * @param scorer the retriever's name
 * @param kernel the matrix-product kernel (e.g. {@code native-blas(JNIBLAS)})
 * @param scan the top-N candidate test ({@code vector(512-bit)} or {@code scalar})
 * @param dimension vector dimension
 * @param blocks row blocks of the query vectors
 * @param blockSize rows per block
 * @param vectors how the vectors reached the tasks: {@code block files} or {@code broadcast}
 * @param duplicateTextsCollapsed items ranked through another item with the same text, when collapsing
 */
public record SearchFacts(String scorer, String kernel, String scan, Integer dimension, Integer blocks,
    Integer blockSize, String vectors, Long duplicateTextsCollapsed) {

  public SearchFacts withScorer(String name) {
    return new SearchFacts(name, kernel, scan, dimension, blocks, blockSize, vectors, duplicateTextsCollapsed);
  }

  public SearchFacts withCollapsed(long collapsed) {
    return new SearchFacts(scorer, kernel, scan, dimension, blocks, blockSize, vectors, collapsed);
  }
}
