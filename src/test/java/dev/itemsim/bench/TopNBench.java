package dev.itemsim.bench;

import dev.itemsim.embed.Vectors;
import dev.itemsim.similarity.BlockFiles;
import dev.itemsim.similarity.BlockedTopN;
import dev.itemsim.similarity.Kernels;
import dev.itemsim.similarity.MatMulKernel;
import dev.itemsim.similarity.TopNBuffer;
import dev.itemsim.similarity.VectorBlocks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToLongFunction;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.mllib.linalg.distributed.BlockMatrix;
import org.apache.spark.mllib.linalg.distributed.IndexedRow;
import org.apache.spark.mllib.linalg.distributed.IndexedRowMatrix;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * Exact top-N benchmark: itemsim's blocked top-N on Spark local[2] against the machine's sgemm peak on the
 * same block shapes, against MLlib's BlockMatrix.multiply(transpose) + per-row top-N, and against Spark 4.2's
 * built-in {@code NEAREST BY} join on the same vectors, whose top-N lists it also checks against itemsim's.
 * Every measurement runs in its own JVM so peak RSS is that measurement's alone.
 *
 * <p>Usage: {@code TopNBench [--sizes 20000,50000,100000,200000] [--reps 3] [--block 8192] [--only all|nearest-by]
 * [--nearest-sizes 1000,2000] [--nearest-extra 5000] [--nearest-budget 600] [--nearest-reps 1]
 * [--blas-sizes 50000]}: {@code --only blas} runs the bundled and the system OpenBLAS side by side alone (at
 * {@code --blas-sizes}); {@code --only nearest-by} runs the NEAREST BY comparison alone, at {@code --nearest-sizes} and, when its
 * projected time stays within {@code --nearest-budget} seconds, at {@code --nearest-extra} (0: never).
 */
