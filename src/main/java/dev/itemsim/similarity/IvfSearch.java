package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;

import dev.itemsim.InvalidInputException;
import dev.itemsim.config.TypedConfig;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Approximate top-N through inverted lists (IVF), with its recall measured on every run.
 *
 * <ol>
 *   <li><b>Train</b>: spherical k-means centroids, one per list, on the driver over a bounded random sample of
 *       the corpus ({@link CoarseQuantizer}).
 *   <li><b>Lay out</b>: every corpus item is stored in its {@code assignments} nearest lists, every query
 *       notes its nearest lists ({@code nprobe}, or {@code maxNprobe} for auto; computed with the exact
 *       search's kernel), and the executors write each list as segment files of at most a block's rows
 *       ({@link ListSegments}) — one shuffle of the vectors, to their lists.
 *   <li><b>Number</b>: corpus items get their position in id order, so ties go to the lower id as in exact
 *       search: up to {@link #idsOnDriverUpTo} items the training pass gathers the ids, the driver sorts them and
 *       the layout numbers its rows by that broadcast array; above it the executors sort only ids
 *       ({@link ItemNumbers#assign}) and the driver holds no per-item data. Searching one catalogue numbered
 *       as written, the training pass also draws the recall sample ({@link SampledRecall.Draw}) and the list
 *       writers compute its exact lists as they write each segment ({@link SampledRecall.Fused}): the next two
 *       steps then read no list for them.
 *   <li><b>Choose nprobe</b> (auto): the exact top-N of a random sample of queries against the whole corpus,
 *       and the lists its neighbours are stored in, give the recall@N every nprobe up to {@code maxNprobe}
 *       would reach on the sample ({@link SampledRecall#curve}); the search uses the smallest reaching
 *       {@link Options#aimedRecall} on half of the sample, its query rows reading only that many of their
 *       stored probes ({@link ListSegments#probing}).
 *   <li><b>Search</b>: each query's candidates are the items of the lists it probes, scored with the same
 *       kernel, candidate test and top-N lists as exact search, list segment by list segment, in tasks of
 *       bounded work ({@link IvfPlan}, {@link IvfTaskRunner}); partial lists are merged per query segment.
 *   <li><b>Measure</b>: the exact top-N of a random sample of queries against the whole corpus (auto: the
 *       half of its sample that did not choose nprobe; otherwise measured as the lists were written, or
 *       computed now by {@link SampledRecall}, a segment skipped for a query when no row of it can reach the
 *       query's approximate N-th score) gives
 *       recall@N of the approximate lists; below {@code minRecall} the search fails
 *       ({@link RecallBelowMinimumException}) or warns.
 * </ol>
 *
 * <p>The merged lists are kept on the executors in compact form (neighbour numbers and scores by query segment,
 * serialized, in memory or on disk) and the list segment files stay until the ranking is closed: output rows
 * are made from both when read. With every list probed the lists equal exact search's, ties included.
 */
public record IvfSearch(Options options) implements SearchMethod {
  public static final String NAME = "ivf";
  private static final Logger LOG = LoggerFactory.getLogger(IvfSearch.class);
  /**
   * Corpus sizes up to which the ids are gathered on the driver by the sampling pass and items are numbered as
   * the lists are written; above it a distributed pass numbers them ({@link ItemNumbers#assign}). The ids are
   * broadcast to the rows step up to this size anyway. Tests lower it to run the distributed numbering on small
   * corpora.
   */
  static volatile long idsOnDriverUpTo = IvfRanking.BROADCAST_IDS_UP_TO;
  /** The merged lists stay in memory up to this fraction (1/n) of the heap, on disk above it. */
  private static final int MERGED_IN_MEMORY_SHARE = 16;
  /** Vectors per nearest-centroid product while laying out the lists. */
  private static final int ASSIGN_BATCH = 1024;

  /** Approximate lists before corpus ids are joined in: neighbours as corpus item numbers. */
  static final StructType INDEX_SCHEMA = new StructType()
      .add(SearchItems.ID, DataTypes.StringType, false)
      .add("rank", DataTypes.IntegerType, false)
      .add("_neighbor", DataTypes.IntegerType, false)
      .add("score", DataTypes.FloatType, false);

  /**
   * @param lists inverted lists; 0 = the square root of the corpus size ({@code similarity.ivf.lists})
   * @param nprobe lists each query searches ({@code similarity.ivf.nprobe}); {@value #AUTO} = auto: the smallest
   *     number, up to {@code maxNprobe}, whose recall on the recall sample reaches {@code targetRecall}
   * @param sampleSize corpus vectors k-means trains on, on the driver; 0 = 64 per list, at least 10,000 and at
   *     most {@value #MAX_DEFAULT_SAMPLE} (never fewer than the lists)
   * @param iterations k-means iterations at most (it stops once the lists settle)
   * @param assignments lists each corpus item is stored in (its nearest ones)
   * @param seed seed of the training sample, k-means and the recall sample
   * @param recallSample queries whose exact lists measure recall; 0 = not measured (not allowed with auto)
   * @param minRecall recall@N below which the search fails or warns
   * @param onLowRecall fail or warn
   * @param targetRecall recall@N an automatic nprobe reaches with 95 % confidence on half the recall sample (or
   *     {@code minRecall} when higher)
   * @param maxNprobe the largest nprobe auto may choose: each query row stores this many probes
   */
  public record Options(int lists, int nprobe, int sampleSize, int iterations, int assignments, int seed,
      int recallSample, double minRecall, String onLowRecall, double targetRecall, int maxNprobe)
      implements java.io.Serializable {
    public static final Set<String> ON_LOW_RECALL = Set.of("fail", "warn");
    /** {@link #nprobe} chosen by measurement ({@code similarity.ivf.nprobe = auto}). */
    public static final int AUTO = 0;
    /** The keys {@link #from} reads. */
    public static final List<String> KEYS = List.of("similarity.ivf.lists", "similarity.ivf.nprobe",
        "similarity.ivf.sampleSize", "similarity.ivf.iterations", "similarity.ivf.assignments", "similarity.ivf.seed",
        "similarity.ivf.recallSample", "similarity.ivf.minRecall", "similarity.ivf.onLowRecall",
        "similarity.ivf.targetRecall", "similarity.ivf.maxNprobe");
    static final int MAX_LISTS = 1_000_000;
    static final int MAX_ASSIGNMENTS = 8;
    /** Most probes a query row stores for auto: they are written with every query row of the layout. */
    static final int MAX_STORED_PROBES = 256;
    /** Largest training sample: the driver holds it (at 384 floats a vector, 1.5 GB). */
    static final int MAX_SAMPLE = 1_000_000;
    /** Largest default training sample, so the driver's share does not grow with the corpus. */
    static final int MAX_DEFAULT_SAMPLE = 64_000;

    public Options {
      check("similarity.ivf.lists", lists, 0, MAX_LISTS);
      if (nprobe != AUTO) {
        check("similarity.ivf.nprobe", nprobe, 1, MAX_LISTS);
      }
      check("similarity.ivf.sampleSize", sampleSize, 0, MAX_SAMPLE);
      check("similarity.ivf.iterations", iterations, 1, 1000);
      check("similarity.ivf.assignments", assignments, 1, MAX_ASSIGNMENTS);
      check("similarity.ivf.recallSample", recallSample, 0, 1_000_000);
      check("similarity.ivf.maxNprobe", maxNprobe, 1, MAX_STORED_PROBES);
      fraction("similarity.ivf.minRecall", minRecall);
      fraction("similarity.ivf.targetRecall", targetRecall);
      if (!ON_LOW_RECALL.contains(onLowRecall)) {
        throw new InvalidInputException("similarity.ivf.onLowRecall = '" + onLowRecall + "' is not one of fail, warn");
      }
      if (lists > 0 && sampleSize > 0 && sampleSize < lists) {
        throw new InvalidInputException("similarity.ivf.sampleSize = " + sampleSize
            + " is below similarity.ivf.lists = " + lists + ": k-means needs at least one sampled vector per list");
      }
      if (nprobe == AUTO && recallSample == 0) {
        throw new InvalidInputException("similarity.ivf.nprobe = auto chooses nprobe by the recall of the "
            + "similarity.ivf.recallSample queries: set recallSample above 0, or set nprobe to a number");
      }
    }

    private static void check(String key, long value, long min, long max) {
      if (value < min || value > max) {
        throw new InvalidInputException(key + " = " + value + " is out of range " + min + ".." + max);
      }
    }

    private static void fraction(String key, double value) {
      if (!(value >= 0 && value <= 1)) {
        throw new InvalidInputException(key + " = " + value + " is out of range 0..1");
      }
    }

    public static Options defaults() {
      return new Options(0, AUTO, 0, 10, 1, 42, 1000, 0.9, "fail", 0.95, 32);
    }

    public static Options from(TypedConfig c) {
      return new Options(c.intIn("similarity.ivf.lists", 0, MAX_LISTS), nprobe(c),
          c.intIn("similarity.ivf.sampleSize", 0, MAX_SAMPLE), c.intIn("similarity.ivf.iterations", 1, 1000),
          c.intIn("similarity.ivf.assignments", 1, MAX_ASSIGNMENTS),
          c.intIn("similarity.ivf.seed", Integer.MIN_VALUE, Integer.MAX_VALUE),
          c.intIn("similarity.ivf.recallSample", 0, 1_000_000), c.doubleIn("similarity.ivf.minRecall", 0, 1),
          c.oneOf("similarity.ivf.onLowRecall", ON_LOW_RECALL), c.doubleIn("similarity.ivf.targetRecall", 0, 1),
          c.intIn("similarity.ivf.maxNprobe", 1, MAX_STORED_PROBES));
    }

    /** {@code similarity.ivf.nprobe}: {@code auto} or a number of lists. */
    private static int nprobe(TypedConfig c) {
      String key = "similarity.ivf.nprobe";
      String value = c.string(key).trim();
      if (value.equalsIgnoreCase("auto")) {
        return AUTO;
      }
      if (!value.matches("[+-]?\\d+")) {
        throw new InvalidInputException(key + " must be auto or an integer 1.." + MAX_LISTS + ": got '" + value + "'");
      }
      return c.intIn(key, 1, MAX_LISTS);
    }

    /** The recall@N auto aims at: {@code targetRecall}, or {@code minRecall} when that is higher. */
    public double aimedRecall() {
      return Math.max(targetRecall, minRecall);
    }

    /** Whether nprobe is chosen by measurement. */
    public boolean autoNprobe() {
      return nprobe == AUTO;
    }

    /** Probes each query row stores for {@code lists} lists: nprobe as set, or auto's largest choice. */
    int storedProbes(int lists) {
      return Math.min(autoNprobe() ? maxNprobe : nprobe, lists);
    }

    /**
     * Lists for a corpus of {@code n} items: as set, or its square root; never more than the items.
     */
    public int listsFor(long n) {
      long wanted = lists > 0 ? lists : Math.round(Math.sqrt(n));
      return (int) Math.max(1, Math.min(n, wanted));
    }

    /**
     * Vectors k-means trains on for {@code lists} lists over {@code n} items: as set, or 64 per list within
     * 10,000..{@value #MAX_DEFAULT_SAMPLE} and at least one per list; never more than the items.
     */
    public long sampleFor(long n, int lists) {
      long wanted = sampleSize > 0 ? sampleSize
          : Math.max(lists, Math.min(MAX_DEFAULT_SAMPLE, Math.max(64L * lists, 10_000)));
      return Math.min(n, wanted);
    }

    /** nprobe set to {@code value} lists (at least 1; {@link #withAutoNprobe} for auto). */
    public Options withNprobe(int value) {
      if (value < 1) {
        throw new IllegalArgumentException("nprobe must be at least 1 (withAutoNprobe for auto): " + value);
      }
      return new Options(lists, value, sampleSize, iterations, assignments, seed, recallSample, minRecall, onLowRecall,
          targetRecall, maxNprobe);
    }

    /** nprobe = auto, aiming at {@code target} recall with at most {@code max} probes. */
    public Options withAutoNprobe(double target, int max) {
      return new Options(lists, AUTO, sampleSize, iterations, assignments, seed, recallSample, minRecall, onLowRecall,
          target, max);
    }

    public Options withLists(int value) {
      return new Options(value, nprobe, sampleSize, iterations, assignments, seed, recallSample, minRecall,
          onLowRecall, targetRecall, maxNprobe);
    }

    public Options withAssignments(int value) {
      return new Options(lists, nprobe, sampleSize, iterations, value, seed, recallSample, minRecall, onLowRecall,
          targetRecall, maxNprobe);
    }

    public Options withRecall(int sample, double min, String action) {
      return new Options(lists, nprobe, sampleSize, iterations, assignments, seed, sample, min, action, targetRecall,
          maxNprobe);
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, Object> settings() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("method", NAME);
    out.put("ivf.lists", options.lists());
    out.put("ivf.nprobe", options.autoNprobe() ? "auto" : options.nprobe());
    out.put("ivf.sampleSize", options.sampleSize());
    out.put("ivf.iterations", options.iterations());
    out.put("ivf.assignments", options.assignments());
    out.put("ivf.seed", options.seed());
    out.put("ivf.recallSample", options.recallSample());
    out.put("ivf.minRecall", options.minRecall());
    out.put("ivf.onLowRecall", options.onLowRecall());
    if (options.autoNprobe()) {
      out.put("ivf.targetRecall", options.targetRecall());
      out.put("ivf.maxNprobe", options.maxNprobe());
    }
    return out;
  }

  /**
   * Every query's {@code request.topN()} nearest corpus items among the items of the lists it probes, under
   * the request's filters, itself excluded when the request searches one catalogue; the kernel and block size
   * ({@code exact}) are the exact search's. Fails with {@link RecallBelowMinimumException} when the measured
   * recall is below {@code minRecall} and {@code onLowRecall} is fail. Close the ranking once its rows are written.
   */
  public Ranking rank(SparkSession spark, SearchRequest request, EmbeddingRetriever.Options exact) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    boolean self = request.self();
    List<String> filters = request.filter().columns();
    int same = request.filter().sameValueOf().isEmpty() ? -1 : 0;
    int exclude = request.filter().excludeSameValueOf().isEmpty() ? -1 : same + 1;
    List<Column> columns = new ArrayList<>(List.of(col(SearchItems.ID), col(SearchItems.EMBEDDING)));
    filters.forEach(f -> columns.add(column(f)));
    Dataset<Row> corpus = request.corpus().select(columns.toArray(Column[]::new));
    Dataset<Row> queries = self ? corpus : request.queries().select(columns.toArray(Column[]::new));
    String kernelName = exact.kernel();
    String kernel = Kernels.describe(kernelName);
    long corpusCount = corpus.count();
    long queryCount = self ? corpusCount : queries.count();
    if (corpusCount == 0 || queryCount == 0) {
      return new EmbeddingRetriever.EmptyRanking(spark, new SearchFacts(EmbeddingRetriever.NAME, kernel,
          ScoreChunks.best().name(), 0, 0, exact.blockSize(), "list files", null, NAME, null, null));
    }
    if (corpusCount >= Integer.MAX_VALUE) {
      throw new InvalidInputException("IVF search numbers corpus items with 32-bit integers: " + corpusCount
          + " items are too many");
    }
    Cleanup cleanup = new Cleanup();
    KernelUsage usage = KernelUsage.register(spark.sparkContext());
    cleanup.add(usage::log);  // steps run last first: this one once the rows are written
    Run run = new Run(spark, jsc, request, kernelName, kernel, usage, exact.blockSize(), same, exclude, cleanup,
        new LinkedHashMap<>());
    try {
      return search(run, corpus, queries, corpusCount, queryCount);
    } catch (Throwable e) {  // Spark's jobs throw SparkException, checked for Java yet undeclared
      try {
        cleanup.run();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * What every phase of one search shares: the request, the kernel (its name, its description and where its use
   * is counted), the block size, the filter columns' places among the filter values ({@code same},
   * {@code exclude}: −1 for none), what to undo once the rows are written, and each phase's time. Driver-side
   * only: it holds the session, so closures shipped to executors copy the values they need into locals.
   */
  private record Run(SparkSession spark, JavaSparkContext jsc, SearchRequest request, String kernelName,
      String kernel, KernelUsage usage, int blockSize, int same, int exclude, Cleanup cleanup,
      Map<String, Long> phases) {
    boolean self() {
      return request.self();
    }

    int filters() {
      return request.filter().columns().size();
    }

    int topN() {
      return request.topN();
    }

    void timed(String phase, long since) {
      phases.merge(phase, millisSince(since), Long::sum);
    }
  }

  /**
   * The lists laid out: the quantiser, every corpus row in its lists' segment files, the query rows in theirs
   * (the same files for one catalogue) with the {@code storedProbes} lists each probes, and how neighbour
   * numbers become ids.
   */
  private record Layout(int dim, CoarseQuantizer.Trained trained, Broadcast<VectorBlocks> centroids,
      int storedProbes, int assignments, ListSegments corpusLists, ListSegments queryLists,
      IvfRanking.Names neighborNames, SampledRecall.Measured measured) {}

  /** The search done: its plan, the merged lists by query segment, the pairs they hold and their index rows. */
  private record Searched(IvfPlan plan, JavaPairRDD<Integer, TopNBuffer> merged, long pairs, long largestList,
      Broadcast<ListSegments> queries, Broadcast<ListSegments> corpus, Dataset<Row> indexRows) {}

  private Ranking search(Run run, Dataset<Row> corpus, Dataset<Row> queries, long corpusCount, long queryCount) {
    Layout layout = layOut(run, corpus, queries, corpusCount);
    ListSegments queryLists = layout.queryLists();
    ListSegments corpusLists = layout.corpusLists();
    int nprobe = layout.storedProbes();
    Chosen chosen = null;
    if (options.autoNprobe()) {
      long tc = System.nanoTime();
      chosen = chooseNprobe(run, queryLists, corpusLists, layout.centroids(), layout.measured());
      nprobe = chosen.nprobe();
      queryLists = queryLists.probing(run.jsc(), nprobe);
      corpusLists = run.self() ? queryLists : corpusLists;
      run.timed("recall", tc);
    }
    Searched searched = searchLists(run, queryLists, corpusLists, queryCount, layout.neighborNames());

    long t3 = System.nanoTime();
    SampledRecall.Result recall = chosen != null
        ? SampledRecall.compare(chosen.sample(), chosen.exact().top(),
            SampledRecall.approximate(chosen.sample(), searched.merged()).lists(), chosen.check())
        : measureRecall(run, searched, layout.centroids(), layout.measured());
    run.timed("recall", t3);

    int lists = layout.trained().lists();
    IvfFacts ivf = new IvfFacts(lists, nprobe, layout.assignments(), layout.trained().sampleSize(),
        corpusLists.size(), searched.largestList(),
        (double) searched.plan().totalCost() / ((double) queryCount * corpusCount),
        recall == null ? 0 : recall.queries(), recall == null ? null : recall.recall(), options.minRecall(),
        options.onLowRecall(), chosen == null ? null : chosen.facts(options.aimedRecall()), run.phases());
    SearchFacts facts = new SearchFacts(EmbeddingRetriever.NAME, run.kernel(), ScoreChunks.best().name(),
        layout.dim(), queryLists.size(), run.blockSize(), "list files", null, NAME, ivf, run.usage());
    LOG.info("IVF top-{} of {} queries over {} items: {} lists (k-means on {} vectors), nprobe {}, {} list(s) per "
        + "item, {} segments (largest list {} items), {} tasks scoring {} of all pairs; {} rows; recall@{} {} over "
        + "{} sampled queries; phases (ms) {}", run.topN(), queryCount, corpusCount, lists,
        layout.trained().sampleSize(), nprobe, layout.assignments(), corpusLists.size(), searched.largestList(),
        searched.plan().tasks().size(), String.format(Locale.ROOT, "%.2f%%", 100 * ivf.scoredFraction()),
        searched.pairs(), run.topN(),
        ivf.recall() == null ? "not measured" : String.format(Locale.ROOT, "%.4f", ivf.recall()),
        ivf.recallQueries(), run.phases());
    IvfRanking ranking = new IvfRanking(run.spark(), searched.indexRows(), layout.neighborNames(), facts,
        run.request(), searched.plan(), run.cleanup());
    if (ivf.recall() != null && ivf.recall() < options.minRecall()) {
      String raise = chosen == null ? "nprobe"
          : chosen.nprobe() == layout.storedProbes() && layout.storedProbes() < lists
              ? "maxNprobe (nprobe = auto chose its largest)" : "targetRecall (nprobe = auto)";
      String message = String.format(Locale.ROOT, "Approximate top-%d (ivf: %d lists, nprobe %d, %d list(s) per "
          + "item) found %.2f%% of the exact neighbours of %d sampled queries, below similarity.ivf.minRecall = %s: "
          + "raise similarity.ivf.%s or similarity.ivf.assignments, or set similarity.method = exact", run.topN(),
          lists, nprobe, layout.assignments(), 100 * ivf.recall(), ivf.recallQueries(), options.minRecall(), raise);
      if (options.onLowRecall().equals("fail")) {
        ranking.close();
        throw new RecallBelowMinimumException(message + " (or similarity.ivf.onLowRecall = warn to keep such lists)",
            facts);
      }
      LOG.warn("\n*** itemsim: {} (similarity.ivf.onLowRecall = warn: the lists are written) ***", message);
    }
    return ranking;
  }

  /**
   * Trains the quantiser on a sample drawn by the one pass that also lays every corpus row down as files, then
   * writes each row into its lists' segments (and, searching another catalogue, each query row into its nearest
   * list's). Times the "train" and "layout" phases.
   */
  private Layout layOut(Run run, Dataset<Row> corpus, Dataset<Row> queries, long corpusCount) {
    JavaSparkContext jsc = run.jsc();
    Cleanup cleanup = run.cleanup();
    boolean self = run.self();
    int filters = run.filters();
    long t0 = System.nanoTime();
    int wantedLists = options.listsFor(corpusCount);
    long sampleSize = options.sampleFor(corpusCount, wantedLists);
    // up to idsOnDriverUpTo, the one pass that samples also gathers the ids, and items are numbered as the lists
    // are written
    boolean idsOnDriver = corpusCount <= idsOnDriverUpTo;
    // the same pass lays the corpus rows down as files, so the layout reads them instead of the input table
    String root = new Path(run.request().scratchDir(), "ivf-" + UUID.randomUUID()).toString();
    Path scanned = new Path(root, "scan");
    cleanup.add(() -> ScratchPaths.delete(scanned.toString(), jsc.hadoopConfiguration()));
    // one catalogue numbered as written: the scan also draws the recall sample, and the list writers compute its
    // exact lists (no pass reads the lists for it)
    boolean fuse = self && idsOnDriver && options.recallSample() > 0;
    CoarseQuantizer.Scan scan = CoarseQuantizer.scan(corpus, corpusCount, sampleSize, options.seed(), idsOnDriver,
        new CoarseQuantizer.RowDump(scanned.toString(), filters, run.blockSize()),
        fuse ? new SampledRecall.Draw(options.recallSample(), options.seed() + 1L, corpusCount) : null);
    ListSegments scannedRows = scan.rows();
    cleanup.add(scannedRows::delete);
    int dim = scan.dim();
    CoarseQuantizer.Trained trained = CoarseQuantizer.train(corpus, scan, wantedLists, sampleSize,
        options.iterations(), options.seed(), run.kernelName());
    int lists = trained.lists();
    int storedProbes = options.storedProbes(lists);
    int assignments = Math.min(options.assignments(), lists);
    run.timed("train", t0);

    long t1 = System.nanoTime();
    Broadcast<VectorBlocks> centroids = jsc.broadcast(trained.centroids());
    cleanup.add(centroids::destroy);
    int partitions = (int) Math.max(jsc.defaultParallelism(),
        Math.min(lists, (corpusCount * assignments + run.blockSize() - 1) / run.blockSize()));
    Broadcast<String[]> names = null;
    SampledRecall.Fused fused = null;
    if (idsOnDriver && scan.missingIds() == 0) {
      String[] sorted = ItemNumbers.sortedOnDriver(scan.ids());
      names = jsc.broadcast(sorted);
      cleanup.add(names::destroy);
      cleanup.add(ItemNumbers::forgetNumbers);  // the driver's copy (local mode: the executors' too)
      boolean drawn = scan.drawn().size() == Math.min(options.recallSample(), corpusCount);
      if (fuse && !drawn) {  // fewer keys fell under the draw's bound than it samples: rare, see Draw
        LOG.info("The scan drew {} of the {} sampled queries: their exact lists come from a pass of their own",
            scan.drawn().size(), Math.min(options.recallSample(), corpusCount));
      }
      fused = fuse && drawn ? new SampledRecall.Fused(scan.drawn(), dim, sorted, run.topN(), run.kernelName(),
          run.usage(), run.same(), run.exclude()) : null;
    }
    scan = null;  // the sample and the id list are not needed any more: the driver lets them go before the layout
    ListSegments.Shape corpusShape = new ListSegments.Shape(dim, self ? storedProbes : 0, assignments, filters);
    ListSegments.Tapped tapped = ListSegments.write(memberships(members(jsc, scannedRows), centroids, corpusShape,
        self, run.kernelName(), run.usage()), partitions, run.blockSize(), corpusShape, root + "/corpus",
        jsc.hadoopConfiguration(), names, fused);
    ListSegments written = tapped.segments();
    cleanup.add(written::delete);
    SampledRecall.Measured measured = fused == null ? null
        : fused.measured(written, tapped.results(), corpusShape.nprobe());
    scannedRows.delete();  // read once: its disk space is given back now
    ItemNumbers.forgetNumbers();
    ListSegments corpusLists = written;
    IvfRanking.Names neighborNames;
    if (names != null) {
      neighborNames = IvfRanking.Names.broadcast(names);
    } else {
      ItemNumbers.Numbered numbered = ItemNumbers.assign(run.spark(), written);
      cleanup.add(numbered.release());
      corpusLists = numbered.segments();
      neighborNames = IvfRanking.Names.joined(numbered.numbers(), corpusCount);
    }
    ListSegments queryLists = corpusLists;
    if (!self) {
      ListSegments.Shape queryShape = new ListSegments.Shape(dim, storedProbes, 1, filters);
      queryLists = ListSegments.write(memberships(members(queries, filters), centroids, queryShape, true,
          run.kernelName(), run.usage()), partitions, run.blockSize(), queryShape, root + "/queries",
          jsc.hadoopConfiguration());
      cleanup.add(queryLists::delete);
    }
    run.timed("layout", t1);
    return new Layout(dim, trained, centroids, storedProbes, assignments, corpusLists, queryLists, neighborNames,
        measured);
  }

  /**
   * Every query segment's rows scored against the corpus segments of the lists they probe, planned as balanced
   * tasks, and the partial lists merged by query segment. Times the "search" phase.
   */
  private Searched searchLists(Run run, ListSegments queryLists, ListSegments corpusLists, long queryCount,
      IvfRanking.Names neighborNames) {
    JavaSparkContext jsc = run.jsc();
    Cleanup cleanup = run.cleanup();
    boolean self = run.self();
    int topN = run.topN();
    long t2 = System.nanoTime();
    int[] corpusRows = new int[corpusLists.size()];
    long largestList = 0;
    Map<Integer, Long> listRows = new LinkedHashMap<>();
    for (int s = 0; s < corpusRows.length; s++) {
      corpusRows[s] = corpusLists.segment(s).rows();
      long listSize = listRows.merge(corpusLists.segment(s).list(), (long) corpusRows[s], Long::sum);
      largestList = Math.max(largestList, listSize);
    }
    IvfPlan plan = IvfPlan.of(queryLists.written(), corpusLists.segmentsByList(), corpusRows,
        4 * jsc.defaultParallelism());
    Broadcast<ListSegments> sharedQueries = jsc.broadcast(queryLists);
    cleanup.add(sharedQueries::destroy);
    Broadcast<ListSegments> sharedCorpus = self ? sharedQueries : jsc.broadcast(corpusLists);
    if (!self) {
      cleanup.add(sharedCorpus::destroy);
    }
    String computation = UUID.randomUUID().toString();
    // the merged lists are kept in their compact form (neighbour numbers and scores, by query segment); rows
    // with ids are made from them only when written. Kept in memory while small against the heap; else on disk,
    // so that the stages reading them (a hybrid search's joins at a million items × 50) keep the heap
    long mergedBytes = 8L * queryCount * topN;
    StorageLevel keep = mergedBytes <= Runtime.getRuntime().maxMemory() / MERGED_IN_MEMORY_SHARE
        ? StorageLevel.MEMORY_AND_DISK_SER() : StorageLevel.DISK_ONLY();
    KernelUsage usage = run.usage();
    String kernelName = run.kernelName();
    int same = run.same();
    int exclude = run.exclude();
    JavaPairRDD<Integer, TopNBuffer> merged = jsc.parallelize(plan.tasks(), Math.max(1, plan.tasks().size()))
        .flatMapToPair(task -> new IvfTaskRunner(sharedQueries.value(), sharedCorpus.value(), task, topN,
            KernelUsage.select(usage, kernelName), self, same, exclude, computation))
        .reduceByKey(TopNBuffer::mergeFrom, Math.max(1, Math.min(queryLists.size(), 4 * jsc.defaultParallelism())))
        .persist(keep);
    cleanup.add(merged::unpersist);
    long pairs = merged.map(block -> (long) block._2().kept()).fold(0L, Long::sum);
    // with every id broadcast, rows are named as they are made; otherwise neighbours stay numbers until joined
    Broadcast<String[]> named = neighborNames.sorted();
    Dataset<Row> indexRows = run.spark().createDataFrame(merged.flatMap(block -> indexRows(
        sharedQueries.value().readIds(block._1()), block._2(), named == null ? null : named.value())),
        named == null ? INDEX_SCHEMA : Ranking.SCHEMA);
    run.timed("search", t2);
    return new Searched(plan, merged, pairs, largestList, sharedQueries, sharedCorpus, indexRows);
  }

  /** A column by its exact name (dots and backticks are part of the name). */
  private static Column column(String name) {
    return col("`" + name.replace("`", "``") + "`");
  }

  private static long millisSince(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  /**
   * Rows {@code (id, vector, filter values...)} as list memberships: each row's nearest centroids
   * ({@code max(nprobe, assignments)} of them) computed in batches with the kernel; a row goes to each of its
   * {@code assignments} nearest lists, and, when {@code queries}, its copy in the nearest one carries the
   * {@code nprobe} lists it probes.
   */
  private static JavaPairRDD<Integer, byte[]> memberships(JavaRDD<Member> members,
      Broadcast<VectorBlocks> centroids, ListSegments.Shape shape, boolean queries, String kernelName,
      KernelUsage usage) {
    int nprobe = shape.nprobe();
    int assignments = shape.assignments();
    return members.mapPartitionsToPair(partition -> batched(partition, ASSIGN_BATCH, batch -> {
      List<float[]> vectors = new ArrayList<>(batch.size());
      batch.forEach(member -> vectors.add(member.vector()));
      int m = Math.max(nprobe, assignments);
      int[][] nearest = CoarseQuantizer.nearest(vectors, centroids.value(), m, KernelUsage.select(usage, kernelName));
      List<Tuple2<Integer, byte[]>> out = new ArrayList<>(batch.size() * assignments);
      for (int i = 0; i < batch.size(); i++) {
        Member member = batch.get(i);
        if (nearest[i].length < m) {
          throw new IllegalArgumentException("The vector of item '" + member.id() + "' has no cosine with the "
              + "centroids (NaN values?)");
        }
        int[] lists = java.util.Arrays.copyOf(nearest[i], assignments);
        int[] probes = queries ? java.util.Arrays.copyOf(nearest[i], nprobe) : null;
        for (int r = 0; r < assignments; r++) {
          out.add(new Tuple2<>(lists[r], ListSegments.encode(shape, r, member.id(), member.vector(),
              r == 0 ? probes : null, lists, member.values())));
        }
      }
      return out;
    }));
  }

  /** A row as the layout reads it: id, vector, filter values. */
  private record Member(String id, float[] vector, String[] values) {}

  /** The rows a scan laid down ({@link CoarseQuantizer#scan}), one task per segment file. */
  private static JavaRDD<Member> members(JavaSparkContext jsc, ListSegments rows) {
    List<Integer> segments = java.util.stream.IntStream.range(0, rows.size()).boxed().toList();
    return jsc.parallelize(segments, Math.max(1, segments.size())).flatMap(s -> {
      ListSegment segment = rows.readOnce(s);
      String[] ids = rows.readIds(s).ids();
      int dim = segment.dim();
      List<Member> out = new ArrayList<>(segment.rows());
      for (int r = 0; r < segment.rows(); r++) {
        String[] values = new String[segment.values().length];
        for (int k = 0; k < values.length; k++) {
          values[k] = segment.values()[k][r];
        }
        out.add(new Member(ids[r], java.util.Arrays.copyOfRange(segment.vectors(), r * dim, (r + 1) * dim), values));
      }
      return out.iterator();
    });
  }

  /**
   * The rows {@code (id, vector, filter values...)} of {@code rows}, read from Spark's internal rows (each
   * vector copied in one piece, no boxed value per float), one fresh {@link Member} per row.
   */
  private static JavaRDD<Member> members(Dataset<Row> rows, int filters) {
    return rows.queryExecution().toRdd().toJavaRDD().map(r -> {
      String id = r.isNullAt(0) ? null : r.getUTF8String(0).toString();
      if (r.isNullAt(1)) {
        throw new IllegalArgumentException("Item '" + id + "' has no embedding");
      }
      String[] values = new String[filters];
      for (int k = 0; k < filters; k++) {
        values[k] = r.isNullAt(2 + k) ? null : r.getUTF8String(2 + k).toString();
      }
      return new Member(id, CollectedItems.floats(r.getArray(1), id), values);
    });
  }

  /** {@code f} applied to consecutive batches of {@code size} elements of {@code in}, lazily, results in order. */
  static <T, R> Iterator<R> batched(Iterator<T> in, int size, Function<List<T>, List<R>> f) {
    return new Iterator<>() {
      private Iterator<R> current = java.util.Collections.emptyIterator();

      @Override
      public boolean hasNext() {
        while (!current.hasNext() && in.hasNext()) {
          List<T> batch = new ArrayList<>(size);
          while (batch.size() < size && in.hasNext()) {
            batch.add(in.next());
          }
          current = f.apply(batch).iterator();
        }
        return current.hasNext();
      }

      @Override
      public R next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return current.next();
      }
    };
  }

  /**
   * Rows of a query segment's merged lists, one list per query row: {@link Ranking#SCHEMA} rows named by
   * {@code sorted} (every corpus id in id order), or {@link #INDEX_SCHEMA} rows when it is null.
   */
  private static Iterator<Row> indexRows(ListSegments.Ids q, TopNBuffer top, String[] sorted) {
    List<Row> out = new ArrayList<>();
    int[] neighbors = new int[top.n()];
    float[] scores = new float[top.n()];
    for (int r = 0; r < q.ids().length; r++) {
      if (q.replicas()[r] != 0) {
        continue;
      }
      int count = top.sorted(r, neighbors, scores);
      for (int k = 0; k < count; k++) {
        out.add(RowFactory.create(q.ids()[r], k + 1, sorted == null ? (Object) neighbors[k] : sorted[neighbors[k]],
            scores[k]));
      }
    }
    return out.iterator();
  }

  /**
   * What nprobe = auto measured: the recall sample and its exact lists; the recall by nprobe over all of it, over
   * the half that chose nprobe and over the other half, which checks the search; the nprobe chosen.
   */
  private record Chosen(SampledRecall.Sample sample, SampledRecall.Exact exact, SampledRecall.Curve all,
      SampledRecall.Curve choice, SampledRecall.Curve checked, int nprobe) {
    /**
     * The sampled queries (rows of the sample, in id order) that choose nprobe: every other one, or all of a
     * sample of one.
     */
    static java.util.function.IntPredicate choosing(int size) {
      return size < 2 ? q -> true : q -> q % 2 == 0;
    }

    /** The sampled queries whose recall checks the search: those that did not choose, or all of a sample of one. */
    static java.util.function.IntPredicate checking(int size) {
      return size < 2 ? q -> true : q -> q % 2 == 1;
    }

    java.util.function.IntPredicate check() {
      return checking(sample.size());
    }

    IvfFacts.AutoNprobe facts(double aimed) {
      return new IvfFacts.AutoNprobe(aimed, all.recalls(), choice.queries(), choice.recalls(),
          choice.lowerBounds(), checked.recalls());
    }
  }

  /**
   * The smallest nprobe whose recall@N over half of a random sample of {@code recallSample} query rows reaches
   * {@link Options#aimedRecall} with 95 % confidence (the largest stored when none does): the sample's exact
   * lists against the whole corpus, and for every exact neighbour the first of the query's stored probes that
   * holds it ({@link SampledRecall#curve}). The other half's exact lists then measure the search's recall, without a
   * second pass and independently of the choice. The sample and its exact lists are {@code measured} as the lists
   * were written when given (null: none), else computed now ({@link #measureExact}).
   */
  private Chosen chooseNprobe(Run run, ListSegments queryLists, ListSegments corpusLists,
      Broadcast<VectorBlocks> centroids, SampledRecall.Measured measured) {
    int topN = run.topN();
    SampledRecall.Measured m = measured != null ? measured : measureExact(run, queryLists, corpusLists, centroids);
    SampledRecall.Sample sample = m.sample();
    SampledRecall.Exact exact = m.exact();
    SampledRecall.Curve choice = SampledRecall.curve(sample, exact, Chosen.choosing(sample.size()));
    int nprobe = choice.smallestReaching(options.aimedRecall());
    Chosen chosen = new Chosen(sample, exact, SampledRecall.curve(sample, exact, q -> true), choice,
        SampledRecall.curve(sample, exact, Chosen.checking(sample.size())), nprobe);
    List<String> byNprobe = choice.recalls().stream().map(r -> String.format(Locale.ROOT, "%.4f", r)).toList();
    String bound = String.format(Locale.ROOT, "%.4f", choice.lowerBound(nprobe));
    if (choice.lowerBound(nprobe) < options.aimedRecall()) {
      LOG.warn("nprobe = auto: no nprobe up to {} reaches recall@{} {} with 95% confidence on {} sampled queries "
          + "(by nprobe: {}); searching with {} (lower bound {})", sample.stored(), topN, options.aimedRecall(),
          choice.queries(), byNprobe, nprobe, bound);
    } else {
      LOG.info("nprobe = auto: nprobe {} reaches recall@{} {} with 95% confidence on {} sampled queries (lower "
          + "bound {}; by nprobe: {}); the other {} check the search", nprobe, topN, options.aimedRecall(),
          choice.queries(), bound, byNprobe, sample.size() - choice.queries());
    }
    return chosen;
  }

  /**
   * A random sample of {@code recallSample} query rows read from the laid-out lists, and its exact lists against
   * the whole corpus: one pass over the corpus lists, every segment multiplied by every sampled query (no floor
   * is known before the search).
   */
  private SampledRecall.Measured measureExact(Run run, ListSegments queryLists, ListSegments corpusLists,
      Broadcast<VectorBlocks> centroids) {
    JavaSparkContext jsc = run.jsc();
    boolean self = run.self();
    Broadcast<ListSegments> queries = jsc.broadcast(queryLists);
    Broadcast<ListSegments> corpus = self ? queries : jsc.broadcast(corpusLists);
    try {
      SampledRecall.Sample sample = SampledRecall.sample(jsc, queries, options.recallSample(), options.seed() + 1L);
      return new SampledRecall.Measured(sample, SampledRecall.exact(jsc, corpus, sample, null, centroids,
          run.topN(), run.kernelName(), run.usage(), self, run.same(), run.exclude()));
    } finally {
      queries.destroy();
      if (!self) {
        corpus.destroy();
      }
    }
  }

  /**
   * Recall@N over a random sample of {@code recallSample} query rows (all of them when there are fewer): their
   * exact lists against their approximate ones in {@code merged}; null when not measured. The exact lists are
   * {@code measured} as the lists were written when given (null: none), else computed now, the approximate lists'
   * N-th scores letting the exact pass skip segments that cannot reach them.
   */
  private SampledRecall.Result measureRecall(Run run, Searched searched, Broadcast<VectorBlocks> centroids,
      SampledRecall.Measured measured) {
    if (options.recallSample() == 0) {
      return null;
    }
    if (measured != null) {
      return SampledRecall.compare(measured.sample(), measured.exact().top(),
          SampledRecall.approximate(measured.sample(), searched.merged()).lists());
    }
    SampledRecall.Sample sample = SampledRecall.sample(run.jsc(), searched.queries(), options.recallSample(),
        options.seed() + 1L);
    SampledRecall.Approximate approximate = SampledRecall.approximate(sample, searched.merged());
    SampledRecall.Exact exact = SampledRecall.exact(run.jsc(), searched.corpus(), sample, approximate.floors(),
        centroids, run.topN(), run.kernelName(), run.usage(), run.self(), run.same(), run.exclude());
    return SampledRecall.compare(sample, exact.top(), approximate.lists());
  }

  /** What a search holds until its ranking is closed: undone in reverse order, each once. */
  static final class Cleanup implements Runnable {
    private final List<Runnable> steps = new ArrayList<>();
    private boolean done;

    void add(Runnable step) {
      steps.add(step);
    }

    @Override
    public synchronized void run() {
      if (done) {
        return;
      }
      done = true;
      List<Runnable> lastFirst = new ArrayList<>(steps);
      java.util.Collections.reverse(lastFirst);
      Cleanups.runAll(lastFirst);
    }
  }
}
