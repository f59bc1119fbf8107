package dev.itemsim.job;

import dev.itemsim.similarity.BlockedTopN;
import dev.itemsim.similarity.HybridRanker;
import dev.itemsim.similarity.Kernels;
import dev.itemsim.similarity.LexicalFeatures;
import dev.itemsim.similarity.NeighborFilter;
import dev.itemsim.similarity.SparseTopN;
import dev.itemsim.similarity.SparseVectors;
import dev.itemsim.similarity.TopNBuffer;
import dev.itemsim.similarity.VectorBlocks;
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

/**
 * The top-N step of the similar-items job: every query item's {@code topN} neighbours among the corpus
 * items (the same items, or {@code search.against}'s), under the configured scorer, neighbour filters and
 * duplicate collapsing. Embedding scoring without collapsing ranks on the executors end to end; lexical and
 * hybrid scoring, and collapsing, gather vectors and candidate lists on the driver, re-rank in Spark tasks and
 * write the rows from the driver.
 */
final class NeighborSearch {
  private final SparkSession spark;
  private final SimilarItemsConfig config;
  private final RunSummary summary;

  NeighborSearch(SparkSession spark, SimilarItemsConfig config, RunSummary summary) {
    this.spark = spark;
    this.config = config;
    this.summary = summary;
  }

