package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Updated lists equal a full ranking of the same items. Vectors are small multiples of 1/8, so every dot
 * product is exact in float32 whatever the kernel's order of summation: scores are equal to the bit and ties
 * are real (many items share vectors), and must be broken by the lower id exactly as the full ranking does.
 */
@Tag("integration")
class IncrementalListsTest {
  private static final int DIM = 10;
  private static final int TOP_N = 5;
  private static final StructType SCHEMA = new StructType()
      .add("item_id", DataTypes.StringType, false)
      .add("text", DataTypes.StringType, false)
      .add("text_hash", DataTypes.StringType, false)
      .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false)
      .add(IncrementalLists.VECTOR_REUSED, DataTypes.BooleanType, false)
      .add("attr_0", DataTypes.StringType, true)
      .add("attr_1", DataTypes.StringType, true);
  private final SparkSession spark = SparkTestSupport.spark();

  @TempDir
  Path scratch;

  /** One item as a run sees it; {@code version} changes with its text. */
  private record Item(String id, float[] vector, int version, String same, String exclude) {
    String text() {
      return id + " v" + version;
    }
  }

  /** The catalogue of one night, and which items' vectors are the previous night's. */
  private record Night(Map<String, Item> items, Set<String> reused) {}

  enum Variant { PLAIN, FILTERS, COLLAPSE, MIN_SCORE }

  private static NeighborSearch.Options options(Variant v) {
    return new NeighborSearch.Options(TOP_N, v == Variant.MIN_SCORE ? 0.2f : -1f,
        v == Variant.FILTERS ? new SearchRequest.FilterColumns("attr_0", "attr_1") : SearchRequest.FilterColumns.NONE,
        v == Variant.COLLAPSE);
  }

  private static final EmbeddingRetriever RETRIEVER = new EmbeddingRetriever(new EmbeddingRetriever.Options("auto", 16));

  @ParameterizedTest(name = "seed {0}, {1}, churn {2}")
  @CsvSource({"1, PLAIN, 0.05", "2, PLAIN, 0.2", "3, PLAIN, 1.0", "4, FILTERS, 0.1", "5, FILTERS, 1.0",
      "6, COLLAPSE, 0.1", "7, COLLAPSE, 0.5", "8, MIN_SCORE, 0.1"})
  void updatedListsEqualAFullRankingNightAfterNight(long seed, Variant variant, double churn) {
    Random random = new Random(seed);
    NeighborSearch.Options options = options(variant);
    IncrementalLists.Options incremental = new IncrementalLists.Options(3, 1.0, 0.05);
    Night night = firstNight(random, 150);
    IncrementalLists.Outcome previous = search(night, options, null, incremental);
    assertThat(previous.fullReason()).isEqualTo("first");
    for (int n = 1; n <= 2; n++) {
      night = churn(night, random, churn, previous, n == 1);
      IncrementalLists.Outcome next = search(night, options, previous.state(), incremental);
      assertThat(next.fullReason()).as("night %d", n).isNull();
      assertThat(next.counts().fresh()).as("night %d", n).isPositive();
      List<String> expected = fullRanking(night, options);
      assertThat(rows(next.ranking())).as("night %d: the updated lists", n).containsExactlyElementsOf(expected);
      if (n == 2) {
        assertStoredListsArePrefixesOfTheFullOnes(night, options, next, incremental);
      }
      previous.ranking().close();
      previous = next;
    }
    previous.ranking().close();
  }

  @Test
  void deletingAnItemListedEverywhereRanksItsListersAgain() {
    Random random = new Random(42);
    NeighborSearch.Options options = options(Variant.PLAIN);
    // no spare neighbours: every list that held the deleted item falls short and is ranked again
    IncrementalLists.Options incremental = new IncrementalLists.Options(0, 1.0, 0.05);
    Night night = firstNight(random, 200);
    // thirty copies of one vector: the lowest-id copy is in the lists of every copy and of their neighbours
    float[] hub = night.items().get("item-0007").vector();
    Map<String, Item> items = new LinkedHashMap<>(night.items());
    for (int i = 0; i < 30; i++) {
      Item item = items.get(String.format(Locale.ROOT, "item-%04d", 100 + i));
      items.put(item.id(), new Item(item.id(), hub.clone(), item.version(), item.same(), item.exclude()));
    }
    night = new Night(items, Set.of());
    IncrementalLists.Outcome previous = search(night, options, null, incremental);
    String mostListed = mostListed(previous);
    Map<String, Item> next = new LinkedHashMap<>(night.items());
    next.remove(mostListed);
    Night after = new Night(next, next.keySet());
    IncrementalLists.Outcome updated = search(after, options, previous.state(), incremental);
    assertThat(updated.fullReason()).isNull();
    assertThat(updated.counts().gone()).isEqualTo(1);
    long listers = previous.ranking().rows().filter(org.apache.spark.sql.functions.col("neighbor_id")
        .equalTo(mostListed)).count();
    assertThat(listers).isGreaterThan(20);
    assertThat(updated.counts().recomputed()).as("its listers are ranked again").isEqualTo(listers);
    assertThat(rows(updated.ranking())).containsExactlyElementsOf(fullRanking(after, options));
    previous.ranking().close();
    updated.ranking().close();
  }

  @Test
  void anItemWhoseFilterValueChangedIsRankedAgainThoughItsVectorIsReused() {
    Random random = new Random(5);
    NeighborSearch.Options options = options(Variant.FILTERS);
    IncrementalLists.Options incremental = new IncrementalLists.Options(3, 1.0, 0.05);
    Night night = firstNight(random, 120);
    IncrementalLists.Outcome previous = search(night, options, null, incremental);
    Map<String, Item> items = new LinkedHashMap<>(night.items());
    Item moved = items.get("item-0003");
    items.put(moved.id(), new Item(moved.id(), moved.vector(), moved.version(), "moved", moved.exclude()));
    Night after = new Night(items, items.keySet());
    IncrementalLists.Outcome updated = search(after, options, previous.state(), incremental);
    assertThat(updated.counts().fresh()).isEqualTo(1);
    assertThat(rows(updated.ranking())).containsExactlyElementsOf(fullRanking(after, options));
    previous.ranking().close();
    updated.ranking().close();
  }

  @Test
  void tooManyChangesRankEverythingAndSayWhy() {
    Random random = new Random(9);
    NeighborSearch.Options options = options(Variant.PLAIN);
    IncrementalLists.Options incremental = new IncrementalLists.Options(3, 0.1, 0.05);
    Night night = firstNight(random, 100);
    IncrementalLists.Outcome previous = search(night, options, null, incremental);
    Night after = churn(night, random, 0.5, previous, false);
    IncrementalLists.Outcome updated = search(after, options, previous.state(), incremental);
    assertThat(updated.fullReason()).contains("run.incremental.maxRecomputedFraction = 0.1");
    assertThat(rows(updated.ranking())).containsExactlyElementsOf(fullRanking(after, options));
    previous.ranking().close();
    updated.ranking().close();
  }

  @Test
  void randomUnitVectorsGiveTheFullRankingsNeighboursAndScores() {
    Random random = new Random(77);
    NeighborSearch.Options options = options(Variant.PLAIN);
    IncrementalLists.Options incremental = new IncrementalLists.Options(4, 1.0, 0.05);
    Map<String, Item> items = new LinkedHashMap<>();
    for (int i = 0; i < 300; i++) {
      String id = String.format(Locale.ROOT, "u-%04d", i);
      items.put(id, new Item(id, unit(random, 32), 0, null, null));
    }
    Night night = new Night(items, Set.of());
    IncrementalLists.Outcome previous = search(night, options, null, incremental);
    Map<String, Item> next = new LinkedHashMap<>(items);
    for (int i = 0; i < 12; i++) {
      String id = String.format(Locale.ROOT, "u-%04d", random.nextInt(300));
      next.remove(id);
      String added = String.format(Locale.ROOT, "u-%04d", 300 + i);
      next.put(added, new Item(added, unit(random, 32), 0, null, null));
    }
    Set<String> reused = new HashSet<>(items.keySet());
    reused.retainAll(next.keySet());
    Night after = new Night(next, reused);
    IncrementalLists.Outcome updated = search(after, options, previous.state(), incremental);
    assertThat(updated.fullReason()).isNull();
    List<String[]> got = split(rows(updated.ranking()));
    List<String[]> want = split(fullRanking(after, options));
    assertThat(got).hasSameSizeAs(want);
    for (int i = 0; i < got.size(); i++) {
      assertThat(got.get(i)[0] + " " + got.get(i)[1] + " " + got.get(i)[2]).isEqualTo(want.get(i)[0] + " "
          + want.get(i)[1] + " " + want.get(i)[2]);
      assertThat(Float.parseFloat(got.get(i)[3])).isCloseTo(Float.parseFloat(want.get(i)[3]),
          org.assertj.core.data.Offset.offset(1e-6f));
    }
    previous.ranking().close();
    updated.ranking().close();
  }

  /**
   * A full ranking's lists stay readable once the ranking they came from is closed, even when Spark has to
   * compute them again (cached blocks evicted, an executor lost): here every cached block is dropped. Before the
   * lists were written aside, this failed on the ranking's destroyed id broadcast (seen at 100k items).
   */
  @Test
  void aFullRankingsListsSurviveLosingTheirCachedCopy() {
    Random random = new Random(5);
    Map<String, Item> items = new LinkedHashMap<>();
    for (int i = 0; i < 200; i++) {
      String id = String.format(Locale.ROOT, "c-%04d", i);
      items.put(id, new Item(id, unit(random, 16), 0, null, null));
    }
    Night night = new Night(items, Set.of());
    NeighborSearch.Options options = options(Variant.PLAIN);
    IncrementalLists.Outcome outcome = search(night, options, null, new IncrementalLists.Options(3, 1.0, 0.05));
    List<String> before = rows(outcome.ranking());
    spark.catalog().clearCache();
    assertThat(outcome.state().count()).isEqualTo(200);
    assertThat(rows(outcome.ranking())).isEqualTo(before).isEqualTo(fullRanking(night, options));
    outcome.ranking().close();
  }

  private static List<String[]> split(List<String> rows) {
    return rows.stream().map(r -> r.split(" ")).toList();
  }

  private static float[] unit(Random random, int dim) {
    float[] v = new float[dim];
    double norm = 0;
    for (int k = 0; k < dim; k++) {
      v[k] = (float) random.nextGaussian();
      norm += v[k] * v[k];
    }
    for (int k = 0; k < dim; k++) {
      v[k] /= (float) Math.sqrt(norm);
    }
    return v;
  }

  private IncrementalLists.Outcome search(Night night, NeighborSearch.Options options, Dataset<Row> previousState,
      IncrementalLists.Options incremental) {
    IncrementalLists.State state = previousState == null ? null : new IncrementalLists.State(previousState, null);
    return NeighborSearch.searchIncrementally(spark, RETRIEVER, options, dataset(night), state,
        previousState == null ? "first" : null, incremental, scratch.toString());
  }

  private List<String> fullRanking(Night night, NeighborSearch.Options options) {
    try (Ranking ranking = NeighborSearch.search(spark, RETRIEVER, options, dataset(night), null,
        scratch.toString())) {
      return rows(ranking);
    }
  }

  private static List<String> rows(Ranking ranking) {
    return ranking.rows().orderBy("item_id", "rank").collectAsList().stream()
        .map(r -> r.getString(0) + " " + r.getInt(1) + " " + r.getString(2) + " " + r.getFloat(3)).toList();
  }

  /** Every stored list is a prefix of the item's full best {@code topN + spare}, and all of it when complete. */
  private void assertStoredListsArePrefixesOfTheFullOnes(Night night, NeighborSearch.Options options,
      IncrementalLists.Outcome outcome, IncrementalLists.Options incremental) {
    NeighborSearch.Options longer = options.withTopN(TOP_N + incremental.spare());
    IncrementalLists.Outcome full = search(night, new NeighborSearch.Options(longer.topN(), -1f, longer.filter(),
        longer.collapseDuplicateTexts()), null, incremental);
    Map<String, List<String>> fullLists = lists(full.state());
    Map<String, List<String>> stored = lists(outcome.state());
    assertThat(stored.keySet()).isEqualTo(fullLists.keySet());
    for (Row r : outcome.state().collectAsList()) {
      String id = r.getString(0);
      List<String> list = stored.get(id);
      List<String> reference = fullLists.get(id);
      assertThat(list.size()).as(id).isLessThanOrEqualTo(reference.size());
      assertThat(reference.subList(0, Math.min(list.size(), reference.size()))).as(id).isEqualTo(list);
      if (!r.getBoolean(r.fieldIndex("truncated"))) {
        assertThat(list).as(id + " is complete").isEqualTo(reference);
      }
    }
    full.ranking().close();
  }

  private static Map<String, List<String>> lists(Dataset<Row> state) {
    Map<String, List<String>> out = new HashMap<>();
    for (Row r : state.collectAsList()) {
      List<String> ids = r.getList(r.fieldIndex("neighbor_ids"));
      List<Float> scores = r.getList(r.fieldIndex("scores"));
      List<String> entries = new ArrayList<>();
      for (int k = 0; k < ids.size(); k++) {
        entries.add(ids.get(k) + "=" + scores.get(k));
      }
      out.put(r.getString(0), entries);
    }
    return out;
  }

  private static String mostListed(IncrementalLists.Outcome outcome) {
    Map<String, Integer> counts = new HashMap<>();
    for (Row r : outcome.ranking().rows().collectAsList()) {
      counts.merge(r.getString(2), 1, Integer::sum);
    }
    return counts.entrySet().stream().max(Map.Entry.<String, Integer>comparingByValue()
        .thenComparing(Map.Entry::getKey, Comparator.reverseOrder())).orElseThrow().getKey();
  }

  private static float[] smallVector(Random random) {
    float[] v = new float[DIM];
    for (int k = 0; k < DIM; k++) {
      v[k] = (random.nextInt(5) - 2) / 8f;
    }
    return v;
  }

  private static Night firstNight(Random random, int n) {
    Map<String, Item> items = new LinkedHashMap<>();
    List<float[]> seen = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id = String.format(Locale.ROOT, "item-%04d", i);
      // a third share a vector with an earlier item: ties everywhere, identical texts for the collapse
      boolean copy = !seen.isEmpty() && random.nextInt(3) == 0;
      float[] v = copy ? seen.get(random.nextInt(seen.size())).clone() : smallVector(random);
      seen.add(v);
      items.put(id, new Item(id, v, 0, value(random, 3), value(random, 4)));
    }
    return new Night(items, Set.of());
  }

  private static String value(Random random, int kinds) {
    int v = random.nextInt(kinds + 1);
    return v == kinds ? null : "v" + v;
  }

  /**
   * The next night: {@code share} of the items changed (new text and vector) or deleted, as many new ones;
   * with {@code deleteHub}, the item listed most often is among the deleted.
   */
  private static Night churn(Night night, Random random, double share, IncrementalLists.Outcome previous,
      boolean deleteHub) {
    Map<String, Item> items = new LinkedHashMap<>(night.items());
    List<String> ids = new ArrayList<>(items.keySet());
    int changes = Math.max(1, (int) Math.round(share * ids.size()));
    Set<String> touched = new HashSet<>();
    if (deleteHub) {
      String hub = mostListed(previous);
      items.remove(hub);
      touched.add(hub);
    }
    java.util.Collections.shuffle(ids, random);
    for (String id : ids.subList(0, Math.min(changes, ids.size()))) {
      if (!touched.add(id)) {
        continue;
      }
      Item item = items.get(id);
      switch (random.nextInt(3)) {
        case 0 -> items.remove(id);
        case 1 -> items.put(id, new Item(id, smallVector(random), item.version() + 1, item.same(), item.exclude()));
        default -> {
          // a new text whose vector is one already in the catalogue: ties between old and new items
          float[] copy = items.values().iterator().next().vector().clone();
          items.put(id, new Item(id, copy, item.version() + 1, item.same(), value(random, 4)));
        }
      }
    }
    int next = night.items().size() + random.nextInt(1000) * 1000;
    for (int c = 0; c < Math.max(1, changes / 3); c++) {
      String id = String.format(Locale.ROOT, "new-%07d", next + c);
      items.put(id, new Item(id, smallVector(random), 0, value(random, 3), value(random, 4)));
    }
    Set<String> reused = new HashSet<>();
    for (Item item : items.values()) {
      Item before = night.items().get(item.id());
      if (before != null && before.version() == item.version()) {
        reused.add(item.id());
      }
    }
    return new Night(items, reused);
  }

  private Dataset<Row> dataset(Night night) {
    List<Row> rows = new ArrayList<>();
    for (Item item : night.items().values()) {
      Float[] boxed = new Float[item.vector().length];
      for (int k = 0; k < boxed.length; k++) {
        boxed[k] = item.vector()[k];
      }
      // the text is the vector's, so identical vectors are identical texts for the collapse
      String text = java.util.Arrays.toString(item.vector()) + (item.version() > 0 ? " v" + item.version() : "");
      rows.add(RowFactory.create(item.id(), text, Integer.toHexString(text.hashCode()) + ":" + text.length(),
          boxed, night.reused().contains(item.id()), item.same(), item.exclude()));
    }
    return spark.createDataFrame(rows, SCHEMA).repartition(3);
  }
}
