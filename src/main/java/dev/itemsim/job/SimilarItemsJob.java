package dev.itemsim.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.itemsim.catalog.CatalogPreparation;
import dev.itemsim.catalog.CatalogReader;
import dev.itemsim.catalog.PreparedCatalog;
import dev.itemsim.embed.Encoders;
import dev.itemsim.embed.SparkEncoding;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nightly similar-items job: catalogue → validated item texts → embeddings → exact blocked top-N →
 * {@code embeddings/}, {@code similar_items/run_date=D/}, {@code rejected/run_date=D/} and a run summary
 * under {@code _runs/}. Outputs are published together and atomically ({@link OutputPublisher}).
 */
public final class SimilarItemsJob {
  private static final Logger LOG = LoggerFactory.getLogger(SimilarItemsJob.class);

  public static final StructType SIMILAR_ITEMS_SCHEMA = new StructType()
      .add("item_id", DataTypes.StringType, false)
      .add("rank", DataTypes.IntegerType, false)
      .add("neighbor_id", DataTypes.StringType, false)
      .add("score", DataTypes.FloatType, false)
      .add("model", DataTypes.StringType, false);

  private final SparkSession spark;
  private final SimilarItemsConfig config;
  private final RunSummary summary = new RunSummary();
  private final String runId;
  private final Stages stages;

  public SimilarItemsJob(SparkSession spark, SimilarItemsConfig config) {
    this.spark = spark;
    this.config = config;
    this.runId = config.runDate() + "_" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'")
        .withZone(ZoneOffset.UTC).format(Instant.now());
    this.stages = new Stages(spark, summary, "similar-items");
  }

  /** Runs the job; the summary is also written under {@code <output>/_runs/}. */
  public RunSummary execute() {
    summary.put("job", "similar-items").put("run_id", runId).put("run_date", config.runDate().toString())
        .put("status", "running").put("input", config.inputPath()).put("output", config.outputPath())
        .put("model", config.encoder().model().value())
        .put("encoder", Encoders.describe(config.encoder())).put("top_n", config.topN())
        .put("block_size", config.blockSize()).put("config_digest", config.digest());
    return JobRun.execute(spark, summary, config.outputPath(), runId, runId, this::run);
  }

  private RunSummary run(OutputPublisher publisher) {
    PreparedCatalog catalog = stage("read", "Read and validate " + config.inputPath(),
        () -> readCatalog(config.inputPath(), config.inputFormat(), ""));
    PreparedCatalog against = config.crossCatalogue() ? stage("read-against", "Read and validate "
        + config.againstPath(), () -> readCatalog(config.againstPath(), config.againstFormat(), "against_")) : null;
    Path rejectedDir = publisher.stage("rejected/run_date=" + config.runDate());
    stage("write-rejected", "Write rejected rows", () -> writeRejected(catalog, against, rejectedDir));
    checkRejectedFraction(catalog, publisher);
    if (against != null) {
      checkRejectedFraction(against, publisher);
    }

    Dataset<Row> embeddings = stage("encode", "Encode " + catalog.itemsValid() + " items with "
        + config.encoder().model(), () -> encode(catalog, ""));
    Dataset<Row> againstEmbeddings = against == null ? null : stage("encode-against", "Encode "
        + against.itemsValid() + " items of " + config.againstPath(), () -> encode(against, "against_"));
    Path embeddingsDir = publisher.stage("embeddings");
    stage("write-embeddings", "Write embeddings", () -> writeEmbeddings(embeddings, embeddingsDir));
    if (againstEmbeddings != null) {
      Path againstDir = publisher.stage("embeddings_against");
      stage("write-embeddings-against", "Write embeddings of " + config.againstPath(),
          () -> writeEmbeddings(againstEmbeddings, againstDir));
    }

    Path similarDir = publisher.stage("similar_items/run_date=" + config.runDate());
    long pairs = stage("top-n", "Top-" + config.topN() + " (" + config.scoring().scorer() + ") of " + catalog.itemsValid()
        + " items", () -> topN(embeddings, againstEmbeddings, similarDir, publisher.scratch("blocks")));
    summary.count("pairs_written", pairs);
    stage("publish", "Publish outputs", () -> {
      publisher.commit();
      return null;
    });
    embeddings.unpersist();
    if (againstEmbeddings != null) {
      againstEmbeddings.unpersist();
    }
    return summary;
  }

  private PreparedCatalog readCatalog(String path, String format, String countPrefix) {
    Dataset<Row> raw = CatalogReader.read(spark, path, format, config.csvMaxRecordLines());
    Map<String, String> carry = new LinkedHashMap<>();
    if (!config.sameValueOf().isEmpty()) {
      carry.put(config.sameValueOf(), "similarity.sameValueOf");
    }
    if (!config.excludeSameValueOf().isEmpty()) {
      carry.put(config.excludeSameValueOf(), "similarity.excludeSameValueOf");
    }
    PreparedCatalog catalog = CatalogPreparation.prepare(raw, path, config.idColumn(), config.titleColumn(),
        config.template(), carry);
    summary.count(countPrefix + "items_read", catalog.itemsRead())
        .count(countPrefix + "items_rejected", catalog.itemsRejected())
        .count(countPrefix + "rejected_by_reason", catalog.rejectedByReason());
    LOG.info("Read {} rows of {}: {} valid, {} rejected {}", catalog.itemsRead(), path, catalog.itemsValid(),
        catalog.itemsRejected(), catalog.rejectedByReason());
    return catalog;
  }

