package dev.itemsim.api;

import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The README's library example, verbatim between the markers (a test checks the README shows exactly this
 * code, and runs it). It uses nothing of itemsim but {@code dev.itemsim.api}.
 */
final class ReadmeExample {
  record Result(Dataset<Row> embedded, Dataset<Row> similar, Dataset<Row> blended) {}

  private ReadmeExample() {}

  static Result run(SparkSession spark, String catalog, String modelDir) throws java.io.IOException {
    // README:start
    // products: any DataFrame with an id and a text column
    Dataset<Row> products = spark.read().parquet(catalog)
        .selectExpr("id", "concat_ws(' | ', title, brand) AS text");

    TextEmbedder embedder = new TextEmbedder()
        .setInputCol("text").setOutputCol("embedding")
        .setModel("builtin:all-minilm-l6-v2")           // or a local model folder
        .setBatchSize(32).setMaxTokens(128);
    PipelineModel model = new Pipeline().setStages(new PipelineStage[] {embedder}).fit(products);
    Dataset<Row> embedded = model.transform(products).cache();

    // exact cosine top-10 of every product: item_id, rank, neighbor_id, score
    Dataset<Row> similar = new NearestNeighbors()
        .setIdCol("id").setVectorCol("embedding").setTopN(10)
        .search(embedded);

    // the same with itemsim's hybrid (embedding + TF-IDF) score
    Dataset<Row> blended = new HybridSearch()
        .setIdCol("id").setTextCol("text").setVectorCol("embedding").setTopN(10)
        .search(embedded);

    model.write().overwrite().save(modelDir);          // PipelineModel.load(modelDir) in the next run
    // README:end
    return new Result(embedded, similar, blended);
  }
}
