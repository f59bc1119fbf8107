package dev.itemsim.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.itemsim.config.ConfigLoader;
import dev.itemsim.config.TypedConfig;
import dev.itemsim.similarity.NeighborSearch;
import dev.itemsim.similarity.Ranking;
import dev.itemsim.similarity.Retriever;
import dev.itemsim.similarity.Retrievers;
import dev.itemsim.similarity.SearchRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The hybrid scorer at scale with a small driver heap (issue 13): a synthetic catalogue of {@code --items}
 * products ({@link SyntheticItems}: texts from the job's template, clustered synthetic embeddings, so encoding
 * is not timed), prepared once in its own JVM and kept under {@code --work}, then ranked by the default hybrid
 * scorer (top-10, default options) in a fresh JVM with {@code --heap} (default 2g) on Spark {@code local[2]}
 * — the executors run inside that JVM and share its heap, so the driver and both task slots live in the
 * 2 GB. Timed: reading the items, the whole hybrid search (TF-IDF, shards, embedding candidates, lexical
 * candidates, exact re-scoring) and writing the lists as Parquet. The embedding side uses
 * {@code similarity.method = auto} when the build has approximate search (issue 13, part A); without it the
 * exact all-pairs product would dominate (about 30 minutes at 1M), so sizes above {@value #EXACT_LIMIT} items
 * are refused unless {@code --allow-exact}.
 *
 * <p>{@code --executors separate} runs the same search with the driver alone in the {@code --heap} JVM and two
 * executor JVMs of one core and {@code --executor-heap} each (Spark's {@code local-cluster} master, the
 * executors started from this classpath through an empty stand-in {@code SPARK_HOME}).
 *
 * <p>Prints the machine, the time, the driver JVM's peak RSS and heap after GC, and {@code TARGET
 * hybrid_<n>_completes_with_<heap>_heap value=1|0 goal>=1}.
 *
 * <p>Usage: {@code HybridScaleBench [--items 1000000] [--heap 2g] [--work target/bench-scale-hybrid]
 * [--method auto] [--allow-exact] [--executors shared|separate] [--executor-heap 2g]}; {@code --quick} is
 * {@code --items 3000}.
 */
public final class HybridScaleBench {
  static final int EXACT_LIMIT = 200_000;
  private static final int TOP_N = 10;

