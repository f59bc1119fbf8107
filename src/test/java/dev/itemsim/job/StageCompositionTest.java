package dev.itemsim.job;

import static dev.itemsim.job.JobTestSupport.catalog;
import static dev.itemsim.job.JobTestSupport.product;
import static dev.itemsim.job.JobTestSupport.run;
import static dev.itemsim.job.JobTestSupport.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The jobs are compositions of the same stages: for one configuration, the lists the evaluate job scores are
 * exactly the similar-items job's table, filters and duplicate collapsing included.
 */
class StageCompositionTest {
  @TempDir
  static Path dir;
  static Path catalog;
  static Path matches;
  private final SparkSession spark = SparkTestSupport.spark();

  @BeforeAll
  static void writeCatalog() throws Exception {
    Path plain = catalog(dir, "plain", 40, List.of(
        product("copy-a", "Sony Turntable - PSLX350H", "Sony"),
        product("copy-b", "Sony Turntable - PSLX350H", "Sony"),
        product("copy-c", "Sony Turntable - PSLX350H", "Sony")));
    catalog = dir.resolve("with-groups");
    SparkTestSupport.spark().read().parquet(plain.toString())
        .withColumn("category", org.apache.spark.sql.functions.expr("cast(abs(hash(id)) % 2 as string)"))
        .withColumn("seller", org.apache.spark.sql.functions.expr(
            "case when abs(hash(title)) % 4 = 0 then null else cast(abs(hash(title)) % 5 as string) end"))
        .write().parquet(catalog.toString());
    List<Row> ids = SparkTestSupport.spark().read().parquet(catalog.toString()).select("id").orderBy("id")
        .limit(6).collectAsList();
    matches = dir.resolve("matches.csv");
    Files.write(matches, List.of("id_a,id_b", ids.get(0).getString(0) + "," + ids.get(1).getString(0),
        ids.get(2).getString(0) + "," + ids.get(3).getString(0), "copy-a,copy-b"));
  }

  @ParameterizedTest(name = "scorer {0}")
  @ValueSource(strings = {"embedding", "hybrid", "lexical"})
  void evaluateRanksExactlyWhatSimilarItemsWrites(String scorer) throws Exception {
    String[] shared = {"text.template = \"{title} | {brand}\"", "similarity.scorer = " + scorer,
        "similarity.sameValueOf = category", "similarity.excludeSameValueOf = seller",
        "similarity.collapseDuplicateTexts = true", "similarity.blockSize = 16"};
    Path similarOut = dir.resolve("similar-" + scorer);
    JobTestSupport.Result similar = run(spec(dir, catalog, similarOut, shared));
    assertThat(similar.exitCode()).as(similar.err()).isZero();

    Path evalOut = dir.resolve("eval-" + scorer);
    Path evalSpec = dir.resolve("evaluate-" + scorer + ".conf");
    List<String> lines = new java.util.ArrayList<>(List.of("job = evaluate", "input.path = \"" + catalog + "\"",
        "output.path = \"" + evalOut + "\"", "eval.matches = \"" + matches + "\"", "eval.listSize = 5"));
    lines.addAll(List.of(shared));
    Files.write(evalSpec, lines);
    JobTestSupport.Result evaluate = run(evalSpec);
    assertThat(evaluate.exitCode()).as(evaluate.err()).isZero();

    List<String> written = spark.read().parquet(new OutputLayout(similarOut.toString())
            .similarItemsPath(LocalDate.of(2026, 3, 1)))
        .selectExpr("item_id", "rank", "neighbor_id", "score").orderBy("item_id", "rank").collectAsList()
        .stream().map(Row::toString).toList();
    List<String> scored = spark.read().parquet(new OutputLayout(evalOut.toString())
            .resolve(OutputLayout.evaluation(OutputLayout.RANKED)).toString())
        .filter("direction = 'a_to_b'").selectExpr("item_id", "rank", "neighbor_id", "score")
        .orderBy("item_id", "rank").collectAsList().stream().map(Row::toString).toList();
    assertThat(written).hasSizeGreaterThan(40 * 2);
    assertThat(scored).containsExactlyElementsOf(written);
    // collapsing was in effect in both: copies never list each other
    assertThat(written).noneMatch(r -> r.startsWith("[copy-") && r.matches(".*,copy-[abc],.*"));
  }

  @ParameterizedTest(name = "scorer {0}")
  @ValueSource(strings = {"embedding", "hybrid"})
  void matchRanksExactlyWhatSimilarItemsWritesAgainstASecondCatalogue(String scorer) throws Exception {
    Path left = dir.resolve("left-" + scorer);
    Path right = dir.resolve("right-" + scorer);
    spark.read().parquet(catalog.toString()).filter("abs(hash(id)) % 3 = 0").write().parquet(left.toString());
    spark.read().parquet(catalog.toString()).filter("abs(hash(id)) % 3 <> 0").write().parquet(right.toString());
    String[] shared = {"text.template = \"{title} | {brand}\"", "similarity.scorer = " + scorer,
        "similarity.sameValueOf = category", "similarity.excludeSameValueOf = seller", "similarity.blockSize = 16"};
    Path similarOut = dir.resolve("against-" + scorer);
    JobTestSupport.Result similar = run(spec(dir, left, similarOut, shared), "search.against=" + right);
    assertThat(similar.exitCode()).as(similar.err()).isZero();

    Path matchOut = dir.resolve("match-" + scorer);
    Path matchSpec = dir.resolve("match-" + scorer + ".conf");
    List<String> lines = new java.util.ArrayList<>(List.of("job = match", "input.path = \"" + right + "\"",
        "output.path = \"" + matchOut + "\"", "run.date = \"2026-03-01\"", "similarity.topN = 5",
        "match.kind = catalog", "match.left.path = \"" + left + "\"", "match.left.idColumn = id",
        "match.left.template = \"{title} | {brand}\""));
    lines.addAll(List.of(shared));
    Files.write(matchSpec, lines);
    JobTestSupport.Result match = run(matchSpec);
    assertThat(match.exitCode()).as(match.err()).isZero();

    List<String> written = spark.read().parquet(new OutputLayout(similarOut.toString())
            .similarItemsPath(LocalDate.of(2026, 3, 1)))
        .selectExpr("item_id", "rank", "neighbor_id", "score").orderBy("item_id", "rank").collectAsList()
        .stream().map(Row::toString).toList();
    List<String> matched = spark.read().parquet(new OutputLayout(matchOut.toString())
            .resolve(OutputLayout.matches(LocalDate.of(2026, 3, 1))).toString())
        .selectExpr("left_id", "rank", "item_id", "score").orderBy("left_id", "rank").collectAsList()
        .stream().map(Row::toString).toList();
    assertThat(written).hasSizeGreaterThan(20);
    assertThat(matched).containsExactlyElementsOf(written);
  }
}
