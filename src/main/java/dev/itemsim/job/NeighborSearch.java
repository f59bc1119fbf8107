package dev.itemsim.job;

import dev.itemsim.similarity.BlockFiles;
import dev.itemsim.similarity.BlockedTopN;
import dev.itemsim.similarity.Kernels;
import dev.itemsim.similarity.ScoreChunks;
import dev.itemsim.similarity.NeighborFilter;
import dev.itemsim.similarity.SparseVectors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

/**
 * The top-N step of the similar-items job: every query item's {@code topN} neighbours among the corpus
 * items (the same items, or {@code search.against}'s), under the configured scorer, neighbour filters and
 * duplicate collapsing. Embedding scoring without collapsing ranks on the executors end to end; lexical and
 * hybrid scoring, and collapsing, go through {@link Ranker} (the evaluate job's ranking too), which gathers
 * vectors and candidate lists on the driver and re-ranks in Spark tasks; the rows are then written from the
 * driver.
 */
final class NeighborSearch {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NeighborSearch.class);
  private final SparkSession spark;
  private final SimilarItemsConfig config;
  private final RunSummary summary;

  NeighborSearch(SparkSession spark, SimilarItemsConfig config, RunSummary summary) {
    this.spark = spark;
    this.config = config;
    this.summary = summary;
  }

  Dataset<Row> run(EncodedItems queries, EncodedItems corpus) {
    String kernelName = Kernels.select(config.scoring().kernel(), config.scoring().blas()).name();
    summary.put("kernel", kernelName).put("scan", ScoreChunks.best().name()).put("dimension", queries.blocks().dim())
        .put("blocks", queries.blocks().numBlocks()).put("scorer", config.scoring().scorer());
    if (config.scoring().scorer().equals("embedding") && !config.collapseDuplicateTexts()) {
      return onExecutors(queries, corpus);
    }
    return onDriver(queries, corpus);
  }

  /** Whether ranking goes {@link #fromBlockFiles}: embedding scorer, one catalogue, no duplicate collapsing. */
  static boolean ranksFromBlockFiles(SimilarItemsConfig config) {
    return config.scoring().scorer().equals("embedding") && !config.collapseDuplicateTexts()
        && !config.crossCatalogue();
  }

  /**
   * Embedding top-N of one catalogue with no JVM holding all vectors: the driver gathers only the ids (and
   * filter values), O(n) strings, and numbers them in id order; executors write the vectors as row blocks
   * into {@code blocksDir} ({@link BlockFiles}, one shuffle of the vectors), and each top-N task reads just
   * the two blocks it multiplies.
   */
  BlockRanking fromBlockFiles(Dataset<Row> encoded, org.apache.hadoop.fs.Path blocksDir) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    summary.put("kernel", Kernels.select(config.scoring().kernel(), config.scoring().blas()).name()).put("scan", ScoreChunks.best().name())
        .put("scorer", config.scoring().scorer());
    int attrCount = config.filterColumns().size();
    List<String> columns = new ArrayList<>(List.of("item_id"));
    for (int k = 0; k < attrCount; k++) {
      columns.add("attr_" + k);
    }
    long t0 = System.nanoTime();
    List<Row> names = new ArrayList<>(encoded.selectExpr(columns.toArray(String[]::new)).collectAsList());
    names.sort(java.util.Comparator.comparing(r -> r.getString(0), EncodedItems::compareIds));
    int n = names.size();
    String[] ids = new String[n];
    String[][] attrs = new String[attrCount][n];
    Map<String, Integer> indexOf = new HashMap<>(2 * n);
    for (int g = 0; g < n; g++) {
      Row r = names.get(g);
      ids[g] = r.getString(0);
      indexOf.put(ids[g], g);
      for (int k = 0; k < attrCount; k++) {
        attrs[k][g] = r.isNullAt(1 + k) ? null : r.getString(1 + k);
      }
    }
    Broadcast<Map<String, Integer>> sharedIndex = jsc.broadcast(indexOf);
    int dim = encoded.selectExpr("size(embedding)").first().getInt(0);
    long t1 = System.nanoTime();
    BlockFiles files = BlockFiles.write(encoded.select("item_id", "embedding").javaRDD()
            .mapToPair(r -> new Tuple2<>((long) sharedIndex.value().get(r.getString(0)), EncodedItems.floats(r.getList(1)))),
        n, dim, config.blockSize(), blocksDir.toString(), jsc.hadoopConfiguration());
    sharedIndex.destroy();
    summary.put("dimension", dim).put("blocks", files.numBlocks()).put("vectors", "block files");
    LOG.info("Numbered {} items in id order on the driver in {} ms; wrote {} vector blocks to {} in {} ms", n,
        (t1 - t0) / 1_000_000, files.numBlocks(), blocksDir, (System.nanoTime() - t1) / 1_000_000);
    EncodedItems named = new EncodedItems(ids, null, null, attrs);
    NeighborFilter filter = filter(named, named);
    Broadcast<String[]> sharedIds = jsc.broadcast(ids);
    String model = config.encoder().model().value();
    float minScore = config.minScore();
    int blockSize = config.blockSize();
    JavaRDD<Row> rows = BlockedTopN.compute(jsc, files, config.topN(), config.scoring().kernel(), filter)
        .sortByKey().flatMap(block -> EncodedItems.neighborRows(block._1() * blockSize, block._2(),
            sharedIds.value(), sharedIds.value(), model, minScore));
    return new BlockRanking(spark.createDataFrame(rows, SimilarItemsJob.SIMILAR_ITEMS_SCHEMA), files);
  }

  /** Neighbour rows, computed lazily from {@code blocks}: delete the blocks once the rows are written. */
  record BlockRanking(Dataset<Row> rows, BlockFiles blocks) {}

  private Dataset<Row> onExecutors(EncodedItems queries, EncodedItems corpus) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    NeighborFilter filter = filter(queries, corpus);
    Broadcast<String[]> queryIds = jsc.broadcast(queries.ids());
    Broadcast<String[]> corpusIds = config.crossCatalogue() ? jsc.broadcast(corpus.ids()) : queryIds;
    String model = config.encoder().model().value();
    float minScore = config.minScore();
    int blockSize = queries.blocks().blockSize();
    var buffers = config.crossCatalogue()
        ? BlockedTopN.computeCross(jsc, queries.blocks(), corpus.blocks(), config.topN(), config.scoring().kernel(), filter)
        : BlockedTopN.compute(jsc, queries.blocks(), config.topN(), config.scoring().kernel(), filter);
    JavaRDD<Row> rows = buffers.sortByKey().flatMap(block -> EncodedItems.neighborRows(block._1() * blockSize,
        block._2(), queryIds.value(), corpusIds.value(), model, minScore));
    return spark.createDataFrame(rows, SimilarItemsJob.SIMILAR_ITEMS_SCHEMA);
  }

  private Dataset<Row> onDriver(EncodedItems allQueries, EncodedItems corpusIn) {
    boolean self = !config.crossCatalogue();
    int[] representative = new int[allQueries.ids().length];
    EncodedItems queries = allQueries;
    if (config.collapseDuplicateTexts()) {
      int[] reps = collapse(allQueries, representative);
      queries = allQueries.subset(reps);
      summary.count("duplicate_texts_collapsed", allQueries.ids().length - reps.length);
    } else {
      Arrays.setAll(representative, i -> i);
    }
    EncodedItems corpus = self ? queries : corpusIn;
    NeighborFilter filter = filter(queries, corpus);
    int n = config.topN();
    Ranker ranker = new Ranker(spark, config.scoring());
    List<SparseVectors> lexical = config.scoring().scorer().equals("embedding") ? null
        : ranker.lexical(queries, corpus);
    Ranker.Lists ranked = ranker.rank(queries, corpus, lexical, n, filter);
    int[][] lists = ranked.ids();
    float[][] scores = ranked.scores();
    List<Row> rows = new ArrayList<>();
    String model = config.encoder().model().value();
    for (int i = 0; i < allQueries.ids().length; i++) {
      int q = representative[i];
      EncodedItems.addRows(allQueries.ids()[i], lists[q], scores[q], lists[q].length, corpus.ids(), model,
          config.minScore(), rows);
    }
    return spark.createDataFrame(rows, SimilarItemsJob.SIMILAR_ITEMS_SCHEMA);
  }

  /**
   * Groups items with the same text and filter values; fills {@code representative[i]} with the position of
   * item i's group in the returned, ascending list of representatives (each group's lowest index).
   */
  private static int[] collapse(EncodedItems items, int[] representative) {
    Map<String, Integer> groups = new LinkedHashMap<>();
    List<Integer> reps = new ArrayList<>();
    for (int i = 0; i < items.ids().length; i++) {
      StringBuilder key = new StringBuilder(items.texts()[i]);
      for (String[] attr : items.attrs()) {
        key.append('\u0000').append(attr[i]);
      }
      Integer group = groups.get(key.toString());
      if (group == null) {
        group = reps.size();
        groups.put(key.toString(), group);
        reps.add(i);
      }
      representative[i] = group;
    }
    return reps.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Dictionary codes of the filter columns, shared by both sides; null when no filter is configured. */
  private NeighborFilter filter(EncodedItems queries, EncodedItems corpus) {
    if (config.filterColumns().isEmpty()) {
      return null;
    }
    int attr = 0;
    int[][] same = {null, null};
    int[][] exclude = {null, null};
    if (!config.sameValueOf().isEmpty()) {
      Map<String, Integer> dictionary = new HashMap<>();
      same = new int[][] {codes(queries.attrs()[attr], dictionary), codes(corpus.attrs()[attr], dictionary)};
      attr++;
    }
    if (!config.excludeSameValueOf().isEmpty()) {
      Map<String, Integer> dictionary = new HashMap<>();
      exclude = new int[][] {codes(queries.attrs()[attr], dictionary), codes(corpus.attrs()[attr], dictionary)};
    }
    return new NeighborFilter(same[0], same[1], exclude[0], exclude[1]);
  }

  private static int[] codes(String[] values, Map<String, Integer> dictionary) {
    int[] codes = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      String v = values[i];
      codes[i] = v == null || v.isBlank() ? NeighborFilter.MISSING
          : dictionary.computeIfAbsent(v, k -> dictionary.size());
    }
    return codes;
  }
}
