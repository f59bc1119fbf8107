package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.udf;

import dev.itemsim.InvalidInputException;
import dev.itemsim.config.TypedConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Cosine top-N of unit-length embeddings, found by the {@link SearchMethod} {@code similarity.method} picks.
 * Exact search uses the blocked kernel ({@link BlockedTopN}): one catalogue ranks from vector block files the
 * executors write and read (the driver gathers only ids and filter values, no JVM holds all vectors); a
 * cross-catalogue search gathers both sides' vectors on the driver and broadcasts them. Approximate search
 * ({@link IvfSearch}) scores each query's candidate lists with the same kernel and measures its recall.
 *
 * @param options the kernel and block size every method multiplies with
 * @param method how neighbours are found: exact, ivf, or auto (by corpus size)
 */
public record EmbeddingRetriever(Options options, SearchMethod method) implements Retriever {
  public static final String NAME = "embedding";
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddingRetriever.class);

  /**
   * @param kernel matrix-product kernel name ({@code similarity.kernel}: auto, gpu, native-blas, java; see
   *     {@link Kernels})
   * @param blockSize rows per block of the blocked product ({@code similarity.blockSize})
   */
  public record Options(String kernel, int blockSize) implements java.io.Serializable {
    public static final Set<String> KERNELS = Set.copyOf(Kernels.NAMES);
    public static final int MIN_BLOCK = 16;
    public static final int MAX_BLOCK = 16_384;
    /** The keys {@link #from} reads. */
    public static final List<String> KEYS = List.of("similarity.kernel", "similarity.blockSize");

    public Options {
      if (!KERNELS.contains(kernel)) {
        throw new InvalidInputException("similarity.kernel = '" + kernel + "' is not one of "
            + String.join(", ", Kernels.NAMES));
      }
      if (blockSize < MIN_BLOCK || blockSize > MAX_BLOCK) {
        throw new InvalidInputException("similarity.blockSize = " + blockSize + " is out of range " + MIN_BLOCK
            + ".." + MAX_BLOCK);
      }
    }

    public static Options defaults() {
      return new Options("auto", 8192);
    }

    public static Options from(TypedConfig c) {
      return new Options(c.oneOf("similarity.kernel", KERNELS),
          c.intIn("similarity.blockSize", MIN_BLOCK, MAX_BLOCK));
    }
  }

  public EmbeddingRetriever {
    method = method == null ? new SearchMethod.Exact() : method;
  }

  /** Exact search with {@code options}. */
  public EmbeddingRetriever(Options options) {
    this(options, new SearchMethod.Exact());
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean usesEmbeddings() {
    return true;
  }

  @Override
  public Map<String, Object> settings() {
    Map<String, Object> out = new java.util.LinkedHashMap<>(Map.of("kernel", options.kernel(), "blockSize",
        options.blockSize()));
    out.putAll(method.settings());
    return out;
  }

  @Override
  public Ranking rank(SparkSession spark, SearchRequest request) {
    List<String> filters = request.filter().columns();
    SearchItems.check(request.queries(), "queries", true, false, filters);
    if (!request.self()) {
      SearchItems.check(request.corpus(), "corpus items", true, false, filters);
    }
    Kernels.checkOnExecutors(JavaSparkContext.fromSparkContext(spark.sparkContext()), options.kernel());
    SearchMethod chosen = method;
    if (method.dependsOnCorpusSize()) {
      long corpusItems = request.corpus().count();
      chosen = method.forSearch(request.self() ? () -> corpusItems : () -> request.queries().count(), corpusItems,
          request.self());
    }
    if (chosen instanceof IvfSearch ivf) {
      return ivf.rank(spark, request, options);
    }
    if (!request.self()) {
      return crossRanking(spark, request);
    }
    return blockFileRanking(spark, request);
  }

  private SearchFacts facts(int dimension, int blocks, String vectors, KernelUsage usage) {
    return new SearchFacts(NAME, Kernels.describe(options.kernel()), ScoreChunks.best().name(), dimension,
        blocks, options.blockSize(), vectors, null, SearchMethod.Exact.NAME, null, usage);
  }

  /** One catalogue: ids numbered on the driver in id order, vectors written as block files by executors. */
  private Ranking blockFileRanking(SparkSession spark, SearchRequest request) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<String> filters = request.filter().columns();
    List<String> columns = new ArrayList<>(List.of(SearchItems.ID));
    columns.addAll(filters);
    long t0 = System.nanoTime();
    List<Row> names = new ArrayList<>(request.queries().selectExpr(CollectedItems.quoted(columns)).collectAsList());
    names.sort(Comparator.comparing(r -> r.getString(0), CollectedItems::compareIds));
    int n = names.size();
    if (n == 0) {
      return new EmptyRanking(spark, facts(0, 0, "block files", null));
    }
    String[] ids = new String[n];
    String[][] attrs = new String[filters.size()][n];
    Map<String, Integer> indexOf = new HashMap<>(2 * n);
    for (int g = 0; g < n; g++) {
      Row r = names.get(g);
      ids[g] = r.getString(0);
      if (indexOf.put(ids[g], g) != null) {
        throw new InvalidInputException("Item id '" + ids[g] + "' appears twice among the items to search");
      }
      for (int k = 0; k < filters.size(); k++) {
        attrs[k][g] = r.isNullAt(1 + k) ? null : r.getString(1 + k);
      }
    }
    int dim = request.queries().selectExpr("size(" + SearchItems.EMBEDDING + ")").first().getInt(0);
    Broadcast<Map<String, Integer>> sharedIndex = jsc.broadcast(indexOf);
    long t1 = System.nanoTime();
    String blocksDir = new Path(request.scratchDir(), "blocks-" + java.util.UUID.randomUUID()).toString();
    BlockFiles files;
    try {
      files = BlockFiles.write(request.queries().select(SearchItems.ID, SearchItems.EMBEDDING).javaRDD()
              .mapToPair(r -> new Tuple2<>((long) sharedIndex.value().get(r.getString(0)),
                  CollectedItems.requireLength(r.getString(0), CollectedItems.floats(r.getList(1)), dim))),
          n, dim, options.blockSize(), blocksDir, jsc.hadoopConfiguration());
    } finally {
      sharedIndex.destroy();
    }
    LOG.info("Numbered {} items in id order on the driver in {} ms; wrote {} vector blocks to {} in {} ms", n,
        (t1 - t0) / 1_000_000, files.numBlocks(), blocksDir, (System.nanoTime() - t1) / 1_000_000);
    CollectedItems named = new CollectedItems(ids, null, new String[0], attrs);
    NeighborFilter filter = request.filter().compile(named, named);
    Broadcast<String[]> sharedIds = jsc.broadcast(ids);
    int blockSize = options.blockSize();
    KernelUsage usage = KernelUsage.register(spark.sparkContext());
    BlockedTopN.Computation computation = BlockedTopN.open(jsc, files, request.topN(), options.kernel(), usage,
        filter);
    JavaRDD<Row> rows = computation.buffers().sortByKey().flatMap(block -> NeighborRows.of(block._1() * blockSize, block._2(), sharedIds.value(),
            sharedIds.value()));
    Dataset<Row> neighbors = spark.createDataFrame(rows, Ranking.SCHEMA);
    SearchFacts facts = facts(dim, files.numBlocks(), "block files", usage);
    return new VectorRanking(spark, neighbors, facts, request, () -> {
      computation.close();
      files.delete();
      sharedIds.destroy();
    });
  }

  /** Two catalogues: both sides' vectors gathered on the driver and broadcast. */
  private Ranking crossRanking(SparkSession spark, SearchRequest request) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<String> filters = request.filter().columns();
    CollectedItems queries = CollectedItems.collect(request.queries(), options.blockSize(), false, filters);
    CollectedItems corpus = CollectedItems.collect(request.corpus(), options.blockSize(), false, filters);
    if (queries.ids().length == 0 || corpus.ids().length == 0) {
      return new EmptyRanking(spark, facts(queries.blocks().dim(), 0, "broadcast", null));
    }
    if (queries.blocks().dim() != corpus.blocks().dim()) {
      throw new InvalidInputException("The queries' vectors have " + queries.blocks().dim() + " values (item '"
          + queries.ids()[0] + "'), the corpus items' " + corpus.blocks().dim() + " (item '" + corpus.ids()[0]
          + "'): both sides of a search must have vectors of one length");
    }
    NeighborFilter filter = request.filter().compile(queries, corpus);
    Broadcast<String[]> queryIds = jsc.broadcast(queries.ids());
    Broadcast<String[]> corpusIds = jsc.broadcast(corpus.ids());
    int blockSize = options.blockSize();
    KernelUsage usage = KernelUsage.register(spark.sparkContext());
    BlockedTopN.Computation computation = BlockedTopN.openCross(jsc, queries.blocks(), corpus.blocks(),
        request.topN(), options.kernel(), usage, filter);
    JavaRDD<Row> rows = computation.buffers().sortByKey().flatMap(block -> NeighborRows.of(block._1() * blockSize,
        block._2(), queryIds.value(), corpusIds.value()));
    Dataset<Row> neighbors = spark.createDataFrame(rows, Ranking.SCHEMA);
    return new VectorRanking(spark, neighbors, facts(queries.blocks().dim(), queries.blocks().numBlocks(),
        "broadcast", usage), request, () -> {
          computation.close();
          queryIds.destroy();
          corpusIds.destroy();
        });
  }

  /** Rows computed lazily from shared data; pair scores by joining the items' vectors. */
  private static final class VectorRanking implements Ranking {
    private final SparkSession spark;
    private final Dataset<Row> rows;
    private final SearchFacts facts;
    private final SearchRequest request;
    private final Runnable cleanup;
    private boolean closed;

    VectorRanking(SparkSession spark, Dataset<Row> rows, SearchFacts facts, SearchRequest request, Runnable cleanup) {
      this.spark = spark;
      this.rows = rows;
      this.facts = facts;
      this.request = request;
      this.cleanup = cleanup;
    }

    @Override
    public Dataset<Row> rows() {
      return rows;
    }

    @Override
    public SearchFacts facts() {
      return facts;
    }

    @Override
    public Dataset<Row> score(Dataset<Row> pairs) {
      return dotProducts(spark, pairs, request.queries(), request.corpus());
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        if (facts.kernelUsage() != null) {
          facts.kernelUsage().log();
        }
        cleanup.run();
      }
    }
  }

  /** {@code (item_id, neighbor_id, score)}: the embedding cosine of each pair, by joining both sides' vectors. */
  static Dataset<Row> dotProducts(SparkSession spark, Dataset<Row> pairs, Dataset<Row> queries, Dataset<Row> corpus) {
    var dot = udf((UDF2<scala.collection.Seq<Float>, scala.collection.Seq<Float>, Float>) EmbeddingRetriever::dot,
        DataTypes.FloatType);
    Dataset<Row> q = queries.select(col(SearchItems.ID).as("q_id"), col(SearchItems.EMBEDDING).as("q_v"));
    Dataset<Row> c = corpus.select(col(SearchItems.ID).as("c_id"), col(SearchItems.EMBEDDING).as("c_v"));
    return pairs.select("item_id", "neighbor_id")
        .join(q, col("item_id").equalTo(col("q_id")))
        .join(c, col("neighbor_id").equalTo(col("c_id")))
        .select(col("item_id"), col("neighbor_id"), dot.apply(col("q_v"), col("c_v")).as("score"));
  }

  private static float dot(scala.collection.Seq<Float> a, scala.collection.Seq<Float> b) {
    double s = 0;
    Iterator<Float> ia = scala.jdk.javaapi.CollectionConverters.asJava(a.iterator());
    Iterator<Float> ib = scala.jdk.javaapi.CollectionConverters.asJava(b.iterator());
    while (ia.hasNext() && ib.hasNext()) {
      s += ia.next() * ib.next();
    }
    return (float) s;
  }

  /** No items, no rows. */
  record EmptyRanking(SparkSession spark, SearchFacts facts) implements Ranking {
    @Override
    public Dataset<Row> rows() {
      return spark.createDataFrame(List.<Row>of(), SCHEMA);
    }

    @Override
    public Dataset<Row> score(Dataset<Row> pairs) {
      return spark.createDataFrame(List.<Row>of(), PAIR_SCHEMA);
    }

    @Override
    public void close() {}
  }

  static Row pairRow(String q, String c, float score) {
    return RowFactory.create(q, c, score);
  }
}