  private HybridScaleBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("child")) {
      child(args);
      return;
    }
    long items = 1_000_000;
    String heap = "2g";
    String work = "target/bench-scale-hybrid";
    String method = "auto";
    boolean allowExact = false;
    String executors = "shared";
    String executorHeap = "2g";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--items" -> items = Long.parseLong(args[++i]);
        case "--heap" -> heap = args[++i];
        case "--work" -> work = args[++i];
        case "--method" -> method = args[++i];
        case "--allow-exact" -> allowExact = true;
        case "--executors" -> executors = args[++i];
        case "--executor-heap" -> executorHeap = args[++i];
        case "--quick" -> items = 3_000;
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + " (--items N, --heap 2g, --work DIR, --method auto|ivf|exact, --allow-exact, --executors "
            + "shared|separate, --executor-heap 2g, --quick)");
      }
    }
    if (!executors.equals("shared") && !executors.equals("separate")) {
      throw new IllegalArgumentException("--executors must be shared or separate, got " + executors);
    }
    boolean approximate = Retrievers.keys().contains("similarity.method");
    if ((!approximate || method.equals("exact")) && items > EXACT_LIMIT && !allowExact) {
      System.err.println("This build has no approximate embedding search (similarity.method, issue 13 part A): the "
          + "hybrid's embedding candidates would come from the exact all-pairs product, about 30 minutes at 1M "
          + "items. Merge it first, or pass --allow-exact, or use --items " + EXACT_LIMIT + " or fewer.");
      System.exit(2);
    }
    System.out.println("bench-scale --only hybrid on " + BenchSupport.machine());
    String itemsDir = Path.of(work, "items-" + items).toAbsolutePath().toString();
    if (!Files.exists(Path.of(itemsDir, "_SUCCESS"))) {
      System.out.println("preparing " + items + " synthetic items with embeddings in " + itemsDir + " (untimed) ...");
      BenchSupport.child("4g", HybridScaleBench.class, "child", "prepare", Long.toString(items), itemsDir);
    } else {
      System.out.println("reusing the synthetic items in " + itemsDir);
    }
    String embeddingSide = approximate ? "similarity.method = " + method : "exact (no similarity.method in this build)";
    String master;
    Map<String, String> env = new LinkedHashMap<>();
    if (executors.equals("shared")) {
      master = "local[2]";
      System.out.printf(Locale.ROOT, "hybrid scorer (default options, top-%d), embedding candidates: %s; Spark "
          + "local[2] in one JVM with -Xmx%s: driver and executors share that heap%n", TOP_N, embeddingSide, heap);
    } else {
      long executorMb = megabytes(executorHeap);
      master = "local-cluster[2,1," + executorMb + "]";
      Path sparkHome = Path.of(work, "spark-home").toAbsolutePath();
      Files.createDirectories(sparkHome.resolve("jars"));
      env.put("SPARK_HOME", sparkHome.toString());
      env.put("SPARK_SCALA_VERSION", "2.13");
      System.out.printf(Locale.ROOT, "hybrid scorer (default options, top-%d), embedding candidates: %s; driver "
          + "JVM -Xmx%s, two executor JVMs of one core and %d MB (Spark %s)%n", TOP_N, embeddingSide, heap, executorMb,
          master);
    }
    Map<String, String> r;
    boolean completed;
    try {
      r = BenchSupport.child(heap, env, HybridScaleBench.class, "child", "run", itemsDir,
          Path.of(work, "run").toAbsolutePath().toString(), approximate ? method : "", master, executorHeap);
      completed = Long.parseLong(r.get("rows")) > 0;
    } catch (IllegalStateException e) {
      System.out.println("failed: " + e.getMessage());
      r = Map.of();
      completed = false;
    }
    if (completed) {
      System.out.printf(Locale.ROOT, "n=%d: hybrid top-%d in %.1f s (%s rows), peak RSS %s MB, heap after GC at "
              + "most %s MB, %s%n", items, TOP_N, Double.parseDouble(r.get("seconds")), r.get("rows"), r.get("rss_mb"),
          r.get("live_heap_mb"), r.get("facts"));
    }
    System.out.println();
    System.out.println(BenchSupport.target("hybrid_" + label(items) + "_completes_with_" + heap
        + (executors.equals("shared") ? "_heap" : "_driver_heap_separate_executors"), completed ? 1 : 0, ">=", 1));
  }

  private static long megabytes(String heap) {
    String h = heap.toLowerCase(Locale.ROOT);
    long n = Long.parseLong(h.replaceAll("[^0-9]", ""));
    return h.endsWith("g") ? n * 1024 : h.endsWith("m") ? n : n / (1 << 20);
  }

  private static String label(long items) {
    return items % 1_000_000 == 0 ? items / 1_000_000 + "m" : items % 1000 == 0 ? items / 1000 + "k" : Long.toString(items);
  }

  private static void child(String[] args) throws Exception {
    String master = args.length > 5 ? args[5] : "local[2]";
    SparkSession.Builder builder = SparkSession.builder().master(master).appName("bench-scale-hybrid")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.plugins", dev.itemsim.similarity.NativeBlasPlugin.class.getName());
    if (master.startsWith("local-cluster")) {
      builder.config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
          .config("spark.executor.memory", args[6])
          .config("spark.executor.extraJavaOptions", "--add-modules jdk.incubator.vector -Dai.djl.offline=true "
              + "-Dai.djl.onnx.disable_alternative=true -Dlog4j2.configurationFile=conf/log4j2-test.properties")
          .config("spark.executorEnv.OPENBLAS_NUM_THREADS", "1");
    }
    SparkSession spark = builder.getOrCreate();
    try {
      if (args[1].equals("prepare")) {
        SyntheticItems.write(spark, Long.parseLong(args[2]), args[3]);
        return;
      }
      BenchSupport.watchLiveHeap();
      String itemsDir = args[2];
      String runDir = args[3];
      String method = args.length > 4 ? args[4] : "";
      Map<String, Object> settings = new LinkedHashMap<>();
      settings.put("similarity.scorer", "hybrid");
      settings.put("similarity.topN", TOP_N);
      if (!method.isEmpty()) {
        settings.put("similarity.method", method);
      }
      Config config = ConfigFactory.parseMap(settings).withFallback(ConfigLoader.defaults()).resolve();
      Retriever retriever = Retrievers.fromConfig(new TypedConfig(config));
      NeighborSearch.Options options = new NeighborSearch.Options(TOP_N, -1f, SearchRequest.FilterColumns.NONE, false);
      deleteRecursively(Path.of(runDir));
      long t0 = System.nanoTime();
      Dataset<Row> items = spark.read().parquet(itemsDir);
      String facts;
      try (Ranking ranking = NeighborSearch.search(spark, retriever, options, items, null, runDir + "/scratch")) {
        ranking.rows().write().parquet(runDir + "/lists");
        facts = ranking.facts().toString().replace(' ', '_');
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      long rows = spark.read().parquet(runDir + "/lists").count();
      BenchSupport.result("seconds", String.format(Locale.ROOT, "%.1f", seconds), "rows", rows,
          "rss_mb", BenchSupport.peakRssMb(), "live_heap_mb", BenchSupport.peakLiveHeapMb(), "facts", facts);
    } finally {
      spark.stop();
    }
  }

  private static void deleteRecursively(Path dir) throws java.io.IOException {
    if (Files.exists(dir)) {
      try (var paths = Files.walk(dir)) {
        for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }
}
