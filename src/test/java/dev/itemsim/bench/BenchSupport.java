package dev.itemsim.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleSupplier;

/** Shared pieces of the benchmarks: machine description, medians, peak RSS, child JVMs, TARGET lines. */
final class BenchSupport {
  private BenchSupport() {}

  static String machine() {
    String cpu = "unknown CPU";
    try {
      cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
    } catch (IOException ignored) {
      // not Linux
    }
    return Runtime.getRuntime().availableProcessors() + " cores, " + cpu + ", Java "
        + System.getProperty("java.version") + ", max heap " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MB";
  }

  /** Runs {@code measure} {@code reps} times and returns the median. */
  static double median(int reps, DoubleSupplier measure) {
    double[] values = new double[reps];
    for (int i = 0; i < reps; i++) {
      values[i] = measure.getAsDouble();
    }
    Arrays.sort(values);
    return reps % 2 == 1 ? values[reps / 2] : (values[reps / 2 - 1] + values[reps / 2]) / 2;
  }

  /** Peak resident set size of this JVM so far, MB (Linux VmHWM). */
  static long peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
      }
    } catch (IOException ignored) {
      // not Linux
    }
    return -1;
  }

  private static final java.util.concurrent.atomic.AtomicLong LIVE_HEAP_PEAK = new java.util.concurrent.atomic.AtomicLong();

  /**
   * Starts recording the heap in use right after each garbage collection (the live data plus what the
   * collector left), whose maximum is {@link #peakLiveHeapMb()}: unlike RSS it does not include heap the JVM
   * merely grew into because allocation was fast.
   */
  static void watchLiveHeap() {
    for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
      ((javax.management.NotificationEmitter) gc).addNotificationListener((notification, handback) -> {
        var info = com.sun.management.GarbageCollectionNotificationInfo.from(
            (javax.management.openmbean.CompositeData) notification.getUserData());
        long used = info.getGcInfo().getMemoryUsageAfterGc().values().stream()
            .mapToLong(java.lang.management.MemoryUsage::getUsed).sum();
        LIVE_HEAP_PEAK.accumulateAndGet(used, Math::max);
      }, n -> n.getType().equals(com.sun.management.GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION),
          null);
    }
  }

  private static final java.util.concurrent.atomic.AtomicLong ANON_PEAK_KB = new java.util.concurrent.atomic.AtomicLong();

  /**
   * Samples the process's anonymous resident memory ({@code RssAnon}: heap, native and direct buffers, not
   * the file pages of memory-mapped shuffle files that the kernel can drop) every 20 ms; the maximum is
   * {@link #peakAnonRssMb()}.
   */
  static void watchAnonRss() {
    Thread t = new Thread(() -> {
      while (true) {
        try {
          for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("RssAnon:")) {
              ANON_PEAK_KB.accumulateAndGet(Long.parseLong(line.replaceAll("[^0-9]", "")), Math::max);
            }
          }
          Thread.sleep(20);
        } catch (IOException | InterruptedException e) {
          return;
        }
      }
    }, "anon-rss-sampler");
    t.setDaemon(true);
    t.start();
  }

  static long peakAnonRssMb() {
    return ANON_PEAK_KB.get() / 1024;
  }

  static long peakLiveHeapMb() {
    return LIVE_HEAP_PEAK.get() >> 20;
  }

  static String target(String name, double value, String comparator, double goal) {
    return String.format(Locale.ROOT, "TARGET %s value=%.3f goal=%s%.3f %s", name, value, comparator, goal,
        passes(value, comparator, goal) ? "PASS" : "FAIL");
  }

  /**
   * A goal that asks for a figure to be stated rather than bounded: {@code goal=stated}, PASS when the figure
   * was measured (finite).
   */
  static String statedTarget(String name, double value) {
    return String.format(Locale.ROOT, "TARGET %s value=%.4f goal=stated %s", name, value,
        Double.isFinite(value) ? "PASS" : "FAIL");
  }

  /** A {@link #target} whose value and goal are ratios: {@code value=123.4x goal=>=100x}. */
  static String ratioTarget(String name, double value, String comparator, double goal) {
    return String.format(Locale.ROOT, "TARGET %s value=%.1fx goal=%s%sx %s", name, value, comparator,
        java.math.BigDecimal.valueOf(goal).stripTrailingZeros().toPlainString(),
        passes(value, comparator, goal) ? "PASS" : "FAIL");
  }

  private static boolean passes(double value, String comparator, double goal) {
    return comparator.equals(">=") ? value >= goal : value <= goal;
  }

  /**
   * Runs {@code mainClass args} in a fresh JVM with this JVM's classpath and {@code heap}, echoes its
   * output, and returns the {@code RESULT key=value ...} pairs it printed.
   */
  static Map<String, String> child(String heap, Class<?> mainClass, String... args) {
    return child(heap, defaultBlas(), Map.of(), mainClass, args);
  }

  /** As {@link #child(String, Class, String...)}, binding the BLAS {@code blas} names (bundled or system). */
  static Map<String, String> child(String heap, String blas, Class<?> mainClass, String... args) {
    return child(heap, blas, Map.of(), mainClass, args);
  }

  /** {@link #child(String, Class, String...)} with {@code env} added to the child's environment. */
  static Map<String, String> child(String heap, Map<String, String> env, Class<?> mainClass, String... args) {
    return child(heap, defaultBlas(), env, mainClass, args);
  }

  private static String defaultBlas() {
    return System.getenv().getOrDefault("BENCH_BLAS", "bundled");
  }

  /** With the BLAS {@code blas} names and {@code env} added to the child's environment. */
  static Map<String, String> child(String heap, String blas, Map<String, String> env, Class<?> mainClass,
      String... args) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx" + heap, "--add-modules", "jdk.incubator.vector", "-Dai.djl.offline=true", "-Dai.djl.onnx.disable_alternative=true",
        "-Dlog4j2.configurationFile=conf/log4j2-test.properties",
        "-Ditemsim.blas=" + blas,
        "-cp", System.getProperty("java.class.path"), mainClass.getName()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("OPENBLAS_NUM_THREADS", "1");
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    pb.environment().putAll(env);
    Map<String, String> result = new HashMap<>();
    try {
      Process p = pb.start();
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          if (line.startsWith("RESULT ")) {
            // values may hold spaces (a kernel name): a pair starts where a word is followed by '='
            for (String kv : line.substring(7).trim().split(" (?=[A-Za-z_0-9]+=)")) {
              int eq = kv.indexOf('=');
              result.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
          } else if (!line.contains(" WARN ") && !line.startsWith("\tat ") && !line.isBlank()) {
            System.out.println("    | " + line);
          }
        }
      }
      int code = p.waitFor();
      if (code != 0) {
        throw new IllegalStateException(mainClass.getSimpleName() + " " + String.join(" ", args) + " exited " + code);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    return result;
  }

  /** Runs each task in its own thread and waits for all. */
  static void inParallel(Runnable... tasks) {
    Thread[] threads = new Thread[tasks.length];
    for (int i = 0; i < tasks.length; i++) {
      threads[i] = new Thread(tasks[i]);
      threads[i].start();
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  static void result(Object... keyValues) {
    StringBuilder sb = new StringBuilder("RESULT");
    for (int i = 0; i < keyValues.length; i += 2) {
      sb.append(' ').append(keyValues[i]).append('=').append(keyValues[i + 1]);
    }
    System.out.println(sb);
  }
}
