package dev.itemsim.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sha2;

import dev.itemsim.StrictReads;
import dev.itemsim.catalog.CatalogKeys;
import dev.itemsim.catalog.CatalogPreparation;
import dev.itemsim.catalog.CatalogReader;
import dev.itemsim.catalog.PreparedCatalog;
import dev.itemsim.embed.EncoderFingerprint;
import dev.itemsim.embed.EncoderUsage;
import dev.itemsim.embed.SparkEncoding;
import dev.itemsim.job.RunSummary.CatalogCounts;
import dev.itemsim.job.RunSummary.EncodeCounts;
import dev.itemsim.similarity.IncrementalLists;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read → validate → build texts → encode, for every job: each catalogue is read and its rows classified
 * ({@link CatalogPreparation}), the rejected rows of all catalogues are written to one staged table, the
 * reject limit is checked per catalogue, then the valid items are encoded with the filter columns carried
 * along.
 *
 * <p>Encoding reuses earlier vectors when the job names an embeddings table for a side ({@link #reusing}, read
 * by {@link PreviousVectors}): an item whose id, text hash (of the text as encoded, prefix included) and
 * {@link EncoderFingerprint} match a row of it takes that row's vector (column
 * {@value IncrementalLists#VECTOR_REUSED} true); the others are encoded. The similar-items job names its own
 * previous output, the match job {@code match.catalogEmbeddings}.
 */
final class CorpusStage {
  private static final Logger LOG = LoggerFactory.getLogger(CorpusStage.class);
  /** Parquet row-group size of the encoded rows' scratch files: what one writing task buffers. */
  private static final int ROW_GROUP_BYTES = 16 << 20;

  /**
   * One catalogue ready to search.
   *
   * @param items {@code item_id, text, text_hash, embedding, vector_reused, attr_k...}, read from the scratch
   *     Parquet files the encode stage wrote: a {@link dev.itemsim.similarity.SearchItems} dataset
   * @param fingerprint the encoder's, stored beside each vector
   */
  record Encoded(CatalogSource source, PreparedCatalog catalog, Dataset<Row> items, EncoderFingerprint fingerprint) {
    void release() {
      catalog.release();
    }
  }

  private final SparkSession spark;
  private final CorpusSettings settings;
  private final Stages stages;
  private final RunSummary summary;
  private final Map<RunSummary.Side, PreviousVectors.Source> reusable = new EnumMap<>(RunSummary.Side.class);
  private EncoderFingerprint fingerprint;

  CorpusStage(SparkSession spark, CorpusSettings settings, Stages stages, RunSummary summary) {
    this.spark = spark;
    this.settings = settings;
    this.stages = stages;
    this.summary = summary;
  }

  /**
   * Takes the vectors of items of {@code side} from the embeddings table {@code previous} names (see
   * {@link PreviousVectors}) instead of encoding them. The summary then reports the side's reuse: items
   * reused, items of the table that are gone, or why nothing could be reused ({@link RunSummary#reuse}).
   */
  CorpusStage reusing(RunSummary.Side side, PreviousVectors.Source previous) {
    reusable.put(side, previous);
    return this;
  }

  /**
   * Prepares {@code sources} in order; their rejected rows are written to {@code rejectedDir} (a staged
   * folder), the encoded rows of each to a folder under {@code scratchDir} (a working folder of the run, removed
   * with it) that later stages read.
   *
   * @throws TooManyRejectsException when a catalogue has no valid row or rejects more than
   *     {@code validation.maxRejectedFraction} of its rows (its staged rejected rows are kept for the caller)
   */
  List<Encoded> run(List<CatalogSource> sources, Path rejectedDir, Path scratchDir) {
    List<PreparedCatalog> catalogs = prepare(sources, rejectedDir);
    List<Encoded> out = new ArrayList<>();
    for (int i = 0; i < sources.size(); i++) {
      CatalogSource source = sources.get(i);
      PreparedCatalog catalog = catalogs.get(i);
      Dataset<Row> items = stages.run("encode" + source.stageSuffix(), "Encode " + catalog.itemsValid()
          + " items of " + source.path() + " with " + settings.encoder().model(),
          () -> encode(source, catalog, reusable.get(source.side()),
              new Path(scratchDir, "encoded" + source.stageSuffix())));
      out.add(new Encoded(source, catalog, items, fingerprint()));
    }
    return out;
  }

  /**
   * The same as {@link #run} without encoding: each catalogue read, validated and given its texts, the rejected
   * rows written, the reject limit checked.
   */
  List<PreparedCatalog> prepare(List<CatalogSource> sources, Path rejectedDir) {
    List<PreparedCatalog> catalogs = new ArrayList<>();
    for (CatalogSource source : sources) {
      catalogs.add(stages.run("read" + source.stageSuffix(), "Read and validate " + source.path(),
          () -> read(source)));
    }
    stages.run("write-rejected" + sources.get(0).stageSuffix(), "Write rejected rows", () -> {
      Dataset<Row> rejected = catalogs.get(0).rejected();
      for (PreparedCatalog other : catalogs.subList(1, catalogs.size())) {
        rejected = rejected.unionByName(other.rejected());
      }
      Tables.writeRejected(rejected, rejectedDir);
      return null;
    });
    for (int i = 0; i < sources.size(); i++) {
      checkRejectedFraction(sources.get(i), catalogs.get(i), rejectedDir);
    }
    return catalogs;
  }

  private PreparedCatalog read(CatalogSource source) {
    CatalogKeys keys = source.keys();
    Dataset<Row> raw = CatalogReader.read(spark, source.path(), keys.path(), source.format(),
        settings.csvMaxRecordLines());
    PreparedCatalog catalog = CatalogPreparation.prepare(raw, source.path(), keys, settings.idColumn(),
        settings.titleColumn(), settings.template(), settings.carried());
    summary.catalog(source.side(), new CatalogCounts(catalog.itemsRead(), catalog.itemsRejected(),
        catalog.rejectedByReason()));
    LOG.info("Read {} rows of {}: {} valid, {} rejected {}", catalog.itemsRead(), source.path(),
        catalog.itemsValid(), catalog.itemsRejected(), catalog.rejectedByReason());
    return catalog;
  }

  private void checkRejectedFraction(CatalogSource source, PreparedCatalog catalog, Path rejectedDir) {
    double fraction = (double) catalog.itemsRejected() / catalog.itemsRead();
    if (catalog.itemsValid() == 0 || fraction > settings.maxRejectedFraction()) {
      throw new TooManyRejectsException(String.format(java.util.Locale.ROOT,
          "%s: %d of %d rows rejected (%.1f%%, limit validation.maxRejectedFraction = %.3f): %s. No table was"
              + " replaced.", source.path(), catalog.itemsRejected(), catalog.itemsRead(), 100 * fraction,
          settings.maxRejectedFraction(), catalog.rejectedByReason()), rejectedDir);
    }
  }

  /** The encoder's fingerprint, computed once (it reads the model files). */
  EncoderFingerprint fingerprint() {
    if (fingerprint == null) {
      fingerprint = EncoderFingerprint.of(settings.encoder());
    }
    return fingerprint;
  }

  private static Dataset<Row> prefixed(Dataset<Row> items, String prefix) {
    return prefix.isEmpty() ? items : items.withColumn("text", concat(lit(prefix), col("text")));
  }

  private Dataset<Row> encode(CatalogSource source, PreparedCatalog catalog, PreviousVectors.Source previous,
      Path encodedDir) {
    int partitions = SparkEncoding.partitions(spark, settings.encodePartitions());
    LongAccumulator tokens = spark.sparkContext().longAccumulator("tokens" + source.stageSuffix());
    EncoderUsage usage = EncoderUsage.register(spark.sparkContext(), "encoder usage" + source.stageSuffix());
    summary.encoderUsage(source.side(), usage);
    long t0 = System.nanoTime();
    PreviousVectors.Found found = previous == null ? null : PreviousVectors.read(spark, previous, fingerprint());
    Dataset<Row> texts = prefixed(catalog.items().select("item_id", "text"), source.encodePrefix());
    Dataset<Row> encoded;
    if (found != null && found.vectors() != null) {
      Dataset<Row> cached = found.vectors().select(col("item_id").as("_cid"), col("text_hash").as("_chash"),
          col("embedding").as("_cvec"));
      Dataset<Row> looked = texts.withColumn("text_hash", sha2(col("text"), 256))
          .join(cached, col("item_id").equalTo(col("_cid")).and(col("text_hash").equalTo(col("_chash"))), "left");
      Dataset<Row> reused = looked.filter(col("_cvec").isNotNull())
          .select(col("item_id"), col("text"), col("text_hash"), col("_cvec").as("embedding"),
              lit(true).as(IncrementalLists.VECTOR_REUSED));
      Dataset<Row> toEncode = looked.filter(col("_cvec").isNull()).select("item_id", "text");
      encoded = reused.unionByName(withReused(SparkEncoding.encode(spark, toEncode, settings.encoder(), partitions,
          settings.sortWindow(), tokens), false));
    } else {
      encoded = withReused(SparkEncoding.encode(spark, texts, settings.encoder(), partitions, settings.sortWindow(),
          tokens, usage), false);
    }
    if (!source.encodePrefix().isEmpty()) {
      // the hash stays that of the encoded text; the stored (and lexically scored) text loses the prefix
      int length = source.encodePrefix().codePointCount(0, source.encodePrefix().length());
      encoded = encoded.withColumn("text", expr("substring(text, " + (length + 1) + ")"));
    }
    if (!settings.carried().isEmpty()) {
      encoded = encoded.join(catalog.items().drop("text"), "item_id");
    }
    encoded = writeAndReadBack(encoded, encodedDir);
    long n = encoded.count();
    long reusedCount = found != null && found.vectors() != null
        ? encoded.filter(col(IncrementalLists.VECTOR_REUSED)).count() : 0;
    double seconds = (System.nanoTime() - t0) / 1e9;
    long encodedCount = n - reusedCount;
    long perSecond = Math.round(encodedCount / Math.max(seconds, 1e-9));
    summary.encoded(source.side(), new EncodeCounts(encodedCount, reusedCount, tokens.value(), perSecond));
    if (found != null) {
      Long deleted = found.ids() == null ? null
          : found.ids().join(texts, found.ids().col("item_id").equalTo(texts.col("item_id")), "left_anti").count();
      summary.reuse(source.side(), new RunSummary.VectorReuse(found.whyNone(), deleted));
      found.release();
      LOG.info("Encoded {} items ({} tokens) and reused {} vectors of the previous run in {} s{}", encodedCount,
          tokens.value(), reusedCount, String.format(java.util.Locale.ROOT, "%.1f", seconds),
          deleted == null ? "" : "; " + deleted + " items of the previous run are gone");
    } else {
      LOG.info("Encoded {} items ({} tokens) in {} s: {} items/s", n, tokens.value(),
          String.format(java.util.Locale.ROOT, "%.1f", seconds), perSecond);
    }
    EncoderUsage.Report where = usage.report();
    LOG.info("Encode stage: {} encode tasks in {} JVMs, {} model loads, devices {}", where.tasks(), where.jvms(),
        where.loads(), where.devices());
    for (String note : where.notes()) {
      LOG.warn("{} (see the run summary's encoder_fallback; docs/OPERATIONS.md, GPU executors)", note);
    }
    return encoded;
  }

  /**
   * Writes the encoded rows to Parquet files and returns a dataset reading them: later stages read the vectors a
   * few times, and neither re-encode nor hold them in the executors' memory. Not a cache: Spark writes a
   * persisted partition through its serializer's stream, and the default (Java) serializer's stream references
   * every object written until its reset interval ({@code spark.serializer.objectStreamReset}), which a
   * partition's dozen cached batches never reach, so a task held its whole partition's vectors. The Parquet
   * writer holds one row group, capped at {@value #ROW_GROUP_BYTES} bytes, whatever the partition size.
   */
  private Dataset<Row> writeAndReadBack(Dataset<Row> encoded, Path dir) {
    encoded.write().mode("overwrite").option("parquet.block.size", ROW_GROUP_BYTES)
        .option("parquet.enable.dictionary", false).parquet(dir.toString());
    return StrictReads.parquet(spark, dir.toString());
  }

  private static Dataset<Row> withReused(Dataset<Row> encoded, boolean reused) {
    return encoded.withColumn(IncrementalLists.VECTOR_REUSED, lit(reused));
  }
}
