package dev.itemsim.similarity;

import dev.itemsim.InvalidInputException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the matrix-product kernel named by {@code similarity.kernel}, once per JVM: tasks call
 * {@link #select} for every block pair and get the same kernel, and a warning is logged once.
 *
 * <ul>
 *   <li>{@code auto}: netlib on the BLAS of {@code similarity.blas} ({@link NativeBlas}); when no native BLAS
 *       loads, netlib's pure-Java BLAS with one loud warning;
 *   <li>{@code native-blas}: the same, failing when no native BLAS loads;
 *   <li>{@code java}: netlib's pure-Java BLAS on purpose.
 * </ul>
 */
public final class Kernels {
  private static final Logger LOG = LoggerFactory.getLogger(Kernels.class);
  private static final Selection JVM = new Selection(NativeBlas::bind, LOG::warn);

  private Kernels() {}

  /** The kernel for {@code kernel} on the BLAS this Spark application configured ({@code similarity.blas}). */
  public static MatMulKernel select(String kernel) {
    return JVM.select(kernel, NativeBlas.configuredSource());
  }

  /** The kernel for {@code kernel} on the BLAS {@code blas} names ({@code similarity.blas}). */
  public static MatMulKernel select(String kernel, String blas) {
    return JVM.select(kernel, blas);
  }

  /** Kernels chosen so far, by name; {@code binder} binds netlib ({@link NativeBlas#bind}). */
  static final class Selection {
    private final Function<String, NativeBlas.Binding> binder;
    private final Consumer<String> warn;
    private final Map<String, MatMulKernel> chosen = new ConcurrentHashMap<>();
    private final AtomicBoolean warned = new AtomicBoolean();

    Selection(Function<String, NativeBlas.Binding> binder, Consumer<String> warn) {
      this.binder = binder;
      this.warn = warn;
    }

    MatMulKernel select(String kernel, String blas) {
      String name = kernel.trim().toLowerCase(Locale.ROOT);
      NativeBlas.Binding binding = binder.apply(blas);  // every call: a conflicting similarity.blas must fail
      return chosen.computeIfAbsent(name, k -> create(k, binding));
    }

    private MatMulKernel create(String name, NativeBlas.Binding binding) {
      switch (name) {
        case "auto" -> {
          if (!binding.isNative() && warned.compareAndSet(false, true)) {
            warn.accept("\n*** itemsim: no native BLAS loads in this JVM; exact top-N runs on netlib's pure-Java "
                + "BLAS (" + binding.library() + "), measured 2-3x slower with the Vector API module and 15x without: "
                + binding.problem() + ". "
                + "similarity.kernel = native-blas makes this an error. ***");
          }
          return new NetlibBlasKernel(binding);
        }
        case "native-blas" -> {
          if (!binding.isNative()) {
            throw new IllegalStateException("similarity.kernel = native-blas but no native BLAS loads in this JVM "
                + "(netlib offers only " + binding.library() + "): " + binding.problem());
          }
          return new NetlibBlasKernel(binding);
        }
        case "java" -> {
          return NetlibBlasKernel.javaOnly();
        }
        default -> throw new InvalidInputException(
            "similarity.kernel = '" + name + "' is not one of auto, native-blas, java");
      }
    }
  }
}
