package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.itemsim.SparkTestSupport;
import dev.itemsim.embed.EncoderSettings;
import dev.itemsim.embed.ModelSpec;
import dev.itemsim.embed.SparkEncoding;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Explanations recompute every score the retrievers wrote from the stored vectors and texts: the terms add up
 * to the score, and the score equals the ranking's.
 */
class ScoreExplainerTest {
  private static Dataset<Row> items;
  private static Dataset<Row> queries;

  @TempDir
  static java.nio.file.Path scratch;

  @BeforeAll
  static void encode() {
    SparkSession spark = SparkTestSupport.spark();
    List<String> titles = SparkTestSupport.sampleTitles(120);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      rows.add(RowFactory.create("i" + i, titles.get(i)));
    }
    List<Row> asked = new ArrayList<>();
    for (int i = 100; i < 120; i++) {
      asked.add(RowFactory.create("q" + i, titles.get(i)));
    }
    StructType schema = new StructType().add("item_id", "string").add("text", "string");
    EncoderSettings encoder = new EncoderSettings(new ModelSpec("builtin:all-minilm-l6-v2"), 16, 128, 1);
    items = SparkEncoding.encode(spark, spark.createDataFrame(rows, schema), encoder, 2, 64, null).cache();
    queries = SparkEncoding.encode(spark, spark.createDataFrame(asked, schema), encoder, 2, 64, null).cache();
  }

  private static void assertExplained(Retriever retriever, Dataset<Row> q, Dataset<Row> corpus, double tolerance) {
    SparkSession spark = SparkTestSupport.spark();
    NeighborSearch.Options options = new NeighborSearch.Options(5, -1f, null, false);
    List<Object[]> pairs = new ArrayList<>();
    try (Ranking ranking = NeighborSearch.search(spark, retriever, options, q, corpus, scratch.toString())) {
      for (Row r : ranking.rows().collectAsList()) {
        pairs.add(new Object[] {r.getString(0), r.getString(2), r.getFloat(3)});
      }
    }
    assertThat(pairs).hasSizeGreaterThan(50);
    List<ScoreExplainer.Explanation> explained = ScoreExplainer.of(spark, retriever, q, corpus).explain(pairs);
    assertThat(explained).hasSameSizeAs(pairs);
    for (ScoreExplainer.Explanation e : explained) {
      double sum = e.parts().stream().mapToDouble(ScoreExplainer.Part::contribution).sum();
      assertThat(sum).as("terms of %s → %s add up", e.queryId(), e.itemId()).isCloseTo(e.score(), within(1e-5));
      assertThat(e.score()).as("%s → %s: %s", e.queryId(), e.itemId(), e.formula())
          .isCloseTo(e.storedScore(), within(tolerance));
    }
  }

  @Test
  void hybridScoresAreTheEmbeddingAndLexicalTermsTheyAreMadeOf() {
    HybridRetriever hybrid = new HybridRetriever(HybridRetriever.Options.defaults());
    assertExplained(hybrid, items, null, 1e-5);
    assertExplained(hybrid, queries, items, 1e-5);
    ScoreExplainer.Explanation first = ScoreExplainer.of(SparkTestSupport.spark(), hybrid, items, null)
        .explain(List.<Object[]>of(new Object[] {"i0", "i1", null})).get(0);
    assertThat(first.parts()).extracting(ScoreExplainer.Part::name)
        .containsExactly("embedding", "words", "char n-grams", "model numbers");
    assertThat(first.parts()).extracting(ScoreExplainer.Part::weight)
        .containsExactly(0.3, 0.7 * 0.2, 0.7 * 0.45, 0.7 * 0.35);
    assertThat(first.formula()).startsWith(String.format(java.util.Locale.ROOT, "%.4f = 0.300 × embedding",
        first.score()));
  }

  @Test
  void embeddingAndLexicalScoresAreExplainedToo() {
    assertExplained(new EmbeddingRetriever(EmbeddingRetriever.Options.defaults()), items, null, 1e-5);
    assertExplained(new LexicalRetriever(LexicalRetriever.Options.defaults()), queries, items, 1e-5);
  }

  @Test
  void sharedModelNumbersAndWordsAreNamed() {
    SparkSession spark = SparkTestSupport.spark();
    StructType schema = new StructType().add("item_id", "string").add("text", "string");
    Dataset<Row> two = SparkEncoding.encode(spark, spark.createDataFrame(List.of(
        RowFactory.create("a", "Sony Silver Cyber-Shot 7.2 Megapixel Digital Camera - DSCW120"),
        RowFactory.create("b", "Sony DSC-W120 Cyber-shot Digital Camera - Pink"),
        // features both texts share would have no weight (IDF 0) in a corpus of just the two
        RowFactory.create("c", "Bose Acoustimass 5 Series III Speaker System - AM53BK"),
        RowFactory.create("d", "Canon PowerShot SD1100 IS Digital Elph")), schema),
        EncoderSettings.defaults("builtin:all-minilm-l6-v2"), 1, 8, null);
    List<ScoreExplainer.Explanation> pairs = ScoreExplainer.of(spark,
        new HybridRetriever(HybridRetriever.Options.defaults()), two, null).explain(List.of(
            new Object[] {"a", "b", null}, new Object[] {"a", "c", null}));
    ScoreExplainer.Explanation e = pairs.get(0);
    assertThat(e.sharedModelNumbers()).containsExactly("dscw120");
    assertThat(e.sharedWords()).contains("sony", "cyber", "shot", "digital", "camera").doesNotContain("silver");
    assertThat(e.shared()).startsWith("model numbers: dscw120; words: sony");
    assertThat(e.parts().get(3).name()).isEqualTo("model numbers");
    assertThat(e.parts().get(3).cosine()).as("a shared model number").isGreaterThan(0.3);
    ScoreExplainer.Explanation other = pairs.get(1);
    assertThat(other.sharedModelNumbers()).isEmpty();
    assertThat(other.parts().get(3).cosine()).as("no shared model number").isZero();
    assertThat(other.shared()).startsWith("model numbers: none; words: ");
  }

  @Test
  void aProfileScoreIsTheSumOfItsHistoryItemsShares() {
    SparkSession spark = SparkTestSupport.spark();
    List<Row> picked = items.select("item_id", "embedding").orderBy("item_id").limit(3).collectAsList();
    float[][] e = new float[3][];
    for (int i = 0; i < 3; i++) {
      e[i] = CollectedItems.floats(picked.get(i).getList(1));
    }
    double[] w = {3.0, 1.0, 0.5};
    float[] profile = new float[e[0].length];
    double norm = 0;
    double[] sum = new double[profile.length];
    for (int k = 0; k < profile.length; k++) {
      for (int i = 0; i < 3; i++) {
        sum[k] += w[i] * e[i][k];
      }
      norm += sum[k] * sum[k];
    }
    for (int k = 0; k < profile.length; k++) {
      profile[k] = (float) (sum[k] / Math.sqrt(norm));
    }
    List<Row> history = List.of(RowFactory.create(picked.get(0).getString(0), w[0]),
        RowFactory.create(picked.get(1).getString(0), w[1]), RowFactory.create(picked.get(2).getString(0), w[2]));
    Dataset<Row> profiles = spark.createDataFrame(List.of(RowFactory.create("user", "a user", profile, history)),
        UserProfiles.PROFILE_SCHEMA);
    NeighborSearch.Options options = new NeighborSearch.Options(5, -1f, null, false);
    List<Object[]> pairs = new ArrayList<>();
    try (Ranking ranking = NeighborSearch.search(spark, new EmbeddingRetriever(EmbeddingRetriever.Options.defaults()),
        options, profiles, items, scratch.toString())) {
      ranking.rows().collectAsList().forEach(r -> pairs.add(new Object[] {r.getString(0), r.getString(2),
          r.getFloat(3)}));
    }
    List<ScoreExplainer.Explanation> explained = ScoreExplainer.of(spark,
        new EmbeddingRetriever(EmbeddingRetriever.Options.defaults()), profiles, items).explain(pairs);
    assertThat(explained).hasSize(5);
    for (ScoreExplainer.Explanation x : explained) {
      assertThat(x.parts()).hasSize(3).allMatch(p -> p.name().startsWith("history "));
      assertThat(x.score()).isCloseTo(x.storedScore(), within(1e-5));
    }
    double[] weights = explained.get(0).parts().stream().mapToDouble(ScoreExplainer.Part::weight).sorted().toArray();
    double n = Math.sqrt(norm);
    assertThat(weights).containsExactly(new double[] {0.5 / n, 1.0 / n, 3.0 / n}, within(1e-6));
  }
}
