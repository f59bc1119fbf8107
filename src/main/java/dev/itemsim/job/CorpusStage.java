package dev.itemsim.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sha2;

import dev.itemsim.catalog.CatalogPreparation;
import dev.itemsim.catalog.CatalogReader;
import dev.itemsim.catalog.PreparedCatalog;
import dev.itemsim.embed.SparkEncoding;
import dev.itemsim.job.RunSummary.CatalogCounts;
import dev.itemsim.job.RunSummary.EncodeCounts;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read → validate → build texts → encode, for every job: each catalogue is read and its rows classified
 * ({@link CatalogPreparation}), the rejected rows of all catalogues are written to one staged table, the
 * reject limit is checked per catalogue, then the valid items are encoded with the filter columns carried
 * along.
 */
final class CorpusStage {
  private static final Logger LOG = LoggerFactory.getLogger(CorpusStage.class);

  /**
   * One catalogue ready to search.
   *
   * @param items {@code item_id, text, text_hash, embedding, attr_k...}, persisted: a
   *     {@link dev.itemsim.similarity.SearchItems} dataset
   */
  record Encoded(CatalogSource source, PreparedCatalog catalog, Dataset<Row> items) {
    void release() {
      items.unpersist();
      catalog.release();
    }
  }

  private final SparkSession spark;
  private final CorpusSettings settings;
  private final Stages stages;
  private final RunSummary summary;
  private final java.util.Map<RunSummary.Side, ReusableVectors> reusable = new java.util.EnumMap<>(
      RunSummary.Side.class);

  CorpusStage(SparkSession spark, CorpusSettings settings, Stages stages, RunSummary summary) {
    this.spark = spark;
    this.settings = settings;
    this.stages = stages;
    this.summary = summary;
  }

  /**
   * Takes the vectors of items of {@code side} whose id and encoded text are unchanged from {@code vectors}
   * instead of encoding them; the summary counts them as {@code <side>items_reused}.
   */
  CorpusStage reusing(RunSummary.Side side, ReusableVectors vectors) {
    if (vectors.usable()) {
      reusable.put(side, vectors);
    }
    return this;
  }

  /**
   * Prepares {@code sources} in order; their rejected rows are written to {@code rejectedDir} (a staged
   * folder).
   *
   * @throws TooManyRejectsException when a catalogue has no valid row or rejects more than
   *     {@code validation.maxRejectedFraction} of its rows (its staged rejected rows are kept for the caller)
   */
  List<Encoded> run(List<CatalogSource> sources, Path rejectedDir) {
    List<PreparedCatalog> catalogs = prepare(sources, rejectedDir);
    List<Encoded> out = new ArrayList<>();
    for (int i = 0; i < sources.size(); i++) {
      CatalogSource source = sources.get(i);
      PreparedCatalog catalog = catalogs.get(i);
      Dataset<Row> items = stages.run("encode" + source.stageSuffix(), "Encode " + catalog.itemsValid()
          + " items of " + source.path() + " with " + settings.encoder().model(), () -> encode(source, catalog));
      out.add(new Encoded(source, catalog, items));
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
    Dataset<Row> raw = CatalogReader.read(spark, source.path(), source.format(), settings.csvMaxRecordLines());
    PreparedCatalog catalog = CatalogPreparation.prepare(raw, source.path(), settings.idColumn(),
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

  private static Dataset<Row> prefixed(Dataset<Row> items, String prefix) {
    return prefix.isEmpty() ? items : items.withColumn("text", concat(lit(prefix), col("text")));
  }

  private Dataset<Row> encode(CatalogSource source, PreparedCatalog catalog) {
    int partitions = SparkEncoding.partitions(spark, settings.encodePartitions());
    LongAccumulator tokens = spark.sparkContext().longAccumulator("tokens" + source.stageSuffix());
    long t0 = System.nanoTime();
    Dataset<Row> texts = prefixed(catalog.items().select("item_id", "text"), source.encodePrefix());
    ReusableVectors previous = reusable.get(source.side());
    Dataset<Row> encoded;
    long toEncode = -1;
    Dataset<Row> changed = null;
    if (previous == null) {
      encoded = SparkEncoding.encode(spark, texts, settings.encoder(), partitions, settings.sortWindow(), tokens);
    } else {
      // the stored hash is SparkEncoding.textHash of the encoded text: SHA-256 of its UTF-8, lower-case hex
      Dataset<Row> hashed = texts.withColumn("text_hash", sha2(col("text"), 256));
      Dataset<Row> stored = previous.vectors().select(col("item_id").as("_id"), col("text_hash").as("_hash"),
          col("embedding").as("_embedding"));
      org.apache.spark.sql.Column same = hashed.col("item_id").equalTo(stored.col("_id"))
          .and(hashed.col("text_hash").equalTo(stored.col("_hash")));
      Dataset<Row> reused = hashed.join(stored, same).select(col("item_id"), col("text"), col("text_hash"),
          col("_embedding").as("embedding"));
      changed = hashed.join(stored, same, "left_anti").select("item_id", "text").cache();
      toEncode = changed.count();
      encoded = SparkEncoding.encode(spark, changed, settings.encoder(), partitions, settings.sortWindow(), tokens)
          .unionByName(reused);
    }
    if (!source.encodePrefix().isEmpty()) {
      // the hash stays that of the encoded text; the stored (and lexically scored) text loses the prefix
      int length = source.encodePrefix().codePointCount(0, source.encodePrefix().length());
      encoded = encoded.withColumn("text", expr("substring(text, " + (length + 1) + ")"));
    }
    if (!settings.carried().isEmpty()) {
      encoded = encoded.join(catalog.items().drop("text"), "item_id");
    }
    encoded = encoded.persist(StorageLevel.MEMORY_AND_DISK());
    long n = encoded.count();
    double seconds = (System.nanoTime() - t0) / 1e9;
    long perSecond = Math.round(n / Math.max(seconds, 1e-9));
    summary.encoded(source.side(), new EncodeCounts(n, tokens.value(), perSecond));
    if (changed != null) {
      changed.unpersist();
      summary.count(source.side().prefix() + "items_reused", n - toEncode);
      LOG.info("Reused the stored vectors of {} of {} items; encoded {}", n - toEncode, n, toEncode);
    }
    LOG.info("Encoded {} items ({} tokens) in {} s: {} items/s", n, tokens.value(),
        String.format(java.util.Locale.ROOT, "%.1f", seconds), perSecond);
    return encoded;
  }
}
