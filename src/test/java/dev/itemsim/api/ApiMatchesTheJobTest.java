package dev.itemsim.api;

import static dev.itemsim.job.JobTestSupport.catalog;
import static dev.itemsim.job.JobTestSupport.run;
import static dev.itemsim.job.JobTestSupport.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import dev.itemsim.job.OutputLayout;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The public API produces what the similar-items job writes: the same vectors, the same lists. */
class ApiMatchesTheJobTest {
  @TempDir
  static Path dir;
  static OutputLayout embeddingRun;
  static OutputLayout hybridRun;
  private final SparkSession spark = SparkTestSupport.spark();

  @BeforeAll
  static void runTheJob() throws Exception {
    Path catalog = catalog(dir, "catalog", 80, List.of());
    embeddingRun = new OutputLayout(dir.resolve("embedding").toString());
    hybridRun = new OutputLayout(dir.resolve("hybrid").toString());
    assertThat(run(spec(dir, catalog, Path.of(embeddingRun.root())), "similarity.scorer=embedding").exitCode())
        .isZero();
    assertThat(run(spec(dir, catalog, Path.of(hybridRun.root())), "similarity.scorer=hybrid").exitCode()).isZero();
  }

  private Dataset<Row> jobEmbeddings() {
    return spark.read().parquet(embeddingRun.resolve(OutputLayout.EMBEDDINGS).toString());
  }

  private List<String> jobLists(OutputLayout run) {
    return rows(spark.read().parquet(run.similarItemsPath(LocalDate.of(2026, 3, 1))));
  }

  @Test
  void textEmbedderInAPipelineGivesTheJobsVectors() {
    Dataset<Row> texts = jobEmbeddings().select("item_id", "text");
    TextEmbedder embedder = new TextEmbedder().setInputCol("text").setOutputCol("vector").setBatchSize(7);
    Dataset<Row> mine = new Pipeline().setStages(new PipelineStage[] {embedder}).fit(texts).transform(texts);
    Map<String, List<Float>> job = new HashMap<>();
    jobEmbeddings().select("item_id", "embedding").collectAsList().forEach(r -> job.put(r.getString(0), r.getList(1)));
    List<Row> rows = mine.select("item_id", "vector").collectAsList();
    assertThat(rows).hasSize(80);
    for (Row r : rows) {
      List<Float> a = r.getList(1);
      List<Float> b = job.get(r.getString(0));
      double dot = 0;
      for (int k = 0; k < a.size(); k++) {
        dot += a.get(k) * b.get(k);
      }
      assertThat(dot).as(r.getString(0)).isGreaterThanOrEqualTo(0.99999);
    }
    // as an ML Vector too
    Row first = new TextEmbedder().setInputCol("text").setOutputType("vector").transform(texts).first();
    assertThat(first.<org.apache.spark.ml.linalg.Vector>getAs("embedding").size()).isEqualTo(384);
  }

  @Test
  void nearestNeighborsOnTheJobsEmbeddingsGivesItsTable() {
    Dataset<Row> lists = new NearestNeighbors().setIdCol("item_id").setVectorCol("embedding").setTopN(5)
        .setBlockSize(16).search(jobEmbeddings());
    assertThat(rows(lists)).containsExactlyElementsOf(jobLists(embeddingRun));
  }

  @Test
  void hybridSearchOnTheJobsEmbeddingsGivesItsHybridTable() {
    Dataset<Row> lists = new HybridSearch().setIdCol("item_id").setTextCol("text").setVectorCol("embedding")
        .setTopN(5).setBlockSize(16).search(jobEmbeddings());
    assertThat(rows(lists)).containsExactlyElementsOf(jobLists(hybridRun));
  }

  /** Lists as comparable strings: item, rank, neighbour, score rounded to 1e-5 (inputs are re-normalised). */
  private static List<String> rows(Dataset<Row> lists) {
    return lists.selectExpr("item_id", "rank", "neighbor_id", "round(score, 5)").orderBy("item_id", "rank")
        .collectAsList().stream().map(Row::toString).toList();
  }
}
