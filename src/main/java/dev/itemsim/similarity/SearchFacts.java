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
 * @param vectors how the vectors reached the tasks: {@code block files}, {@code broadcast} or {@code list files}
 * @param duplicateTextsCollapsed items ranked through another item with the same text, when collapsing
 * @param method how embedding neighbours were found ({@code similarity.method} as resolved: exact or ivf)
 * @param ivf what the approximate search did and the recall it measured, when the method was ivf
 * @param kernelUsage where the product tasks ran (kernel, device, CPU fallbacks), reported by the tasks as they
 *     complete: read it once the rows are computed; null when no task multiplied vectors
 */
public record SearchFacts(String scorer, String kernel, String scan, Integer dimension, Integer blocks,
    Integer blockSize, String vectors, Long duplicateTextsCollapsed, String method, IvfFacts ivf,
    KernelUsage kernelUsage) {

  /** Facts of a retrieval that did not search embeddings through a {@link SearchMethod}. */
  public SearchFacts(String scorer, String kernel, String scan, Integer dimension, Integer blocks,
      Integer blockSize, String vectors, Long duplicateTextsCollapsed) {
    this(scorer, kernel, scan, dimension, blocks, blockSize, vectors, duplicateTextsCollapsed, null, null, null);
  }

  public SearchFacts withScorer(String name) {
    return new SearchFacts(name, kernel, scan, dimension, blocks, blockSize, vectors, duplicateTextsCollapsed,
        method, ivf, kernelUsage);
  }

  public SearchFacts withCollapsed(long collapsed) {
    return new SearchFacts(scorer, kernel, scan, dimension, blocks, blockSize, vectors, collapsed, method, ivf,
        kernelUsage);
  }

  public SearchFacts withMethod(String name) {
    return new SearchFacts(scorer, kernel, scan, dimension, blocks, blockSize, vectors, duplicateTextsCollapsed,
        name, ivf, kernelUsage);
  }

  public SearchFacts withKernelUsage(KernelUsage usage) {
    return new SearchFacts(scorer, kernel, scan, dimension, blocks, blockSize, vectors, duplicateTextsCollapsed,
        method, ivf, usage);
  }
}
