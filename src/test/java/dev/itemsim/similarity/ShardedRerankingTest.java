package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import dev.itemsim.SparkTestSupport;
import dev.itemsim.api.TextEmbedder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lexical and hybrid scorers on the executors give exactly what they gave when the driver gathered
 * everything ({@link DriverReranking}, the previous implementation kept as an oracle): the same lists, ranks
 * and scores to the bit, and the same pair scores, on real sample products encoded with the real model — one
 * catalogue and two, with and without filters, many small shards or one, duplicates collapsed, a minimum score.
 */
@Tag("integration")
class ShardedRerankingTest {
  private static final SearchRequest.FilterColumns FILTERS = new SearchRequest.FilterColumns("category", "seller");

  @TempDir
  static Path dir;
  static Dataset<Row> items;
  static Dataset<Row> sideA;
  static Dataset<Row> sideB;
  private final SparkSession spark = SparkTestSupport.spark();

  @BeforeAll
  static void encodeSampleProducts() {
    SparkSession spark = SparkTestSupport.spark();
    Dataset<Row> products = spark.read().parquet("sample-data/catalog").filter(col("source").isin("abt", "buy"))
        .orderBy("id").limit(320)
        .select(col("id").cast("string").as(SearchItems.ID), col("source"),
            expr("concat_ws(' | ', title, brand)").as(SearchItems.TEXT),
            expr("cast(abs(hash(id)) % 3 as string)").as("category"),
            expr("case when abs(hash(title)) % 4 = 0 then null else cast(abs(hash(title)) % 5 as string) end")
                .as("seller"));
    items = new TextEmbedder().setInputCol(SearchItems.TEXT).setOutputCol(SearchItems.EMBEDDING)
        .transform(products).persist(StorageLevel.MEMORY_AND_DISK());
    assertThat(items.count()).isEqualTo(320);
    sideA = items.filter(col("source").equalTo("abt")).persist(StorageLevel.MEMORY_AND_DISK());
    sideB = items.filter(col("source").equalTo("buy")).persist(StorageLevel.MEMORY_AND_DISK());
    assertThat(sideA.count()).isPositive();
    assertThat(sideB.count()).isPositive();
  }

  private static HybridRetriever.Options hybridOptions(int shardSize) {
    HybridRetriever.Options d = HybridRetriever.Options.defaults();
    return new HybridRetriever.Options(d.embeddingWeight(), new EmbeddingRetriever.Options("auto", 32),
        d.lexical().withShardSize(shardSize));
  }

  private static List<Retriever[]> scorers(int shardSize) {
    HybridRetriever.Options hybrid = hybridOptions(shardSize);
    // a learned blend reads the lexical parts and both candidate ranks: those must reach the executors too
    HybridRetriever.Options learned = new HybridRetriever.Options(hybrid.embeddingWeight(), hybrid.embedding(),
        hybrid.lexical(), new LogisticBlend(-4, new double[] {6, 2, 3, 1, 0.5, 1.5, 1}, hybrid.lexical().lexical().ngram(),
            hybrid.lexical().lexical(), "test"));
    return List.of(
        new Retriever[] {new LexicalRetriever(hybrid.lexical()), new DriverReranking.Lexical(hybrid.lexical())},
        new Retriever[] {new HybridRetriever(hybrid), new DriverReranking.Hybrid(hybrid)},
        new Retriever[] {new HybridRetriever(learned), new DriverReranking.Hybrid(learned)});
  }

  @Test
  void sameListsAndPairScoresAsTheDriverImplementation() {
    int compared = 0;
    for (Retriever[] scorer : scorers(37)) {
      for (boolean self : new boolean[] {true, false}) {
        for (SearchRequest.FilterColumns filters : List.of(SearchRequest.FilterColumns.NONE, FILTERS)) {
          NeighborSearch.Options options = new NeighborSearch.Options(7, -1f, filters, false);
          Dataset<Row> queries = self ? items : sideA;
          Dataset<Row> corpus = self ? null : sideB;
          String what = scorer[0].name() + (self ? " self" : " cross") + (filters.any() ? " filtered" : "");
          compared += assertSame(what, scorer[0], scorer[1], options, queries, corpus);
        }
      }
    }
    assertThat(compared).isGreaterThan(8 * 200);
  }

  @Test
  void oneShardAndCollapsedDuplicatesAndAMinimumScoreToo() {
    // copies of some products under other ids: the same text, vector and filter values
    Dataset<Row> copies = items.limit(12).withColumn(SearchItems.ID, expr("concat('copy-', item_id)"));
    Dataset<Row> withCopies = items.unionByName(copies).persist(StorageLevel.MEMORY_AND_DISK());
    for (Retriever[] scorer : scorers(LexicalRetriever.Options.DEFAULT_SHARD_SIZE)) {
      assertSame(scorer[0].name() + " collapsed", scorer[0], scorer[1],
          new NeighborSearch.Options(5, -1f, SearchRequest.FilterColumns.NONE, true), withCopies, null);
      assertSame(scorer[0].name() + " min score", scorer[0], scorer[1],
          new NeighborSearch.Options(5, 0.45f, FILTERS, false), items, null);
    }
    withCopies.unpersist();
  }

