package dev.itemsim.similarity;

import dev.ludovic.netlib.blas.BLAS;

/**
 * {@code sgemm} through netlib (the BLAS binding Spark MLlib ships), bound to the BLAS {@link NativeBlas}
 * chose for this JVM: the bundled OpenBLAS, a system one, or netlib's pure-Java fallback, which
 * {@link #isNative()} reports. netlib hands the Java arrays to native code without copying them.
 */
public final class NetlibBlasKernel implements MatMulKernel {
  private final BLAS blas;
  private final String name;

  NetlibBlasKernel(NativeBlas.Binding binding) {
    this(binding.blas(), (binding.isNative() ? "native-blas(" : "java-blas(") + binding.library() + ")");
  }

  private NetlibBlasKernel(BLAS blas, String name) {
    this.blas = blas;
    this.name = name;
  }

  /** netlib's pure-Java implementation, whatever is installed (for tests and benchmarks). */
  public static NetlibBlasKernel javaOnly() {
    NativeBlas.bind(NativeBlas.configuredSource());  // netlib's first use binds its native BLAS too
    BLAS java = dev.ludovic.netlib.blas.JavaBLAS.getInstance();
    return new NetlibBlasKernel(java, "java-blas(" + java.getClass().getSimpleName() + ")");
  }

  @Override
  public void multiplyTransposed(float[] a, int aFrom, int aRows, float[] b, int bFrom, int bRows, int dim,
      float[] c) {
    // Row-major C[aRows×bRows] is column-major Cᵀ[bRows×aRows] = Bᵀ'·A' where A', B' are the row-major
    // inputs read as column-major dim×rows matrices.
    blas.sgemm("T", "N", bRows, aRows, dim, 1.0f, b, bFrom * dim, dim, a, aFrom * dim, dim, 0.0f, c, 0, bRows);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean isNative() {
    return isNative(blas);
  }

  /** Whether a netlib BLAS is one of its native implementations (JNI), not a Java one. */
  static boolean isNative(BLAS blas) {
    return blas instanceof dev.ludovic.netlib.blas.NativeBLAS;
  }
}