public final class TopNBench {
  private static final int DIM = 384;
  private static final int TOP_N = 10;
  private static final int WARMUP_RUNS = 2;
  private static final double WARMUP_SECONDS = 10;
  private static final double SHORT_RUN_SECONDS = 5;
  private static final int SHORT_RUN_REPS = 5;
  /** The heap every n runs with once more, to show the memory top-N needs does not grow with n. */
  private static final String SMALL_HEAP = "512m";
  /** How long each n computes in that pass, so memory is compared in the same steady state. */
  private static final int MEMORY_SECONDS = 60;
  /**
   * Spark's nearest-by join keeps every right row as a candidate, the query row itself included (at cosine 1),
   * so it is asked for one more than N and the self pair is dropped.
   */
  private static final String NEAREST_BY_QUERY = "SELECT q.id AS qid, t.id AS tid, "
      + "vector_cosine_similarity(q.e, t.e) AS score FROM items q JOIN items t "
      + "EXACT NEAREST " + (TOP_N + 1) + " BY SIMILARITY vector_cosine_similarity(q.e, t.e)";
  /** Items of the untimed NEAREST BY warm-up run (code generation, JIT), a prefix of the measured table. */
  private static final int NEAREST_BY_WARMUP_ITEMS = 200;
  /** Same heap as itemsim's runs, so both are measured under one JVM setting. */
  private static final String NEAREST_BY_HEAP = "4g";
  private static final double SCORE_TOLERANCE = 1e-5;
  /**
   * The matrix-product kernel (similarity.kernel): native BLAS, or the run fails. BENCH_TOPN_KERNEL=java lets a
   * smoke run go on a machine without OpenBLAS; its itemsim times are then not itemsim's.
   */
  private static final String KERNEL = System.getenv().getOrDefault("BENCH_TOPN_KERNEL", "native-blas");

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("child")) {
      child(args);
      return;
    }
    List<Integer> sizes = List.of(20_000, 50_000, 100_000, 200_000);
    int reps = 3;
    int block = 8192;
    String only = "all";
    List<Integer> nearestSizes = List.of(1_000, 2_000);
    int nearestExtra = 5_000;
    double nearestBudget = 600;
    int nearestReps = 1;
    List<Integer> blasSizes = List.of(50_000);
    for (int i = 0; i < args.length; i += 2) {
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("option " + args[i] + " needs a value");
      }
      switch (args[i]) {
        case "--sizes" -> sizes = intList(args[i + 1]);
        case "--reps" -> reps = Integer.parseInt(args[i + 1]);
        case "--block" -> block = Integer.parseInt(args[i + 1]);
        case "--only" -> only = args[i + 1];
        case "--nearest-sizes" -> nearestSizes = intList(args[i + 1]);
        case "--nearest-extra" -> nearestExtra = Integer.parseInt(args[i + 1]);
        case "--nearest-budget" -> nearestBudget = Double.parseDouble(args[i + 1]);
        case "--nearest-reps" -> nearestReps = Integer.parseInt(args[i + 1]);
        case "--blas-sizes" -> blasSizes = intList(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (!List.of("all", "nearest-by", "blas").contains(only)) {
      throw new IllegalArgumentException("--only must be all, nearest-by or blas, got " + only);
    }
    System.out.println("bench-topn on " + BenchSupport.machine());
    if (!KERNEL.equals("native-blas")) {
      System.out.println("*** BENCH_TOPN_KERNEL=" + KERNEL + ": itemsim runs without native BLAS; its figures are "
          + "for smoke tests only ***");
    }
    System.out.printf(Locale.ROOT, "inputs: random unit vectors, d=%d, N=%d, block=%d, Spark local[2], "
        + "OPENBLAS_NUM_THREADS=1, heap 4g per JVM, median of %d (of %d when a run takes under %.0f s) after up to "
        + "%d untimed warm-up runs (at most %.0f s of them)%n", DIM, TOP_N, block, reps, SHORT_RUN_REPS,
        SHORT_RUN_SECONDS, WARMUP_RUNS, WARMUP_SECONDS);

    List<String> targets = new ArrayList<>();
    if (only.equals("blas")) {
      bundledAgainstSystemBlas(blasSizes, block, reps, targets);
    } else {
      if (only.equals("all")) {
        againstPeakAndMllib(sizes, block, reps, targets);
      }
      againstNearestBy(nearestSizes, nearestExtra, nearestBudget, nearestReps, block, reps, targets);
    }
    System.out.println();
    targets.forEach(System.out::println);
  }

  /**
   * The OpenBLAS that ships in the jar against the system's (netlib's own lookup, {@code libblas.so.3}; on Debian
   * {@code libopenblas0-pthread}), side by side in one run: the sgemm peak and itemsim's top-N at each of
   * {@code sizes}, each in its own JVM bound to one BLAS, the two alternating so drift in the machine's load
   * touches both. Goal: the bundled top-N within 10 % of the system's.
   */
  private static void bundledAgainstSystemBlas(List<Integer> sizes, int block, int reps, List<String> targets) {
    List<String> sources = List.of("bundled", "system");
    System.out.println();
    System.out.println("bundled vs system OpenBLAS (similarity.blas), each in its own JVM, alternating:");
    for (String blas : sources) {
      Map<String, String> peak = BenchSupport.child("1g", blas, TopNBench.class, "child", "sgemm", "0",
          Integer.toString(block), Integer.toString(reps));
      System.out.printf(Locale.ROOT, "  sgemm peak, 2 threads x (%d x %d x %d), %-8s %s: %s GFLOP/s%n", block, DIM,
          block, blas, peak.get("blas"), peak.get("gflops"));
      if (!"true".equals(peak.get("native"))) {
        System.out.println("  *** " + blas + ": netlib did not bind a native BLAS; its figures are not OpenBLAS's ***");
      }
    }
    System.out.println("       n  blas       time_s  GFLOP/s  library");
    for (int n : sizes) {
      Map<String, Double> seconds = new java.util.HashMap<>();
      for (String blas : sources) {
        Map<String, String> r = BenchSupport.child("4g", blas, TopNBench.class, "child", "itemsim",
            Integer.toString(n), Integer.toString(block), Integer.toString(reps));
        double s = Double.parseDouble(r.get("seconds"));
        seconds.put(blas, s);
        System.out.printf(Locale.ROOT, "%8d  %-8s %8.2f %8.1f  %s%s%n", n, blas, s, (double) n * n * DIM / s / 1e9,
            r.get("blas"), "true".equals(r.get("native")) ? "" : " (NOT NATIVE)");
      }
      targets.add(BenchSupport.target("topn_bundled_over_system_openblas_time_n" + n,
          seconds.get("bundled") / seconds.get("system"), "<=", 1.10));
    }
  }

  /** itemsim against the sgemm peak over {@code sizes}, its memory with a small heap, and MLlib at the smallest. */
  private static void againstPeakAndMllib(List<Integer> sizes, int block, int reps, List<String> targets) {
    Map<String, String> peak = BenchSupport.child("1g", TopNBench.class, "child", "sgemm", "0",
        Integer.toString(block), Integer.toString(reps));
    double peakGflops = Double.parseDouble(peak.get("gflops"));
    System.out.printf(Locale.ROOT, "sgemm peak, 2 threads x (%d x %d x %d), %s: %.1f GFLOP/s%n", block, DIM, block,
        peak.get("kernel"), peakGflops);

    double[] logN = new double[sizes.size()];
    double[] logT = new double[sizes.size()];
    long minRss = Long.MAX_VALUE;
    long maxRss = 0;
    long minLive = Long.MAX_VALUE;
    long minAnon = Long.MAX_VALUE;
    long maxAnon = 0;
    long maxLive = 0;
    System.out.println();
    System.out.println("       n   time_s  GFLOP/s  of_peak  peak_rss_MB  peak_anon_rss_MB  live_heap_MB  shuffle_MB");
    for (int k = 0; k < sizes.size(); k++) {
      int n = sizes.get(k);
      Map<String, String> r = BenchSupport.child("4g", TopNBench.class, "child", "itemsim", Integer.toString(n),
          Integer.toString(block), Integer.toString(reps));
      double seconds = Double.parseDouble(r.get("seconds"));
      double gflops = (double) n * n * DIM / seconds / 1e9;
      long rss = Long.parseLong(r.get("rss_mb"));
      long liveHeap = Long.parseLong(r.get("live_heap_mb"));
      long anon = Long.parseLong(r.get("anon_rss_mb"));
      System.out.printf(Locale.ROOT, "%8d %8.2f %8.1f %7.0f%% %12d %17d %13d %11.1f%n", n, seconds, gflops,
          100 * gflops / peakGflops, rss, anon, liveHeap, Double.parseDouble(r.get("shuffle_mb")));
      minAnon = Math.min(minAnon, anon);
      maxAnon = Math.max(maxAnon, anon);
      minLive = Math.min(minLive, liveHeap);
      maxLive = Math.max(maxLive, liveHeap);
      targets.add(BenchSupport.target("topn_fraction_of_sgemm_peak_n" + n, gflops / peakGflops, ">=", 0.70));
      logN[k] = Math.log(n);
      logT[k] = Math.log(seconds);
      minRss = Math.min(minRss, rss);
      maxRss = Math.max(maxRss, rss);
    }
    if (sizes.size() >= 2) {
      double exponent = slope(logN, logT);
      System.out.printf(Locale.ROOT, "scaling: time ~ n^%.2f (least squares over %s); peak RSS %d..%d MB%n",
          exponent, sizes, minRss, maxRss);
      targets.add(BenchSupport.target("topn_time_exponent", exponent, "<=", 2.15));
      System.out.printf(Locale.ROOT, "memory over n = %s with a 4 GB heap: peak RSS %d..%d MB, of it anonymous "
          + "(heap + native, without mapped shuffle files) %d..%d MB, heap after GC %d..%d MB; the O(n·N) result is "
          + "%.0f MB at the largest n%n", sizes, minRss, maxRss, minAnon, maxAnon, minLive, maxLive,
          sizes.get(sizes.size() - 1) * (double) TOP_N * 8 / 1e6);
    }

    // G1 grows the heap toward its cap when allocation runs long, so RSS under a 4 GB cap says more about the
    // collector than about what the computation needs. Every n once more with the same small heap: if each
    // completes at full speed, that is the memory it needs, and its peak RSS is comparable across n.
    System.out.println();
    System.out.println("every n again with a " + SMALL_HEAP + " heap: one timed run without warm-up, then repeated "
        + "until " + MEMORY_SECONDS + " s have passed, so each n's memory is taken in the same steady state:");
    System.out.println("       n   time_s  vs_4g_heap  runs  peak_rss_MB  peak_anon_rss_MB  live_heap_MB");
    long minSmallAnon = Long.MAX_VALUE;
    long maxSmallAnon = 0;
    double slowdownLargest = Double.NaN;
    boolean allCompleted = true;
    for (int k = 0; k < sizes.size(); k++) {
      int n = sizes.get(k);
      Map<String, String> r;
      try {
        r = BenchSupport.child(SMALL_HEAP, TopNBench.class, "child", "itemsim", Integer.toString(n),
            Integer.toString(block), "1", "0", Integer.toString(MEMORY_SECONDS));
      } catch (IllegalStateException e) {
        System.out.printf(Locale.ROOT, "%8d failed: %s%n", n, e.getMessage());
        allCompleted = false;
        continue;
      }
      double seconds = Double.parseDouble(r.get("seconds"));
      double vs4g = seconds / Math.exp(logT[k]);
      long anon = Long.parseLong(r.get("anon_rss_mb"));
      System.out.printf(Locale.ROOT, "%8d %8.2f %10.2fx %5s %12s %17d %13s%n", n, seconds, vs4g, r.get("runs"),
          r.get("rss_mb"), anon, r.get("live_heap_mb"));
      minSmallAnon = Math.min(minSmallAnon, anon);
      maxSmallAnon = Math.max(maxSmallAnon, anon);
      if (k == sizes.size() - 1) {
        slowdownLargest = vs4g;
      }
    }
    targets.add(BenchSupport.target("topn_every_n_completes_with_" + SMALL_HEAP + "_heap", allCompleted ? 1 : 0,
        ">=", 1));
    if (allCompleted && sizes.size() >= 2) {
      targets.add(BenchSupport.target("topn_peak_anon_rss_growth_largest_over_smallest_n_" + SMALL_HEAP + "_heap",
          (double) maxSmallAnon / minSmallAnon, "<=", 1.5));
      targets.add(BenchSupport.target("topn_largest_n_time_" + SMALL_HEAP + "_heap_over_4g_heap", slowdownLargest,
          "<=", 1.10));
    }

    int mllibN = sizes.get(0);
    System.out.println();
    System.out.println("MLlib BlockMatrix.multiply(transpose) + per-row top-" + TOP_N + " vs itemsim, n=" + mllibN);
    Map<String, String> mine = BenchSupport.child("4g", TopNBench.class, "child", "itemsim",
        Integer.toString(mllibN), Integer.toString(block), "1");
    Map<String, String> mllib = BenchSupport.child("12g", TopNBench.class, "child", "mllib",
        Integer.toString(mllibN), Integer.toString(block), "1");
    double speedup = Double.parseDouble(mllib.get("seconds")) / Double.parseDouble(mine.get("seconds"));
    double memoryRatio = Double.parseDouble(mllib.get("rss_mb")) / Double.parseDouble(mine.get("rss_mb"));
    System.out.printf(Locale.ROOT, "  itemsim: %.2f s, peak RSS %s MB, shuffle %s MB%n",
        Double.parseDouble(mine.get("seconds")), mine.get("rss_mb"), mine.get("shuffle_mb"));
    System.out.printf(Locale.ROOT, "  MLlib:   %.2f s, peak RSS %s MB, shuffle %s MB%n",
        Double.parseDouble(mllib.get("seconds")), mllib.get("rss_mb"), mllib.get("shuffle_mb"));
    System.out.printf(Locale.ROOT, "  itemsim is %.1fx faster with %.1fx less peak memory%n", speedup, memoryRatio);
    targets.add(BenchSupport.target("topn_speedup_vs_mllib_blockmatrix", speedup, ">=", 10));
    targets.add(BenchSupport.target("topn_memory_ratio_vs_mllib_blockmatrix", memoryRatio, ">=", 10));
  }

  /**
   * itemsim against Spark 4.2's {@code NEAREST BY} self-join at each of {@code sizes}, and at {@code extra} when
   * the largest size's NEAREST BY time, scaled by the exponent measured over {@code sizes} (at least 2: the
   * join is a cross product), stays within {@code budgetSeconds}. Each runs in its own JVM on the same
   * vectors with the same session; both are timed as a whole Spark job that brings every item's top-N to the
   * driver, and their lists are compared.
   */
  private static void againstNearestBy(List<Integer> sizes, int extra, double budgetSeconds, int nearestReps,
      int block, int reps, List<String> targets) throws java.io.IOException {
    Path dir = Files.createDirectories(Path.of("target", "bench-nearest-by"));
    System.out.println();
    System.out.println("Spark 4.2 NEAREST BY self-join vs itemsim: same vectors, same session (local[2]), each in its "
        + "own JVM with a " + NEAREST_BY_HEAP + " heap, each timed as the whole job bringing every top-" + TOP_N
        + " to the driver");
    System.out.println("  Spark: " + NEAREST_BY_QUERY + ", self pair dropped; median of " + nearestReps
        + " after an untimed run over the first " + NEAREST_BY_WARMUP_ITEMS + " items");
    System.out.println("  lists compared per item: same neighbour ids, scores within " + SCORE_TOLERANCE
        + ", ids of tied scores as sets (files in " + dir + ")");
    System.out.println("       n  itemsim_s  itemsim_rss_MB  nearest_by_s  nearest_by_rss_MB  speedup  "
        + "memory_ratio  top" + TOP_N);
    Map<Integer, NearestByPoint> points = new java.util.LinkedHashMap<>();
    for (int n : sizes) {
      points.put(n, nearestByPoint(n, block, reps, nearestReps, dir));
    }
    int largest = sizes.get(sizes.size() - 1);
    if (extra > 0 && !sizes.contains(extra)) {
      double exponent = 2;
      if (sizes.size() >= 2) {
        double[] logN = sizes.stream().mapToDouble(Math::log).toArray();
        double[] logT = sizes.stream().mapToDouble(n -> Math.log(points.get(n).nearestSeconds())).toArray();
        exponent = Math.max(2, slope(logN, logT));
      }
      double projected = points.get(largest).nearestSeconds() * Math.pow((double) extra / largest, exponent);
      // the spill grows with the n² joined rows Spark sorts for its aggregate; half the free space at most
      double spillGb = points.get(largest).nearestSpillMb() / 1e3 * Math.pow((double) extra / largest, 2);
      Path spillDir = Path.of(System.getenv().getOrDefault("SPARK_LOCAL_DIRS", System.getProperty("java.io.tmpdir"))
          .split(",")[0]);
      double freeGb = Files.getFileStore(spillDir).getUsableSpace() / 1e9;
      boolean within = projected <= budgetSeconds && spillGb <= freeGb / 2;
      System.out.printf(Locale.ROOT, "  n=%d: NEAREST BY projected at %.0f s (%.1f s at n=%d x (%d/%d)^%.2f, the "
          + "exponent measured over %s, at least 2; budget %.0f s) and %.1f GB of sort spill (%.0f GB free in %s, "
          + "half of it allowed): %s%n", extra, projected, points.get(largest).nearestSeconds(), largest, extra,
          largest, exponent, sizes, budgetSeconds, spillGb, freeGb, spillDir,
          within ? "within both, measuring it" : "over, skipped");
      if (within) {
        points.put(extra, nearestByPoint(extra, block, reps, nearestReps, dir));
      }
    }
    if (points.size() >= 2) {
      double[] logN = points.keySet().stream().mapToDouble(Math::log).toArray();
      double[] logT = points.values().stream().mapToDouble(p -> Math.log(p.nearestSeconds())).toArray();
      System.out.printf(Locale.ROOT, "  NEAREST BY time ~ n^%.2f over %s%n", slope(logN, logT), points.keySet());
    }
    boolean allEqual = points.values().stream().allMatch(NearestByPoint::equal);
    System.out.println("  top-" + TOP_N + " lists of NEAREST BY and itemsim: " + (allEqual ? "EQUAL" : "NOT EQUAL")
        + " at every n measured (" + points.keySet() + ")");
    int goalN = sizes.contains(2_000) ? 2_000 : largest;
    targets.add(BenchSupport.ratioTarget("topn_vs_spark_nearest_by_" + sizeLabel(goalN),
        points.get(goalN).speedup(), ">=", 100));
  }

  /** One n of {@link #againstNearestBy}: itemsim, then NEAREST BY, each in a child JVM, then their lists compared. */
  private static NearestByPoint nearestByPoint(int n, int block, int reps, int nearestReps, Path dir) {
    Path mineFile = dir.resolve("itemsim-n" + n + ".txt");
    Path sparkFile = dir.resolve("nearest-by-n" + n + ".txt");
    Map<String, String> mine = BenchSupport.child("4g", TopNBench.class, "child", "itemsim-lists",
        Integer.toString(n), Integer.toString(block), Integer.toString(reps), mineFile.toString());
    Map<String, String> spark = BenchSupport.child(NEAREST_BY_HEAP, TopNBench.class, "child", "nearest-by",
        Integer.toString(n), Integer.toString(block), Integer.toString(nearestReps), sparkFile.toString());
    NeighborLists.Comparison lists = NeighborLists.compare(NeighborLists.read(mineFile, n),
        NeighborLists.read(sparkFile, n), SCORE_TOLERANCE);
    NearestByPoint point = new NearestByPoint(n, Double.parseDouble(mine.get("seconds")),
        Long.parseLong(mine.get("rss_mb")), Double.parseDouble(spark.get("seconds")),
        Long.parseLong(spark.get("rss_mb")), Double.parseDouble(spark.get("spill_mb")), lists.equal());
    System.out.printf(Locale.ROOT, "%8d %10.3f %15d %13.2f %18d %7.1fx %12.1fx  %s%n", n, point.itemsimSeconds(),
        point.itemsimRssMb(), point.nearestSeconds(), point.nearestRssMb(), point.speedup(),
        (double) point.nearestRssMb() / point.itemsimRssMb(), lists.equal() ? "EQUAL" : "NOT EQUAL");
    System.out.println("           lists: " + lists.describe() + "; self pair missing from " + spark.get("self_missing")
        + " NEAREST BY lists");
    lists.mismatches().stream().limit(5).forEach(m -> System.out.println("             " + m));
    System.out.printf(Locale.ROOT, "           peak anonymous RSS MB: itemsim %s, NEAREST BY %s; shuffle MB per run: "
        + "itemsim %s, NEAREST BY %s; NEAREST BY spilled %s MB to disk%n", mine.get("anon_rss_mb"),
        spark.get("anon_rss_mb"), mine.get("shuffle_mb"), spark.get("shuffle_mb"), spark.get("spill_mb"));
    System.out.println("           NEAREST BY physical plan: " + spark.get("plan").replace(">", " > "));
    return point;
  }

  private record NearestByPoint(int n, double itemsimSeconds, long itemsimRssMb, double nearestSeconds,
      long nearestRssMb, double nearestSpillMb, boolean equal) {
    double speedup() {
      return nearestSeconds / itemsimSeconds;
    }
  }

  private static String sizeLabel(int n) {
    return n % 1000 == 0 ? n / 1000 + "k" : Integer.toString(n);
  }

  private static List<Integer> intList(String csv) {
    return java.util.Arrays.stream(csv.split(",")).map(String::trim).map(Integer::parseInt).toList();
  }

  private static void child(String[] args) throws Exception {
    String mode = args[1];
    int n = Integer.parseInt(args[2]);
    int block = Integer.parseInt(args[3]);
    int reps = Integer.parseInt(args[4]);
    switch (mode) {
      case "sgemm" -> sgemmPeak(block, reps);
      case "itemsim" -> itemsim(n, block, reps, args.length > 5 ? Integer.parseInt(args[5]) : WARMUP_RUNS,
          args.length > 6 ? Double.parseDouble(args[6]) : 0, null);
      case "itemsim-lists" -> itemsim(n, block, reps, WARMUP_RUNS, 0, Path.of(args[5]));
      case "nearest-by" -> sparkNearestBy(n, reps, Path.of(args[5]));
      case "mllib" -> mllib(n, block);
      default -> throw new IllegalArgumentException(mode);
    }
  }

  /** Two threads (one per core), each multiplying block × blockᵀ with one BLAS thread, for ~2 s per rep. */
  private static void sgemmPeak(int block, int reps) throws Exception {
    MatMulKernel kernel = Kernels.select(KERNEL);
    List<float[]> vectors = randomUnitVectors(block, 1);
    float[] a = VectorBlocks.of(vectors, DIM, block).block(0);
    double gflops = BenchSupport.median(reps, () -> {
      AtomicLong products = new AtomicLong();
      long end = System.nanoTime() + 2_000_000_000L;
      long t0 = System.nanoTime();
      Runnable loop = () -> {
        float[] c = new float[block * block];
        while (System.nanoTime() < end) {
          kernel.multiplyTransposed(a, block, a, block, DIM, c);
          products.incrementAndGet();
        }
      };
      BenchSupport.inParallel(loop, loop);
      double seconds = (System.nanoTime() - t0) / 1e9;
      return products.get() * 2.0 * block * block * DIM / seconds / 1e9;
    });
    dev.itemsim.similarity.NativeBlas.Binding blas = dev.itemsim.similarity.NativeBlas.bind(
        dev.itemsim.similarity.NativeBlas.configuredSource());
    BenchSupport.result("gflops", String.format(Locale.ROOT, "%.2f", gflops), "kernel", kernel.name(), "native",
        Boolean.toString(blas.isNative()), "blas", blas.library());
  }

  /**
   * itemsim as the job runs it: vectors generated on the executors, written there as block files (untimed,
   * like encoding), then the timed top-N, whose tasks read only the blocks they multiply. No JVM holds all n
   * vectors, so peak RSS should not grow with n. With {@code lists} the timed runs bring the merged lists to
   * the driver (as a NEAREST BY query's result comes) instead of counting them, and the last run's lists are
   * written there.
   */
  private static void itemsim(int n, int block, int reps, int warmups, double minSeconds, Path lists)
      throws Exception {
    BenchSupport.watchLiveHeap();
    BenchSupport.watchAnonRss();
    SparkSession spark = session();
    AtomicLong shuffle = shuffleCounter(spark);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Path dir = Files.createTempDirectory(Path.of("target"), "bench-blocks-");
    BlockFiles files = BlockFiles.write(generatedVectors(jsc, n), n, DIM, block, dir.resolve("blocks").toString(),
        jsc.hadoopConfiguration());
    Thread.sleep(500);  // let the listener see the block-writing tasks before the top-N shuffle is counted
    shuffle.set(0);
    AtomicReference<List<Tuple2<Integer, TopNBuffer>>> collected = new AtomicReference<>();
    java.util.function.DoubleSupplier run = () -> {
      long t0 = System.nanoTime();
      long count;
      try (BlockedTopN.Computation topN = BlockedTopN.open(jsc, files, TOP_N, KERNEL, null)) {
        if (lists == null) {
          count = topN.buffers().count();
        } else {
          collected.set(topN.buffers().collect());
          count = collected.get().size();
        }
      }
      if (count != files.numBlocks()) {
        throw new IllegalStateException("expected " + files.numBlocks() + " blocks, got " + count);
      }
      return (System.nanoTime() - t0) / 1e9;
    };
    // untimed warm-up (JIT): up to `warmups` runs, stopping once WARMUP_SECONDS have gone by; short runs
    // are noisier, so they get at least SHORT_RUN_REPS repetitions
    long warmupEnd = System.nanoTime() + (long) (WARMUP_SECONDS * 1e9);
    double last = Double.MAX_VALUE;
    for (int w = 0; w < warmups && System.nanoTime() < warmupEnd; w++) {
      last = run.getAsDouble();
    }
    int timed = last < SHORT_RUN_SECONDS ? Math.max(reps, SHORT_RUN_REPS) : reps;
    long start = System.nanoTime();
    double seconds = BenchSupport.median(timed, run);
    // keep computing (untimed) until minSeconds have passed: memory is then compared across n in the same
    // steady state, not a 2 s run against a 90 s one
    int extra = 0;
    while ((System.nanoTime() - start) / 1e9 < minSeconds) {
      run.getAsDouble();
      extra++;
    }
    Thread.sleep(500);
    BenchSupport.result("seconds", String.format(Locale.ROOT, "%.3f", seconds), "rss_mb", BenchSupport.peakRssMb(),
        "shuffle_mb", String.format(Locale.ROOT, "%.1f", shuffle.get() / 1e6 / (timed + extra)), "reps",
        Integer.toString(timed), "runs", Integer.toString(timed + extra),
        "live_heap_mb", Long.toString(BenchSupport.peakLiveHeapMb()), "anon_rss_mb",
        Long.toString(BenchSupport.peakAnonRssMb()), "native", Boolean.toString(blasBound().isNative()), "blas",
        blasBound().library());
    if (lists != null) {
      itemsimLists(collected.get(), n, files.blockSize()).write(lists);
    }
    files.delete();
    spark.stop();
  }

  /** The bench's vectors, n of them, generated lazily on the executors: about 10k per partition, like encoding. */
  private static JavaPairRDD<Long, float[]> generatedVectors(JavaSparkContext jsc, int n) {
    int parts = Math.max(8, n / 10_000);
    List<Integer> partitions = java.util.stream.IntStream.range(0, parts).boxed().toList();
    return jsc.parallelize(partitions, parts).flatMapToPair(p -> {
      long from = (long) n * p / parts;
      long to = (long) n * (p + 1) / parts;
      SplittableRandom random = new SplittableRandom(7 + p);
      return java.util.stream.LongStream.range(from, to)
          .mapToObj(g -> new Tuple2<>(g, randomUnitVector(random))).iterator();
    });
  }

  private static NeighborLists itemsimLists(List<Tuple2<Integer, TopNBuffer>> blocks, int n, int blockSize) {
    NeighborLists lists = new NeighborLists(n);
    int[] ids = new int[TOP_N];
    float[] scores = new float[TOP_N];
    for (Tuple2<Integer, TopNBuffer> block : blocks) {
      TopNBuffer buffer = block._2();
      for (int r = 0; r < buffer.rows(); r++) {
        int count = buffer.sorted(r, ids, scores);
        lists.set(block._1() * blockSize + r, Arrays.copyOf(ids, count), Arrays.copyOf(scores, count));
      }
    }
    return lists;
  }

  /**
   * Spark 4.2's own top-N on the vectors {@link #itemsim} uses (generated the same way), written untimed as
   * Parquet {@code (id bigint, e array<float>)} as a job's embeddings would be, then the timed
   * {@link #NEAREST_BY_QUERY} over them, collected. Spark's optimizer rewrites the join (RewriteNearestByJoin)
   * into a cross product of the query rows, each tagged with a uuid, with all rows, grouped by that uuid with
   * a top-k aggregate, {@code max_by(struct(t.*), similarity, k)}: n² cosines on rows, the vectors of the kept
   * candidates carried through the aggregation.
   */
  private static void sparkNearestBy(int n, int reps, Path lists) throws Exception {
    BenchSupport.watchLiveHeap();
    BenchSupport.watchAnonRss();
    SparkSession spark = session();
    AtomicLong shuffle = shuffleCounter(spark);
    AtomicLong spill = taskMetricCounter(spark, TaskMetrics::diskBytesSpilled);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Path dir = Files.createTempDirectory(Path.of("target"), "bench-nearest-");
    String items = dir.resolve("items.parquet").toString();
    StructType schema = new StructType().add("id", DataTypes.LongType, false)
        .add("e", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    JavaRDD<Row> rows = generatedVectors(jsc, n).map(v -> RowFactory.create(v._1(), v._2()));
    spark.createDataFrame(rows, schema).write().parquet(items);
    spark.read().parquet(items).where("id < " + NEAREST_BY_WARMUP_ITEMS).createOrReplaceTempView("items");
    spark.sql(NEAREST_BY_QUERY).collectAsList();
    spark.read().parquet(items).createOrReplaceTempView("items");
    Thread.sleep(500);
    shuffle.set(0);
    spill.set(0);
    AtomicReference<Dataset<Row>> query = new AtomicReference<>();
    AtomicReference<List<Row>> result = new AtomicReference<>();
    double seconds = BenchSupport.median(reps, () -> {
      long t0 = System.nanoTime();
      Dataset<Row> top = spark.sql(NEAREST_BY_QUERY);
      result.set(top.collectAsList());
      query.set(top);
      return (System.nanoTime() - t0) / 1e9;
    });
    Thread.sleep(500);
    int selfMissing = nearestByLists(result.get(), n, lists);
    BenchSupport.result("seconds", String.format(Locale.ROOT, "%.3f", seconds), "rss_mb", BenchSupport.peakRssMb(),
        "shuffle_mb", String.format(Locale.ROOT, "%.1f", shuffle.get() / 1e6 / reps),
        "spill_mb", String.format(Locale.ROOT, "%.1f", spill.get() / 1e6 / reps),
        "live_heap_mb", Long.toString(BenchSupport.peakLiveHeapMb()), "anon_rss_mb",
        Long.toString(BenchSupport.peakAnonRssMb()), "self_missing", Integer.toString(selfMissing),
        "plan", operators(query.get().queryExecution().executedPlan().treeString()));
    spark.stop();
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /**
   * Writes each item's NEAREST BY rows as its list: best first (ties to the lower id), the self pair dropped,
   * at most N kept. Returns how many items' rows lacked the self pair (possible only when more than N other
   * vectors tie with it at cosine 1; then the N best others are kept all the same).
   */
  private static int nearestByLists(List<Row> rows, int n, Path file) {
    if (rows.size() != n * (TOP_N + 1)) {
      throw new IllegalStateException("NEAREST BY returned " + rows.size() + " rows, expected " + n * (TOP_N + 1));
    }
    List<List<Row>> byItem = new ArrayList<>(n);
    for (int q = 0; q < n; q++) {
      byItem.add(new ArrayList<>(TOP_N + 1));
    }
    rows.forEach(r -> byItem.get((int) r.getLong(0)).add(r));
    NeighborLists lists = new NeighborLists(n);
    int selfMissing = 0;
    for (int q = 0; q < n; q++) {
      List<Row> candidates = byItem.get(q);
      candidates.sort(java.util.Comparator.<Row>comparingDouble(r -> -r.getFloat(2)).thenComparingLong(r -> r.getLong(1)));
      int[] ids = new int[TOP_N];
      float[] scores = new float[TOP_N];
      int kept = 0;
      boolean self = false;
      for (Row r : candidates) {
        if (r.getLong(1) == q) {
          self = true;
        } else if (kept < TOP_N) {
          ids[kept] = (int) r.getLong(1);
          scores[kept++] = r.getFloat(2);
        }
      }
      selfMissing += self ? 0 : 1;
      lists.set(q, Arrays.copyOf(ids, kept), Arrays.copyOf(scores, kept));
    }
    lists.write(file);
    return selfMissing;
  }

  /**
   * The operator names of a physical plan's tree string, top down and joined by '>' (one token, for a RESULT
   * line); for an adaptive plan, those of its final plan.
   */
  private static String operators(String treeString) {
    List<String> names = new ArrayList<>();
    for (String line : treeString.split("\n")) {
      if (line.contains("== Initial Plan ==")) {
        break;
      }
      String node = line.replaceFirst("^[\\s:+|-]*", "").replaceFirst("^\\*\\(\\d+\\)\\s*", "");
      String name = node.split("[\\s(\\[]", 2)[0];
      if (!name.isEmpty() && !name.startsWith("==") && !name.equals("AdaptiveSparkPlan")
          && !name.endsWith("QueryStage")) {
        names.add(name);
      }
    }
    return String.join(">", names);
  }

  /** The textbook Spark way: BlockMatrix product with its transpose, then top-N of every product row. */
  private static void mllib(int n, int block) {
    SparkSession spark = session();
    AtomicLong shuffle = shuffleCounter(spark);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<float[]> vectors = randomUnitVectors(n, 7);
    List<IndexedRow> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      double[] v = new double[DIM];
      for (int k = 0; k < DIM; k++) {
        v[k] = vectors.get(i)[k];
      }
      rows.add(new IndexedRow(i, org.apache.spark.mllib.linalg.Vectors.dense(v)));
    }
    JavaRDD<IndexedRow> rdd = jsc.parallelize(rows, 8);
    long t0 = System.nanoTime();
    BlockMatrix m = new IndexedRowMatrix(rdd.rdd()).toBlockMatrix(block, block).cache();
    BlockMatrix product = m.multiply(m.transpose());
    long kept = product.toIndexedRowMatrix().rows().toJavaRDD().map(row -> {
      double[] values = row.vector().toArray();
      int self = (int) row.index();
      int[] best = new int[TOP_N];
      double[] bestScore = new double[TOP_N];
      java.util.Arrays.fill(bestScore, Double.NEGATIVE_INFINITY);
      for (int j = 0; j < values.length; j++) {
        if (j == self || values[j] <= bestScore[TOP_N - 1]) {
          continue;
        }
        int pos = TOP_N - 1;
        while (pos > 0 && bestScore[pos - 1] < values[j]) {
          bestScore[pos] = bestScore[pos - 1];
          best[pos] = best[pos - 1];
          pos--;
        }
        bestScore[pos] = values[j];
        best[pos] = j;
      }
      return best.length;
    }).count();
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (kept != n) {
      throw new IllegalStateException("expected " + n + " rows, got " + kept);
    }
    BenchSupport.result("seconds", String.format(Locale.ROOT, "%.3f", seconds), "rss_mb", BenchSupport.peakRssMb(),
        "shuffle_mb", String.format(Locale.ROOT, "%.1f", shuffle.get() / 1e6));
    spark.stop();
  }

  private static dev.itemsim.similarity.NativeBlas.Binding blasBound() {
    return dev.itemsim.similarity.NativeBlas.bind(dev.itemsim.similarity.NativeBlas.configuredSource());
  }

  private static SparkSession session() {
    return SparkSession.builder().master("local[2]").appName("bench-topn")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.plugins", dev.itemsim.similarity.NativeBlasPlugin.class.getName())
        .config(dev.itemsim.similarity.NativeBlas.SPARK_CONF, dev.itemsim.similarity.NativeBlas.configuredSource())
        .getOrCreate();
  }

  private static AtomicLong shuffleCounter(SparkSession spark) {
    return taskMetricCounter(spark, m -> m.shuffleWriteMetrics().bytesWritten());
  }

  /** Sum of {@code metric} over every task that ends from now on. */
  private static AtomicLong taskMetricCounter(SparkSession spark, ToLongFunction<TaskMetrics> metric) {
    AtomicLong total = new AtomicLong();
    spark.sparkContext().addSparkListener(new SparkListener() {
      @Override
      public void onTaskEnd(SparkListenerTaskEnd end) {
        if (end.taskMetrics() != null) {
          total.addAndGet(metric.applyAsLong(end.taskMetrics()));
        }
      }
    });
    return total;
  }

  static List<float[]> randomUnitVectors(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<float[]> vectors = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      vectors.add(randomUnitVector(random));
    }
    return vectors;
  }

  private static float[] randomUnitVector(SplittableRandom random) {
    float[] v = new float[DIM];
    for (int k = 0; k < DIM; k++) {
      v[k] = (float) (random.nextDouble() * 2 - 1);
    }
    return Vectors.normalize(v);
  }

  private static double slope(double[] x, double[] y) {
    double mx = 0;
    double my = 0;
    for (int i = 0; i < x.length; i++) {
      mx += x[i] / x.length;
      my += y[i] / y.length;
    }
    double num = 0;
    double den = 0;
    for (int i = 0; i < x.length; i++) {
      num += (x[i] - mx) * (y[i] - my);
      den += (x[i] - mx) * (x[i] - mx);
    }
    return num / den;
  }
}
