package dev.itemsim.similarity;

/**
 * Dense float32 matrix product {@code C = A · Bᵀ} on row-major arrays: the one hot operation of exact
 * top-N. Implementations are thread-safe. The BLAS kernels allocate nothing per call; the PyTorch kernel
 * ({@link TorchMatMulKernel}) copies both row ranges to its device and the product back on every call.
 */
public interface MatMulKernel {

  /**
   * Writes {@code c[i * bRows + j] = Σ_k a[(aFrom + i) * dim + k] · b[(bFrom + j) * dim + k]} for
   * {@code i < aRows}, {@code j < bRows}: rows {@code aFrom..aFrom+aRows} of A times rows
   * {@code bFrom..bFrom+bRows} of B. {@code c} must hold at least {@code aRows * bRows} floats.
   */
  void multiplyTransposed(float[] a, int aFrom, int aRows, float[] b, int bFrom, int bRows, int dim, float[] c);

  /** {@link #multiplyTransposed(float[], int, int, float[], int, int, int, float[])} from row 0 of both. */
  default void multiplyTransposed(float[] a, int aRows, float[] b, int bRows, int dim, float[] c) {
    multiplyTransposed(a, 0, aRows, b, 0, bRows, dim, c);
  }

  /** Short name for logs and the run summary, e.g. {@code native-blas(JNIBLAS)} or {@code pytorch(gpu(1))}. */
  String name();

  /** Whether this kernel runs in native code at hardware speed (false for pure-Java fallbacks). */
  boolean isNative();
}
