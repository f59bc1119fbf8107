package dev.itemsim.similarity;

import dev.ludovic.netlib.blas.BLAS;

/**
 * {@code sgemm} through netlib (the BLAS binding Spark MLlib ships). With a native BLAS installed
 * ({@code libblas.so.3} resolving to OpenBLAS) this runs at hardware speed; otherwise netlib silently falls
 * back to Java loops some 20× slower, which {@link #isNative()} reports.
 */
public final class NetlibBlasKernel implements MatMulKernel {
  private final BLAS blas;

  public NetlibBlasKernel() {
    this(BLAS.getInstance());
  }

  NetlibBlasKernel(BLAS blas) {
    this.blas = blas;
  }

  /** The pure-Java netlib implementation, whatever is installed (for tests and benchmarks). */
  public static NetlibBlasKernel javaOnly() {
    return new NetlibBlasKernel(dev.ludovic.netlib.blas.JavaBLAS.getInstance());
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
    return (isNative() ? "native-blas(" : "java-blas(") + blas.getClass().getSimpleName() + ")";
  }

  @Override
  public boolean isNative() {
    return blas.getClass().getName().contains("JNI") || blas.getClass().getName().contains("Native");
  }
}
