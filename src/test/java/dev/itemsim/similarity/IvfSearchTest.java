package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.SparkTestSupport;
import dev.itemsim.embed.Vectors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

@Tag("integration")
class IvfSearchTest {
  private static final StructType SCHEMA = new StructType()
      .add("item_id", DataTypes.StringType, false)
      .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false)
      .add("category", DataTypes.StringType, true)
      .add("seller", DataTypes.StringType, true)
      .add("text", DataTypes.StringType, false);
  private static final SearchRequest.FilterColumns FILTERS = new SearchRequest.FilterColumns("category", "seller");

  private final SparkSession spark = SparkTestSupport.spark();
  @TempDir
  Path scratch;

  /**
   * Vectors of small multiples of 1/8 make every dot product exact in float32 whatever the summation order,
   * so ties are real (planted copies too): with every list probed, IVF must give exact search's lists to the
   * last tie, with items stored in one list or two (each pair still scored once), with and without filters,
   * on one catalogue and against a second one.
   */
  @ParameterizedTest(name = "self={0} filters={1} assignments={2} ids on the driver={3}")
  @CsvSource({"true, true, 2, true", "false, true, 1, true", "true, false, 1, true", "false, false, 2, true",
      "true, true, 2, false", "false, false, 1, false"})
  void everyListProbedEqualsExactSearch(boolean self, boolean filters, int assignments, boolean idsOnDriver) {
    IvfSearch.idsOnDriverUpTo = idsOnDriver ? IvfRanking.BROADCAST_IDS_UP_TO : 0;
    Random random = new Random(17);
    Dataset<Row> corpus = items(tiedVectors(520, 16, random), "c", random);
    Dataset<Row> queries = self ? corpus : items(tiedVectors(150, 16, random), "q", random);
    SearchRequest.FilterColumns rules = filters ? FILTERS : SearchRequest.FilterColumns.NONE;
    IvfSearch ivf = ivf(IvfSearch.Options.defaults().withLists(9).withNprobe(9).withAssignments(assignments));

    List<String> exact = rows(new EmbeddingRetriever(options(), new SearchMethod.Exact()), queries, corpus, 7, rules);
    List<String> approximate;
    try (Ranking ranking = rank(ivf, queries, corpus, 7, rules)) {
      approximate = sorted(ranking.rows());
      assertThat(ranking.facts().method()).isEqualTo("ivf");
      assertThat(ranking.facts().ivf().nprobe()).isEqualTo(9);
      assertThat(ranking.facts().ivf().recall()).isEqualTo(1.0);
      assertThat(ranking.facts().ivf().scoredFraction()).isCloseTo(assignments == 1 ? 1.0 : 2.0,
          org.assertj.core.data.Offset.offset(1e-9));
    }
    assertThat(exact).hasSizeGreaterThan(100);
    assertThat(approximate).containsExactlyElementsOf(exact);
  }

  /**
   * The k-means sample is drawn by the rows' keys and ordered by them, so the same rows and seed give the same
   * centroids, and so the same lists, however the rows are partitioned or ordered (a catalogue read from its
   * stored embeddings comes in another order than one just encoded). The sample is a third of the rows, so which
   * rows it holds matters; two probes of twelve lists, so the centroids do.
   */
  @Test
  void theSameRowsPartitionedOtherwiseGiveTheSameLists() {
    Random random = new Random(23);
    Dataset<Row> corpus = items(tiedVectors(600, 16, random), "c", random);
    Dataset<Row> reordered = corpus.repartition(5).sortWithinPartitions(org.apache.spark.sql.functions.desc("text"));
    IvfSearch ivf = ivf(new IvfSearch.Options(12, 2, 200, 8, 1, 42, 60, 0, "warn", 0.95, 32));

    List<String> first;
    double recall;
    try (Ranking ranking = rank(ivf, corpus, corpus, 5, SearchRequest.FilterColumns.NONE)) {
      first = sorted(ranking.rows());
      recall = ranking.facts().ivf().recall();
    }
    try (Ranking ranking = rank(ivf, reordered, reordered, 5, SearchRequest.FilterColumns.NONE)) {
      assertThat(sorted(ranking.rows())).containsExactlyElementsOf(first);
      assertThat(ranking.facts().ivf().recall()).isEqualTo(recall);
    }
    assertThat(first).hasSize(3000);
    assertThat(recall).as("the lists are approximate: centroids decide them").isLessThan(1.0);
  }

  /**
   * Half the items are one vector (one centroid takes them all). Blocks of 32 rows cut that list into
   * segments on both sides, so the plan's units stay within a block pair and no task gets more than its
   * share of the work; the lists still equal exact search's, every tie among the copies to the lower id.
   */
  @Test
  void aListHoldingHalfTheItemsCompletesInBalancedTasks() {
    Random random = new Random(5);
    List<float[]> vectors = tiedVectors(800, 16, random);
    float[] copy = vectors.get(0);
    for (int i = 0; i < 800; i += 2) {
      vectors.set(i, copy.clone());
    }
    Dataset<Row> items = items(vectors, "s", random);
    int block = 32;
    EmbeddingRetriever.Options small = new EmbeddingRetriever.Options("auto", block);
    IvfSearch ivf = ivf(IvfSearch.Options.defaults().withLists(8).withNprobe(8));

    List<String> exact = rows(new EmbeddingRetriever(small), items, items, 5, SearchRequest.FilterColumns.NONE);
    try (Ranking ranking = ivf.rank(spark, new SearchRequest(items, items, 5, null, scratch.toString()), small)) {
      assertThat(sorted(ranking.rows())).containsExactlyElementsOf(exact);
      IvfFacts facts = ranking.facts().ivf();
      assertThat(facts.largestList()).isGreaterThanOrEqualTo(400);
      assertThat(facts.segments()).as("the big list cut into blocks").isGreaterThanOrEqualTo(400 / block + 7);
      IvfPlan plan = ((IvfRanking) ranking).plan();
      assertThat(plan.largestUnit()).isLessThanOrEqualTo((long) block * block);
      assertThat(plan.largestTask()).isLessThanOrEqualTo(Math.max(plan.budget(), plan.largestUnit()));
      assertThat(plan.tasks()).hasSizeGreaterThanOrEqualTo(8);
      java.util.Map<Integer, Long> costByList = new java.util.HashMap<>();
      plan.tasks().forEach(t -> java.util.Arrays.stream(t.units()).forEach(u -> costByList.merge(u.list(), u.cost(),
          Long::sum)));
      int big = costByList.entrySet().stream().max(java.util.Map.Entry.comparingByValue()).orElseThrow().getKey();
      long tasksOnBigList = plan.tasks().stream()
          .filter(t -> java.util.Arrays.stream(t.units()).anyMatch(u -> u.list() == big)).count();
      assertThat(costByList.get(big)).as("the big list's share of the work")
          .isGreaterThanOrEqualTo(plan.totalCost() / 2);
      assertThat(tasksOnBigList).as("tasks sharing the big list").isGreaterThanOrEqualTo(4);
    }
  }

  /**
   * Planted ground truth: 60 tight groups of 6 far apart, so every item's 5 nearest are the other members of
   * its group (checked by brute force). More lists than groups split groups between lists, and with one
   * probe some neighbours are missed: the recall the search measures over all queries must be exactly the
   * share of planted neighbours its lists name.
   */
  @Test
  void measuredRecallIsTheShareOfPlantedNeighboursFound() {
    Random random = new Random(23);
    List<float[]> vectors = new ArrayList<>();
    for (int g = 0; g < 60; g++) {
      float[] centre = unit(32, random);
      for (int m = 0; m < 6; m++) {
        float[] v = centre.clone();
        for (int k = 0; k < v.length; k++) {
          v[k] += 0.03f * (float) random.nextGaussian();
        }
        vectors.add(Vectors.normalize(v));
      }
    }
    List<List<BruteForce.Neighbor>> brute = BruteForce.topN(vectors, 5);
    for (int i = 0; i < vectors.size(); i++) {
      Set<Integer> group = new HashSet<>();
      for (int m = 0; m < 6; m++) {
        if (i / 6 * 6 + m != i) {
          group.add(i / 6 * 6 + m);
        }
      }
      assertThat(brute.get(i)).extracting(BruteForce.Neighbor::index).containsExactlyInAnyOrderElementsOf(group);
    }
    // through Parquet, as a job's embeddings table is read: its arrays may hold nulls (schema-wise)
    String table = scratch.resolve("planted").toString();
    items(vectors, "g", null).write().parquet(table);
    Dataset<Row> items = spark.read().parquet(table);
    assertThat(items.schema().apply("embedding").dataType())
        .isEqualTo(DataTypes.createArrayType(DataTypes.FloatType, true));
    IvfSearch ivf = ivf(IvfSearch.Options.defaults().withLists(90).withNprobe(1).withRecall(10_000, 0, "fail"));
    try (Ranking ranking = rank(ivf, items, items, 5, SearchRequest.FilterColumns.NONE)) {
      long found = 0;
      for (Row r : ranking.rows().collectAsList()) {
        int item = index(r.getString(0));
        int neighbor = index(r.getString(2));
        found += item / 6 == neighbor / 6 ? 1 : 0;
      }
      double planted = (double) found / (vectors.size() * 5);
      IvfFacts facts = ranking.facts().ivf();
      assertThat(facts.recallQueries()).isEqualTo(vectors.size());
      assertThat(facts.recall()).isEqualTo(planted);
      assertThat(planted).as("some planted neighbours missed, most found").isBetween(0.3, 0.999);
    }
  }

  /**
   * nprobe = auto reads the recall each nprobe would give from the recall sample's exact lists, before any
   * search: searches with nprobe set to 1, 2 and 3 (the same seed, so the same sampled queries) measure exactly
   * those recalls (the vectors' products are exact in float32, so no rounding moves a tie). Auto searches with
   * the smallest nprobe reaching its aim on half the sample, giving that search's lists, and reports the recall
   * of the other half, which is what that half's exact lists predicted.
   */
  @ParameterizedTest(name = "self={0} filters={1} assignments={2}")
  @CsvSource({"true, false, 1", "false, true, 2"})
  void autoNprobeReadsTheRecallOfEachNprobeAndSearchesWithTheSmallestReachingItsAim(boolean self, boolean filters,
      int assignments) {
    Random random = new Random(41);
    Dataset<Row> corpus = items(tiedVectors(600, 16, random), "c", random);
    Dataset<Row> queries = self ? corpus : items(tiedVectors(200, 16, random), "q", random);
    SearchRequest.FilterColumns rules = filters ? FILTERS : SearchRequest.FilterColumns.NONE;
    IvfSearch.Options base = IvfSearch.Options.defaults().withLists(12).withAssignments(assignments)
        .withRecall(150, 0, "fail");
    List<Double> curve;
    List<Double> choice;
    List<Double> bounds;
    List<Double> check;
    try (Ranking ranking = rank(ivf(base.withAutoNprobe(1.0, 6)), queries, corpus, 5, rules)) {
      IvfFacts facts = ranking.facts().ivf();
      curve = facts.auto().recallByNprobe();
      choice = facts.auto().choiceRecallByNprobe();
      bounds = facts.auto().choiceLowerBoundByNprobe();
      check = facts.auto().checkRecallByNprobe();
      assertThat(curve).hasSize(6).isSorted();
      assertThat(choice).hasSize(6).isSorted();
      assertThat(facts.auto().choiceQueries()).isEqualTo(75);
      assertThat(facts.nprobe()).isEqualTo(choice.contains(1.0) ? choice.indexOf(1.0) + 1 : 6);
      assertThat(facts.recall()).isEqualTo(check.get(facts.nprobe() - 1));
      assertThat(facts.recallQueries()).as("the half that did not choose").isEqualTo(75);
    }
    assertThat(bounds.get(0)).as("one probe misses some").isLessThan(bounds.get(1));
    assertThat(bounds.get(1)).as("a lower bound").isLessThan(choice.get(1));
    List<String> atTwo = null;
    for (int nprobe = 1; nprobe <= 3; nprobe++) {
      try (Ranking ranking = rank(ivf(base.withNprobe(nprobe)), queries, corpus, 5, rules)) {
        assertThat(ranking.facts().ivf().recall()).as("nprobe %d", nprobe).isEqualTo(curve.get(nprobe - 1));
        assertThat(ranking.facts().ivf().auto()).isNull();
        atTwo = nprobe == 2 ? sorted(ranking.rows()) : atTwo;
      }
    }
    try (Ranking ranking = rank(ivf(base.withAutoNprobe(bounds.get(1), 6)), queries, corpus, 5, rules)) {
      assertThat(ranking.facts().ivf().nprobe()).isEqualTo(2);
      assertThat(ranking.facts().ivf().recall()).isEqualTo(check.get(1));
      assertThat(sorted(ranking.rows())).containsExactlyElementsOf(atTwo);
    }
  }

  @Test
  void recallBelowTheMinimumFailsOrWarns() {
    Random random = new Random(29);
    List<float[]> vectors = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      vectors.add(unit(24, random));
    }
    Dataset<Row> items = items(vectors, "r", null);
    IvfSearch.Options strict = IvfSearch.Options.defaults().withLists(20).withNprobe(1).withRecall(100, 0.99, "fail");
    assertThatThrownBy(() -> rank(ivf(strict), items, items, 10, SearchRequest.FilterColumns.NONE).close())
        .isInstanceOf(RecallBelowMinimumException.class)
        .hasMessageContaining("of the exact neighbours of 100 sampled queries")
        .hasMessageContaining("similarity.ivf.minRecall = 0.99")
        .hasMessageContaining("similarity.ivf.nprobe")
        .satisfies(e -> assertThat(((RecallBelowMinimumException) e).facts().ivf().recall()).isLessThan(0.99));
    try (Ranking ranking = rank(ivf(strict.withRecall(100, 0.99, "warn")), items, items, 10,
        SearchRequest.FilterColumns.NONE)) {
      assertThat(ranking.facts().ivf().recall()).isLessThan(0.99);
      assertThat(ranking.rows().count()).isPositive();
    }
  }

  /** Collapsing duplicate texts and the minimum score apply around IVF as around exact search. */
  @Test
  void collapsingAndMinimumScoreApplyAroundIvfAsAroundExactSearch() {
    Random random = new Random(37);
    Dataset<Row> items = items(tiedVectors(500, 16, random), "d", random);
    NeighborSearch.Options search = new NeighborSearch.Options(6, 0.05f, null, true);
    EmbeddingRetriever exact = new EmbeddingRetriever(options(), new SearchMethod.Exact());
    EmbeddingRetriever ivf = new EmbeddingRetriever(options(),
        ivf(IvfSearch.Options.defaults().withLists(7).withNprobe(7)));
    List<String> expected;
    try (Ranking ranking = NeighborSearch.search(spark, exact, search, items, null, scratch.toString())) {
      expected = sorted(ranking.rows());
    }
    try (Ranking ranking = NeighborSearch.search(spark, ivf, search, items, null, scratch.toString())) {
      assertThat(ranking.facts().duplicateTextsCollapsed()).isEqualTo(200);
      assertThat(ranking.facts().method()).isEqualTo("ivf");
      assertThat(sorted(ranking.rows())).isNotEmpty().containsExactlyElementsOf(expected);
    }
  }

  /**
   * Against another catalogue auto counts the queries too: with a size of 60, 20 queries against 50 items (1,000
   * pairs, below 60² / 2) run exact, and 60 queries against the same items run IVF, with the same lists (every
   * list probed).
   */
  @Test
  void autoAgainstAnotherCatalogueCountsTheQueries() {
    Random random = new Random(5);
    Dataset<Row> corpus = items(tiedVectors(50, 16, random), "c", random);
    Dataset<Row> few = items(tiedVectors(20, 16, random), "f", random);
    Dataset<Row> many = items(tiedVectors(60, 16, random), "m", random);
    EmbeddingRetriever auto = new EmbeddingRetriever(options(),
        new SearchMethod.Auto(ivf(IvfSearch.Options.defaults().withLists(4).withNprobe(4)), 60));
    try (Ranking ranking = auto.rank(spark, new SearchRequest(few, corpus, 5, SearchRequest.FilterColumns.NONE,
        scratch.toString()))) {
      assertThat(ranking.facts().method()).isEqualTo("exact");
    }
    try (Ranking ranking = auto.rank(spark, new SearchRequest(many, corpus, 5, SearchRequest.FilterColumns.NONE,
        scratch.toString()))) {
      assertThat(ranking.facts().method()).isEqualTo("ivf");
      assertThat(sorted(ranking.rows())).containsExactlyElementsOf(rows(new EmbeddingRetriever(options(),
          new SearchMethod.Exact()), many, corpus, 5, SearchRequest.FilterColumns.NONE));
    }
  }

  @AfterEach
  void numberOnTheDriverAgain() {
    IvfSearch.idsOnDriverUpTo = IvfRanking.BROADCAST_IDS_UP_TO;
  }

  @ParameterizedTest(name = "ids on the driver={0}")
  @ValueSource(booleans = {true, false})
  void repeatedIdsAreRefusedByName(boolean idsOnDriver) {
    IvfSearch.idsOnDriverUpTo = idsOnDriver ? IvfRanking.BROADCAST_IDS_UP_TO : 0;
    Random random = new Random(31);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      rows.add(RowFactory.create(i == 7 ? "id-3" : "id-" + i, toList(unit(8, random)), null, null, "t"));
    }
    Dataset<Row> items = spark.createDataFrame(rows, SCHEMA);
    assertThatThrownBy(() -> rank(ivf(IvfSearch.Options.defaults().withLists(4)), items, items, 3,
        SearchRequest.FilterColumns.NONE)).hasStackTraceContaining("Item id 'id-3' appears twice");
  }

  /**
   * The pass that samples the corpus also lays its rows down, so it is the one that refuses a row without a
   * vector, with a null inside it, or with another length (in any partition), naming the item.
   */
  @ParameterizedTest(name = "bad row {0}")
  @ValueSource(strings = {"no vector", "null inside", "shorter", "shorter first in its partition"})
  void aBadVectorIsRefusedNamingTheItem(String bad) {
    StructType nullable = new StructType().add("item_id", DataTypes.StringType)
        .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, true)).add("category", DataTypes.StringType)
        .add("seller", DataTypes.StringType).add("text", DataTypes.StringType);
    Random random = new Random(37);
    List<Row> first = new ArrayList<>();
    List<Row> second = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      List<Float> vector = toList(unit(8, random));
      if (bad.equals("shorter first in its partition") ? i >= 30 : i == 41) {
        switch (bad) {
          case "no vector" -> vector = null;
          case "null inside" -> vector.set(5, null);
          default -> vector = new ArrayList<>(vector.subList(0, 6));
        }
      }
      (i < 30 ? first : second).add(RowFactory.create("id-" + i, vector == null ? null : vector.toArray(Float[]::new),
          null, null, "t"));
    }
    // two partitions in this order: the first row of the second one is id-30
    var jsc = org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext());
    Dataset<Row> items = spark.createDataFrame(jsc.parallelize(first, 1).union(jsc.parallelize(second, 1)), nullable);
    assertThat(items.rdd().getNumPartitions()).isEqualTo(2);
    String expected = switch (bad) {
      case "no vector" -> "Item 'id-41' has no embedding";
      case "null inside" -> "The embedding of item 'id-41' holds a null at position 5";
      case "shorter" -> "The vector of item 'id-41' has length 6, expected 8";
      default -> "The vector of item 'id-30' has length 6, expected 8";
    };
    assertThatThrownBy(() -> rank(ivf(IvfSearch.Options.defaults().withLists(4)), items, items, 3,
        SearchRequest.FilterColumns.NONE)).hasStackTraceContaining(expected);
    try (var left = java.nio.file.Files.walk(scratch)) {
      assertThat(left.filter(java.nio.file.Files::isRegularFile).toList()).as("files the failed search left")
          .isEmpty();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private IvfSearch ivf(IvfSearch.Options options) {
    return new IvfSearch(new IvfSearch.Options(options.lists(), options.nprobe(), options.sampleSize(), 8,
        options.assignments(), options.seed(), options.recallSample(), options.minRecall(), options.onLowRecall(),
        options.targetRecall(), options.maxNprobe()));
  }

  private static EmbeddingRetriever.Options options() {
    return new EmbeddingRetriever.Options("auto", 64);
  }

  private Ranking rank(IvfSearch ivf, Dataset<Row> queries, Dataset<Row> corpus, int topN,
      SearchRequest.FilterColumns rules) {
    return ivf.rank(spark, new SearchRequest(queries, corpus, topN, rules, scratch.toString()), options());
  }

  private List<String> rows(Retriever retriever, Dataset<Row> queries, Dataset<Row> corpus, int topN,
      SearchRequest.FilterColumns rules) {
    try (Ranking ranking = retriever.rank(spark, new SearchRequest(queries, corpus, topN, rules,
        scratch.toString()))) {
      return sorted(ranking.rows());
    }
  }

  private static List<String> sorted(Dataset<Row> rows) {
    return rows.orderBy("item_id", "rank").collectAsList().stream()
        .map(r -> r.getString(0) + " " + r.getInt(1) + " " + r.getString(2) + " " + r.getFloat(3)).toList();
  }

  /**
   * Items named so that id order differs from creation order ({@code p10} sorts before {@code p9}), with
   * category and seller values (some missing or blank) when {@code random} is given.
   */
  private Dataset<Row> items(List<float[]> vectors, String prefix, Random random) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < vectors.size(); i++) {
      String category = random == null ? null : new String[] {"a", "b", "c", null, " "}[random.nextInt(5)];
      String seller = random == null ? null : random.nextInt(4) == 0 ? null : "s" + random.nextInt(6);
      rows.add(RowFactory.create(prefix + i, toList(vectors.get(i)), category, seller, "text " + i % 300));
    }
    return spark.createDataFrame(rows, SCHEMA).repartition(3);
  }

  private static int index(String id) {
    return Integer.parseInt(id.substring(1));
  }

  private static List<Float> toList(float[] v) {
    List<Float> out = new ArrayList<>(v.length);
    for (float x : v) {
      out.add(x);
    }
    return out;
  }

  /** Vectors of multiples of 1/8 in [-1/4, 1/4], never zero, with every tenth a copy of an earlier one. */
  private static List<float[]> tiedVectors(int n, int dim, Random random) {
    List<float[]> vectors = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (i % 10 == 9) {
        vectors.add(vectors.get(random.nextInt(i)).clone());
        continue;
      }
      float[] v = new float[dim];
      for (int k = 0; k < dim; k++) {
        v[k] = (random.nextInt(5) - 2) / 8f;
      }
      v[0] = v[0] == 0 ? 0.125f : v[0];
      vectors.add(v);
    }
    return vectors;
  }

  private static float[] unit(int dim, Random random) {
    float[] v = new float[dim];
    for (int k = 0; k < dim; k++) {
      v[k] = (float) random.nextGaussian();
    }
    return Vectors.normalize(v);
  }
}