  Dataset<Row> run(EncodedItems queries, EncodedItems corpus) {
    String kernelName = Kernels.select(config.scoring().kernel()).name();
    summary.put("kernel", kernelName).put("dimension", queries.blocks().dim())
        .put("blocks", queries.blocks().numBlocks()).put("scorer", config.scoring().scorer());
    if (config.scoring().scorer().equals("embedding") && !config.collapseDuplicateTexts()) {
      return onExecutors(queries, corpus);
    }
    return onDriver(queries, corpus);
  }

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
    int[][] lists = new int[queries.ids().length][];
    float[][] scores = new float[queries.ids().length][];
    switch (config.scoring().scorer()) {
      case "embedding" -> embeddingLists(queries, corpus, n, filter, lists, scores);
      default -> {
        // lexical: pruned candidates re-scored exactly; hybrid: the union of both retrievers' candidates
        boolean hybrid = config.scoring().hybrid();
        int k = Math.max(n, config.scoring().candidates());
        List<SparseVectors> lex = lexical(queries, corpus);
        int[][] fromEmbeddings = new int[queries.ids().length][];
        if (hybrid) {
          embeddingLists(queries, corpus, k, filter, fromEmbeddings, new float[queries.ids().length][]);
        } else {
          Arrays.fill(fromEmbeddings, new int[0]);
        }
        SparseTopN index = new SparseTopN(lex.get(1), config.scoring().lexical().maxPostingsFor(corpus.ids().length));
        double embeddingWeight = hybrid ? config.scoring().embeddingWeight() : 0;
        rerankOnExecutors(index, lex.get(0), lex.get(1), queries.blocks(), corpus.blocks(), fromEmbeddings, k, n,
            self, filter, embeddingWeight, lists, scores);
      }
    }
    List<Row> rows = new ArrayList<>();
    String model = config.encoder().model().value();
    for (int i = 0; i < allQueries.ids().length; i++) {
      int q = representative[i];
      EncodedItems.addRows(allQueries.ids()[i], lists[q], scores[q], lists[q].length, corpus.ids(), model,
          config.minScore(), rows);
    }
    return spark.createDataFrame(rows, SimilarItemsJob.SIMILAR_ITEMS_SCHEMA);
  }

  /** A range of queries' final lists, as computed by one task. */
  private record RankedRange(int from, int[][] ids, float[][] scores) implements java.io.Serializable {}

  /**
   * Gathers lexical candidates and re-ranks them with the embedding candidates, in Spark tasks of up to
   * 2,048 queries each (index, vectors and candidate lists broadcast once).
   */
  private void rerankOnExecutors(SparseTopN index, SparseVectors lexQueries, SparseVectors lexCorpus,
      VectorBlocks queryVectors, VectorBlocks corpusVectors, int[][] fromEmbeddings, int k, int n, boolean self,
      NeighborFilter filter, double embeddingWeight, int[][] lists, float[][] scores) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<SparseTopN> sharedIndex = jsc.broadcast(index);
    Broadcast<SparseVectors> sharedLexQueries = jsc.broadcast(lexQueries);
    Broadcast<SparseVectors> sharedLexCorpus = jsc.broadcast(lexCorpus);
    Broadcast<VectorBlocks> sharedQueries = jsc.broadcast(queryVectors);
    Broadcast<VectorBlocks> sharedCorpus = jsc.broadcast(corpusVectors);
    Broadcast<int[][]> sharedCandidates = jsc.broadcast(fromEmbeddings);
    List<Integer> starts = new ArrayList<>();
    for (int from = 0; from < lists.length; from += 2048) {
      starts.add(from);
    }
    int total = lists.length;
    List<RankedRange> ranges = jsc.parallelize(starts, Math.max(1, starts.size())).map(from -> {
      int to = Math.min(total, from + 2048);
      TopNBuffer lexical = sharedIndex.value().search(sharedLexQueries.value(), from, to, k, self, filter);
      int[][] ids = new int[to - from][];
      float[][] rankedScores = new float[to - from][];
      int[] candidates = new int[k];
      float[] unused = new float[k];
      for (int q = from; q < to; q++) {
        int count = lexical.sorted(q - from, candidates, unused);
        HybridRanker.Ranked r = HybridRanker.rank(q, sharedCandidates.value()[q], Arrays.copyOf(candidates, count),
            sharedQueries.value(), sharedCorpus.value(), sharedLexQueries.value(), sharedLexCorpus.value(),
            embeddingWeight, n);
        ids[q - from] = r.corpusIndexes();
        rankedScores[q - from] = r.scores();
      }
      return new RankedRange(from, ids, rankedScores);
    }).collect();
    for (RankedRange range : ranges) {
      System.arraycopy(range.ids(), 0, lists, range.from(), range.ids().length);
      System.arraycopy(range.scores(), 0, scores, range.from(), range.scores().length);
    }
    for (Broadcast<?> b : List.of(sharedIndex, sharedLexQueries, sharedLexCorpus, sharedQueries, sharedCorpus,
        sharedCandidates)) {
      b.destroy();
    }
  }

  private List<SparseVectors> lexical(EncodedItems queries, EncodedItems corpus) {
    List<SparseVectors> built = LexicalFeatures.build(spark, queries == corpus ? List.of(Arrays.asList(queries.texts()))
        : List.of(Arrays.asList(queries.texts()), Arrays.asList(corpus.texts())), config.scoring().lexical());
    return List.of(built.get(0), built.get(built.size() - 1));
  }

  private void embeddingLists(EncodedItems queries, EncodedItems corpus, int n, NeighborFilter filter,
      int[][] lists, float[][] scores) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    var buffers = queries == corpus
        ? BlockedTopN.compute(jsc, queries.blocks(), n, config.scoring().kernel(), filter)
        : BlockedTopN.computeCross(jsc, queries.blocks(), corpus.blocks(), n, config.scoring().kernel(), filter);
    for (scala.Tuple2<Integer, TopNBuffer> block : buffers.collect()) {
      fromBuffer(block._2(), queries.blocks().offsetOf(block._1()), lists, scores);
    }
  }

  private static void fromBuffer(TopNBuffer buffer, int offset, int[][] lists, float[][] scores) {
    int[] ids = new int[buffer.n()];
    float[] s = new float[buffer.n()];
    for (int r = 0; r < buffer.rows(); r++) {
      int count = buffer.sorted(r, ids, s);
      lists[offset + r] = Arrays.copyOf(ids, count);
      scores[offset + r] = Arrays.copyOf(s, count);
    }
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
