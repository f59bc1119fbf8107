package dev.itemsim.job;

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

  CorpusStage(SparkSession spark, CorpusSettings settings, Stages stages, RunSummary summary) {
    this.spark = spark;
    this.settings = settings;
    this.stages = stages;
    this.summary = summary;
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
    stages.run("write-rejected", "Write rejected rows", () -> {
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

  private Dataset<Row> encode(CatalogSource source, PreparedCatalog catalog) {
    int partitions = SparkEncoding.partitions(spark, settings.encodePartitions());
    LongAccumulator tokens = spark.sparkContext().longAccumulator("tokens" + source.stageSuffix());
    long t0 = System.nanoTime();
    Dataset<Row> encoded = SparkEncoding.encode(spark, catalog.items(), settings.encoder(), partitions,
        settings.sortWindow(), tokens);
    if (!settings.carried().isEmpty()) {
      encoded = encoded.join(catalog.items().drop("text"), "item_id");
    }
    encoded = encoded.persist(StorageLevel.MEMORY_AND_DISK());
    long n = encoded.count();
    double seconds = (System.nanoTime() - t0) / 1e9;
    long perSecond = Math.round(n / Math.max(seconds, 1e-9));
    summary.encoded(source.side(), new EncodeCounts(n, tokens.value(), perSecond));
    LOG.info("Encoded {} items ({} tokens) in {} s: {} items/s", n, tokens.value(),
        String.format(java.util.Locale.ROOT, "%.1f", seconds), perSecond);
    return encoded;
  }
}
