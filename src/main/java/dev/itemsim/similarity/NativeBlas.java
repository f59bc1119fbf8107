package dev.itemsim.similarity;

import dev.itemsim.InvalidInputException;
import dev.ludovic.netlib.blas.BLAS;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.spark.SparkEnv;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The BLAS that netlib (Spark MLlib's BLAS binding, which {@link NetlibBlasKernel} calls) binds in this JVM,
 * chosen once per JVM by {@code similarity.blas}.
 *
 * <p>netlib loads its native BLAS on the first use of any of its classes, Spark ML's included, from the
 * library that its system property {@value #NATIVE_LIB_PATH} names (default: {@code libblas.so.3} on the
 * library path), and keeps it, or its pure-Java fallback, for the life of the JVM. {@link #bind} must
 * therefore run before that first use: {@link NativeBlasPlugin} runs it when a driver or executor starts,
 * and {@link Kernels} before any kernel is made.
 *
 * <ul>
 *   <li>{@code bundled}: the OpenBLAS that the jar ships ({@code org.bytedeco:openblas}, Linux x86-64),
 *       extracted by JavaCPP to its cache ({@code ~/.javacpp/cache}), capped at one thread per call (Spark
 *       runs one task per core), and handed to netlib by path. Where the jar has no OpenBLAS for the
 *       platform, the system's BLAS as for {@code system}.
 *   <li>{@code system}: netlib's own lookup ({@code libblas.so.3}, or the library named by
 *       {@code -Ddev.ludovic.netlib.blas.nativeLib[Path]}), e.g. {@code apt-get install libopenblas0-pthread};
 *       its threads follow {@code OPENBLAS_NUM_THREADS}, which should be 1.
 * </ul>
 */
public final class NativeBlas {
  private static final Logger LOG = LoggerFactory.getLogger(NativeBlas.class);

  /** The values of {@code similarity.blas}. */
  public static final Set<String> SOURCES = Set.of("bundled", "system");
  /** The Spark setting that carries {@code similarity.blas} to every JVM of a Spark application. */
  public static final String SPARK_CONF = "spark.itemsim.blas";
  static final String NATIVE_LIB_PATH = "dev.ludovic.netlib.blas.nativeLibPath";
  static final String NATIVE_LIB = "dev.ludovic.netlib.blas.nativeLib";

  /**
   * What netlib bound: its BLAS, whether that runs natively, a short name of the library for logs and run
   * summaries ({@code bundled-openblas 0.3.31}, {@code system /usr/lib/.../libblas.so.3}, or netlib's Java
   * class), the {@code similarity.blas} value it was bound for, and why it is not the library asked for
   * ({@code ""} when it is).
   */
  public record Binding(BLAS blas, boolean isNative, String library, String source, String problem) {
    boolean isBundled() {
      return library.startsWith("bundled-");
    }
  }

  private static Binding bound;

  private NativeBlas() {}

  /**
   * The {@code similarity.blas} of this Spark application ({@value #SPARK_CONF}); outside Spark the system
   * property {@code itemsim.blas}, else bundled.
   */
  public static String configuredSource() {
    SparkEnv env = SparkEnv.get();
    String outside = System.getProperty("itemsim.blas", "bundled");
    return env == null ? outside : env.conf().get(SPARK_CONF, outside);
  }

  /**
   * Binds netlib to the BLAS {@code source} names on the first call in this JVM, and returns that binding on
   * every call. A later call that names the other library fails: a JVM has one.
   */
  public static synchronized Binding bind(String source) {
    String wanted = source.trim().toLowerCase(Locale.ROOT);
    if (!SOURCES.contains(wanted)) {
      throw new InvalidInputException("similarity.blas = '" + source + "' is not one of bundled, system");
    }
    if (bound == null) {
      bound = bindFirst(wanted);
      LOG.info("BLAS for exact top-N: {}{} (similarity.blas = {}){}", bound.isNative() ? "native " : "",
          bound.library(), wanted, bound.problem().isEmpty() ? "" : ": " + bound.problem());
    } else if (!wanted.equals(bound.source()) && bound.isNative()
        && bound.isBundled() == wanted.equals("system")) {
      throw new IllegalStateException("similarity.blas = " + wanted + ", but netlib is already bound to "
          + bound.library() + " in this JVM (similarity.blas = " + bound.source() + "); a JVM binds one BLAS: "
          + "set " + SPARK_CONF + " = " + wanted + " when the Spark application starts");
    }
    return bound;
  }

  private static Binding bindFirst(String source) {
    boolean netlibLoadedBefore = mappedFiles().stream().anyMatch(f -> f.contains("libnetlibblasjni"));
    String problem = "";
    String bundledLibrary = null;
    if (source.equals("bundled")) {
      if (netlibLoadedBefore) {
        problem = "netlib was initialised before itemsim could point it at the bundled OpenBLAS (Spark ML code "
            + "ran first in this JVM: set spark.plugins = " + NativeBlasPlugin.class.getName() + ")";
      } else {
        try {
          bundledLibrary = BundledOpenBlas.load();
          System.setProperty(NATIVE_LIB_PATH, bundledLibrary);
        } catch (LinkageError | RuntimeException e) {
          problem = "no bundled OpenBLAS for " + System.getProperty("os.name") + " " + System.getProperty("os.arch")
              + " (" + e.getMessage() + "); using the system's BLAS";
        }
      }
    }
    BLAS blas = BLAS.getInstance();
    boolean isNative = NetlibBlasKernel.isNative(blas);
    if (!isNative) {
      String why = bundledLibrary != null
          ? "netlib did not load the bundled OpenBLAS " + bundledLibrary + ": most likely netlib was initialised "
              + "earlier in this JVM, before itemsim could point it there (Spark ML code ran first: set spark.plugins"
              + " = " + NativeBlasPlugin.class.getName() + "), else see netlib's error above"
          : "netlib could not load "
              + System.getProperty(NATIVE_LIB_PATH, System.getProperty(NATIVE_LIB, "libblas.so.3"));
      return new Binding(blas, false, blas.getClass().getSimpleName(), source,
          (problem.isEmpty() ? "" : problem + "; ") + why);
    }
    if (bundledLibrary != null) {
      return new Binding(blas, true, "bundled-openblas " + BundledOpenBlas.version(), source, problem);
    }
    if (!"1".equals(System.getenv("OPENBLAS_NUM_THREADS"))) {
      LOG.warn("netlib runs on the system's BLAS, but OPENBLAS_NUM_THREADS is not 1 in this JVM: an OpenBLAS call "
          + "may start a thread per core on top of Spark's task per core. Set OPENBLAS_NUM_THREADS=1 (executors: "
          + "spark.executorEnv.OPENBLAS_NUM_THREADS=1), or use similarity.blas = bundled");
    }
    return new Binding(blas, true, "system " + systemLibrary(), source, problem);
  }

  /** The file of the BLAS that netlib opened, as the process maps it, or the name netlib was given. */
  private static String systemLibrary() {
    String asked = System.getProperty(NATIVE_LIB_PATH, System.getProperty(NATIVE_LIB, "libblas.so.3"));
    String name = Path.of(asked).getFileName().toString();
    return mappedFiles().stream().filter(f -> Path.of(f).getFileName().toString().equals(name)).findFirst()
        .orElse(asked);
  }

  /** Files mapped into this process (Linux; empty elsewhere). */
  private static List<String> mappedFiles() {
    Path maps = Path.of("/proc/self/maps");
    if (!Files.isReadable(maps)) {
      return List.of();
    }
    try (var lines = Files.lines(maps)) {
      return lines.filter(l -> l.indexOf('/') >= 0).map(l -> l.substring(l.indexOf('/'))).distinct().toList();
    } catch (IOException | java.io.UncheckedIOException e) {
      return List.of();
    }
  }

  /** The OpenBLAS of {@code org.bytedeco:openblas}, loaded through JavaCPP (whose classes load only here). */
  private static final class BundledOpenBlas {
    /** Extracts and loads the library, one thread per call, and returns its path. */
    static String load() {
      org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
      String path = org.bytedeco.javacpp.Loader.getLoadedLibraries().get("openblas_nolapack@.0");
      if (path == null) {
        throw new IllegalStateException("JavaCPP loaded no libopenblas_nolapack.so.0");
      }
      org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(1);
      if (org.bytedeco.openblas.presets.openblas_nolapack.blas_get_vendor() != 2) {
        throw new IllegalStateException("openblas_set_num_threads not found in " + path);
      }
      return path;
    }

    /** Read at run time: the constant would otherwise be inlined from whichever jar the class was compiled against. */
    static String version() {
      try {
        Object v = org.bytedeco.openblas.global.openblas_nolapack.class.getField("OPENBLAS_VERSION").get(null);
        return String.valueOf(v).trim().replace("OpenBLAS ", "");
      } catch (ReflectiveOperationException e) {
        return "unknown version";
      }
    }
  }
}
