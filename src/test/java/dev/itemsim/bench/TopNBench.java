package dev.itemsim.bench;

import dev.itemsim.embed.Vectors;
import dev.itemsim.similarity.BlockFiles;
import dev.itemsim.similarity.BlockedTopN;
import dev.itemsim.similarity.Kernels;
import dev.itemsim.similarity.MatMulKernel;
import dev.itemsim.similarity.VectorBlocks;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.mllib.linalg.distributed.BlockMatrix;
import org.apache.spark.mllib.linalg.distributed.IndexedRow;
import org.apache.spark.mllib.linalg.distributed.IndexedRowMatrix;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

/**
 * Exact top-N benchmark: itemsim's blocked top-N on Spark local[2] against the machine's sgemm peak on the
 * same block shapes, and against MLlib's BlockMatrix.multiply(transpose) + per-row top-N. Every
 * measurement runs in its own JVM so peak RSS is that measurement's alone.
 *
 * <p>Usage: {@code TopNBench [--sizes 20000,50000,100000,200000] [--reps 3] [--block 8192]}.
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

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("child")) {
      child(args);
      return;
    }
    List<Integer> sizes = List.of(20_000, 50_000, 100_000, 200_000);
    int reps = 3;
    int block = 8192;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--sizes" -> sizes = java.util.Arrays.stream(args[i + 1].split(",")).map(Integer::parseInt).toList();
        case "--reps" -> reps = Integer.parseInt(args[i + 1]);
        case "--block" -> block = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    System.out.println("bench-topn on " + BenchSupport.machine());
    System.out.printf(Locale.ROOT, "inputs: random unit vectors, d=%d, N=%d, block=%d, Spark local[2], "
        + "OPENBLAS_NUM_THREADS=1, heap 4g per JVM, median of %d (of %d when a run takes under %.0f s) after up to "
        + "%d untimed warm-up runs (at most %.0f s of them)%n", DIM, TOP_N, block, reps, SHORT_RUN_REPS,
        SHORT_RUN_SECONDS, WARMUP_RUNS, WARMUP_SECONDS);

    Map<String, String> peak = BenchSupport.child("1g", TopNBench.class, "child", "sgemm", "0",
        Integer.toString(block), Integer.toString(reps));
    double peakGflops = Double.parseDouble(peak.get("gflops"));
    System.out.printf(Locale.ROOT, "sgemm peak, 2 threads x (%d x %d x %d), %s: %.1f GFLOP/s%n", block, DIM, block,
        peak.get("kernel"), peakGflops);

    List<String> targets = new ArrayList<>();
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
    System.out.println();
    targets.forEach(System.out::println);
  }

  private static void child(String[] args) throws Exception {
    String mode = args[1];
    int n = Integer.parseInt(args[2]);
    int block = Integer.parseInt(args[3]);
    int reps = Integer.parseInt(args[4]);
    switch (mode) {
      case "sgemm" -> sgemmPeak(block, reps);
      case "itemsim" -> itemsim(n, block, reps, args.length > 5 ? Integer.parseInt(args[5]) : WARMUP_RUNS,
          args.length > 6 ? Double.parseDouble(args[6]) : 0);
      case "mllib" -> mllib(n, block);
      default -> throw new IllegalArgumentException(mode);
    }
  }

  /** Two threads (one per core), each multiplying block × blockᵀ with one BLAS thread, for ~2 s per rep. */
  private static void sgemmPeak(int block, int reps) throws Exception {
    MatMulKernel kernel = Kernels.select("native-blas");
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
    BenchSupport.result("gflops", String.format(Locale.ROOT, "%.2f", gflops), "kernel", kernel.name());
  }

  /**
   * itemsim as the job runs it: vectors generated on the executors, written there as block files (untimed,
   * like encoding), then the timed top-N, whose tasks read only the blocks they multiply. No JVM holds all n
   * vectors, so peak RSS should not grow with n.
   */
  private static void itemsim(int n, int block, int reps, int warmups, double minSeconds) throws Exception {
    BenchSupport.watchLiveHeap();
    BenchSupport.watchAnonRss();
    SparkSession spark = session();
    AtomicLong shuffle = shuffleCounter(spark);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory(java.nio.file.Path.of("target"), "bench-blocks-");
    // about 10k vectors per partition, like the job's encode partitions, each generated lazily
    int parts = Math.max(8, n / 10_000);
    List<Integer> partitions = java.util.stream.IntStream.range(0, parts).boxed().toList();
    JavaPairRDD<Long, float[]> vectors = jsc.parallelize(partitions, parts).flatMapToPair(p -> {
      long from = (long) n * p / parts;
      long to = (long) n * (p + 1) / parts;
      SplittableRandom random = new SplittableRandom(7 + p);
      return java.util.stream.LongStream.range(from, to)
          .mapToObj(g -> new Tuple2<>(g, randomUnitVector(random))).iterator();
    });
    BlockFiles files = BlockFiles.write(vectors, n, DIM, block, dir.resolve("blocks").toString(),
        jsc.hadoopConfiguration());
    Thread.sleep(500);  // let the listener see the block-writing tasks before the top-N shuffle is counted
    shuffle.set(0);
    java.util.function.DoubleSupplier run = () -> {
      long t0 = System.nanoTime();
      long count = BlockedTopN.compute(jsc, files, TOP_N, "native-blas").count();
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
        Long.toString(BenchSupport.peakAnonRssMb()));
    files.delete();
    spark.stop();
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

  private static SparkSession session() {
    return SparkSession.builder().master("local[2]").appName("bench-topn")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.plugins", dev.itemsim.similarity.NativeBlasPlugin.class.getName()).getOrCreate();
  }

  private static AtomicLong shuffleCounter(SparkSession spark) {
    AtomicLong bytes = new AtomicLong();
    spark.sparkContext().addSparkListener(new SparkListener() {
      @Override
      public void onTaskEnd(SparkListenerTaskEnd end) {
        if (end.taskMetrics() != null) {
          bytes.addAndGet(end.taskMetrics().shuffleWriteMetrics().bytesWritten());
        }
      }
    });
    return bytes;
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
