package dev.itemsim.similarity;

import dev.itemsim.InvalidInputException;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Picks the matrix-product kernel named by {@code similarity.kernel}. */
public final class Kernels {
  private static final Logger LOG = LoggerFactory.getLogger(Kernels.class);

  private Kernels() {}

  /**
   * {@code auto}: native BLAS, warning loudly when only netlib's pure-Java fallback is available;
   * {@code native-blas}: native BLAS or fail; {@code java}: the pure-Java fallback on purpose.
   */
  public static MatMulKernel select(String name) {
    switch (name.toLowerCase(Locale.ROOT)) {
      case "auto" -> {
        NetlibBlasKernel kernel = new NetlibBlasKernel();
        if (!kernel.isNative()) {
          LOG.warn("\n*** itemsim: no native BLAS found; exact top-N runs on netlib's pure-Java BLAS, about 20x "
              + "slower. Install OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0-pthread) on every "
              + "machine that runs executors. ***");
        }
        return kernel;
      }
      case "native-blas" -> {
        NetlibBlasKernel kernel = new NetlibBlasKernel();
        if (!kernel.isNative()) {
          throw new IllegalStateException("similarity.kernel = native-blas but no native BLAS loads on this "
              + "JVM (netlib offers only " + kernel.name() + "); install OpenBLAS (libopenblas0-pthread)");
        }
        return kernel;
      }
      case "java" -> {
        return NetlibBlasKernel.javaOnly();
      }
      default -> throw new InvalidInputException(
          "similarity.kernel = '" + name + "' is not one of auto, native-blas, java");
    }
  }
}