  private Void writeRejected(PreparedCatalog catalog, PreparedCatalog against, Path dir) {
    Dataset<Row> rejected = against == null ? catalog.rejected() : catalog.rejected().unionByName(against.rejected());
    rejected.coalesce(1).write().parquet(dir.toString());
    return null;
  }

  private void checkRejectedFraction(PreparedCatalog catalog, OutputPublisher publisher) {
    double fraction = (double) catalog.itemsRejected() / catalog.itemsRead();
    if (catalog.itemsValid() == 0 || fraction > config.maxRejectedFraction()) {
      publisher.commitOnly("rejected/run_date=" + config.runDate());
      throw new TooManyRejectsException(String.format(
          "%d of %d rows rejected (%.1f%%, limit validation.maxRejectedFraction = %.3f): %s. Rejected rows are in"
              + " %s/rejected/run_date=%s; similar_items and embeddings were left as they were.",
          catalog.itemsRejected(), catalog.itemsRead(), 100 * fraction, config.maxRejectedFraction(),
          catalog.rejectedByReason(), config.outputPath(), config.runDate()));
    }
  }

  private Dataset<Row> encode(PreparedCatalog catalog, String countPrefix) {
    int partitions = SparkEncoding.partitions(spark, config.encodePartitions());
    LongAccumulator tokens = spark.sparkContext().longAccumulator("tokens");
    long t0 = System.nanoTime();
    Dataset<Row> encoded = SparkEncoding.encode(spark, catalog.items(), config.encoder(), partitions,
        config.sortWindow(), tokens);
    if (!config.filterColumns().isEmpty()) {
      encoded = encoded.join(catalog.items().drop("text"), "item_id");
    }
    encoded = encoded.persist(StorageLevel.MEMORY_AND_DISK());
    long n = encoded.count();
    double seconds = (System.nanoTime() - t0) / 1e9;
    summary.count(countPrefix + "items_encoded", n).count(countPrefix + "tokens_encoded", tokens.value());
    summary.put(countPrefix + "encode_items_per_s", Math.round(n / Math.max(seconds, 1e-9)));
    LOG.info("Encoded {} items ({} tokens) in {} s: {} items/s", n, tokens.value(),
        String.format("%.1f", seconds), Math.round(n / Math.max(seconds, 1e-9)));
    return encoded;
  }

  private Void writeEmbeddings(Dataset<Row> embeddings, Path dir) {
    embeddings.select(col("item_id"), lit(config.encoder().model().value()).as("model"), col("text_hash"),
            col("embedding"), col("text"))
        .orderBy("item_id")
        .coalesce(Math.max(1, (int) (summaryCount("items_encoded") / 500_000)))
        .write().parquet(dir.toString());
    return null;
  }

  private long topN(Dataset<Row> embeddings, Dataset<Row> againstEmbeddings, Path dir, Path blocksDir) {
    if (NeighborSearch.ranksFromBlockFiles(config)) {
      LOG.info("Top-{} (embedding) of the catalogue from vector block files of {} rows", config.topN(),
          config.blockSize());
      NeighborSearch.BlockRanking ranking = new NeighborSearch(spark, config, summary).fromBlockFiles(embeddings,
          blocksDir);
      try {
        ranking.rows().coalesce(Math.max(1, (int) (summaryCount("items_encoded") / 200_000))).write()
            .parquet(dir.toString());
      } finally {
        ranking.blocks().delete();
      }
      return spark.read().parquet(dir.toString()).count();
    }
    int attrs = config.filterColumns().size();
    EncodedItems queries = EncodedItems.collect(embeddings, config.blockSize(), attrs);
    EncodedItems corpus = againstEmbeddings == null ? queries
        : EncodedItems.collect(againstEmbeddings, config.blockSize(), attrs);
    LOG.info("Top-{} ({}) of {} items among {} ({} x {} blocks of {})", config.topN(), config.scoring().scorer(),
        queries.ids().length, corpus.ids().length, queries.blocks().numBlocks(), corpus.blocks().numBlocks(),
        config.blockSize());
    Dataset<Row> rows = new NeighborSearch(spark, config, summary).run(queries, corpus);
    rows.coalesce(Math.max(1, queries.ids().length / 200_000)).write().parquet(dir.toString());
    return spark.read().parquet(dir.toString()).count();
  }

  private long summaryCount(String key) {
    Object v = summary.counts().get(key);
    return v instanceof Number n ? n.longValue() : 0;
  }

  private <T> T stage(String name, String description, Supplier<T> work) {
    return stages.run(name, description, work);
  }


}
