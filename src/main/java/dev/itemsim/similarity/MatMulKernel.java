package dev.itemsim.similarity;

/**
 * Dense float32 matrix product {@code C = A · Bᵀ} on row-major arrays: the one hot operation of exact
 * top-N. Implementations are thread-safe and allocate nothing per call.
 */
public interface MatMulKernel {

  /**
   * Writes {@code c[i * bRows + j] = Σ_k a[i * dim + k] · b[j * dim + k]} for {@code i < aRows},
   * {@code j < bRows}. {@code c} must hold at least {@code aRows * bRows} floats.
   */
  void multiplyTransposed(float[] a, int aRows, float[] b, int bRows, int dim, float[] c);

  /** Short name for logs and the run summary, e.g. {@code native-blas(JNIBLAS)}. */
  String name();

  /** Whether this kernel runs in native code at hardware speed (false for pure-Java fallbacks). */
  boolean isNative();
}