  /** Compares both rankings' rows and pair scores; returns the rows compared. */
  private int assertSame(String what, Retriever sharded, Retriever driver, NeighborSearch.Options options,
      Dataset<Row> queries, Dataset<Row> corpus) {
    String scratch = scratch();
    int compared;
    try (Ranking actual = NeighborSearch.search(spark, sharded, options, queries, corpus, scratch);
        Ranking expected = NeighborSearch.search(spark, driver, options, queries, corpus, scratch())) {
      List<String> expectedRows = rows(expected.rows());
      assertThat(rows(actual.rows())).as(what).isNotEmpty().containsExactlyElementsOf(expectedRows);
      Dataset<Row> pairs = pairs(queries, corpus == null ? queries : corpus);
      assertThat(pairScores(actual.score(pairs))).as(what + " pair scores")
          .containsExactlyElementsOf(pairScores(expected.score(pairs)));
      compared = expectedRows.size();
    }
    // closing the ranking removed its shard files and the embedding candidates' blocks
    try (var left = java.nio.file.Files.walk(Path.of(scratch))) {
      assertThat(left.filter(java.nio.file.Files::isRegularFile).toList()).as(what + " scratch files").isEmpty();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return compared;
  }

  private static String scratch() {
    return dir.resolve("scratch-" + java.util.UUID.randomUUID()).toString();
  }

  /** Rows as strings ordered by item and rank, the score as its bits. */
  private static List<String> rows(Dataset<Row> lists) {
    return lists.orderBy("item_id", "rank").collectAsList().stream()
        .map(r -> r.getString(0) + " " + r.getInt(1) + " " + r.getString(2) + " " + Float.floatToIntBits(r.getFloat(3)))
        .toList();
  }

  private static List<String> pairScores(Dataset<Row> scores) {
    return scores.collectAsList().stream()
        .map(r -> r.getString(0) + " " + r.getString(1) + " " + Float.floatToIntBits(r.getFloat(2))).sorted().toList();
  }

  /** Every 7th query with every 5th corpus item, the same pair twice, and ids no side holds. */
  private Dataset<Row> pairs(Dataset<Row> queries, Dataset<Row> corpus) {
    List<String> q = queries.select(SearchItems.ID).orderBy(SearchItems.ID).as(org.apache.spark.sql.Encoders.STRING())
        .collectAsList();
    List<String> c = corpus.select(SearchItems.ID).orderBy(SearchItems.ID).as(org.apache.spark.sql.Encoders.STRING())
        .collectAsList();
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < q.size(); i += 7) {
      for (int j = i % 5; j < c.size(); j += 5) {
        rows.add(RowFactory.create(q.get(i), c.get(j)));
      }
    }
    rows.add(RowFactory.create(q.get(0), c.get(0)));
    rows.add(RowFactory.create("no-such-item", c.get(0)));
    rows.add(RowFactory.create(q.get(0), "no-such-item"));
    return spark.createDataFrame(rows, new StructType().add("item_id", DataTypes.StringType)
        .add("neighbor_id", DataTypes.StringType));
  }

  @Test
  void repeatedIdsAreRefusedNamingTheId() {
    Dataset<Row> twice = items.limit(20).unionByName(items.limit(1));
    Retriever lexical = new LexicalRetriever(hybridOptions(16).lexical());
    assertThatThrownBy(() -> {
      try (Ranking r = lexical.rank(spark, new SearchRequest(twice, twice, 3, null, scratch()))) {
        r.rows().count();
      }
    }).satisfies(e -> assertThat(causes(e)).anySatisfy(t -> assertThat(t).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("appears twice")));
  }

  private static List<Throwable> causes(Throwable e) {
    List<Throwable> out = new ArrayList<>();
    for (Throwable t = e; t != null; t = t.getCause()) {
      out.add(t);
    }
    return out;
  }

  @Test
  void itemShardsHoldEveryItemOnceInIdOrder() {
    Dataset<Row> some = items.limit(100);
    LexicalFeatures.Fitted tfidf = LexicalFeatures.fit(List.of(some), LexicalRetriever.Options.defaults().lexical());
    ItemShards shards = ItemShards.write(spark, some, tfidf, 6, true, List.of("category", "seller"),
        dir.resolve("shards-" + java.util.UUID.randomUUID()).toString(), "items");
    try {
      assertThat(shards.count()).isEqualTo(100);
      assertThat(shards.dim()).isEqualTo(384);
      List<String> ids = new ArrayList<>();
      for (int s = 0; s < shards.numShards(); s++) {
        Shard shard = shards.read(s, new Shard.Parts(true, true, true, true), null);
        assertThat(shard.rows).isEqualTo(shards.offset(s + 1) - shards.offset(s));
        assertThat(shard.vectors).hasSize(shard.rows * 384);
        assertThat(shard.attrs[0]).hasSize(shard.rows);
        ids.addAll(List.of(shard.ids));
      }
      List<String> sorted = new ArrayList<>(ids);
      sorted.sort(CollectedItems::compareIds);
      assertThat(ids).containsExactlyElementsOf(sorted).doesNotHaveDuplicates().hasSize(100);
      List<Row> index = shards.index(spark).orderBy("idx").collectAsList();
      for (int g = 0; g < index.size(); g++) {
        assertThat(index.get(g).getString(0)).isEqualTo(ids.get(g));
        assertThat(index.get(g).getInt(1)).isEqualTo(g);
      }
    } finally {
      shards.delete();
    }
  }
}
