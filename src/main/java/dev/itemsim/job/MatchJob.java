package dev.itemsim.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;

import dev.itemsim.StrictReads;
import dev.itemsim.catalog.CatalogReader;
import dev.itemsim.catalog.HistoryPreparation;
import dev.itemsim.embed.Encoders;
import dev.itemsim.job.RunSummary.CatalogCounts;
import dev.itemsim.job.RunSummary.Side;
import dev.itemsim.similarity.NeighborSearch;
import dev.itemsim.similarity.Ranking;
import dev.itemsim.similarity.UserProfiles;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Search, ads and recommendations on the similar-items engine: every row of a left table — a text
 * (query, ad text, question), a user's history, or an item of a second catalogue — gets its top-N catalogue
 * items. The catalogue goes through the same corpus stage as the similar-items job (read, validate, text,
 * encode), the left texts through it too (with the model's query prefix for texts), user histories become
 * profile vectors ({@link UserProfiles}); the lists come from the shared retrieval stage
 * ({@link NeighborSearch}, the configured retriever and filters). Writes {@code matches/run_date=D/},
 * {@code match_left/run_date=D/} (what each left row was matched with), {@code match_rejected/run_date=D/}
 * (left rows and users not matched, with reasons), the catalogue's {@code embeddings/} and
 * {@code rejected/run_date=D/}, published together, and a run summary.
 */
public final class MatchJob {
  private static final Logger LOG = LoggerFactory.getLogger(MatchJob.class);

  /** {@code matches}: one row per (left row, rank). */
  static final String[] MATCH_COLUMNS = {"left_id", "rank", "item_id", "score"};

  private final SparkSession spark;
  private final MatchConfig config;
  private final RunSummary summary;
  private final String runId;
  private final Stages stages;

  public MatchJob(SparkSession spark, MatchConfig config) {
    this.spark = spark;
    this.config = config;
    this.runId = config.runDate() + "_" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'")
        .withZone(ZoneOffset.UTC).format(Instant.now());
    this.summary = new RunSummary(new RunSummary.Header(MatchConfig.JOB, runId, config.runDate().toString(),
        config.catalog().path(), null, null, config.output().root(), config.corpus().encoder().model().value(),
        Encoders.describe(config.corpus().encoder()), config.topN(), config.digest()));
    summary.left(config.kind().value(), config.left().path());
    summary.scorerSettings(config.retriever().settings());
    this.stages = new Stages(spark, summary, MatchConfig.JOB);
  }

  /** Runs the job; the summary is also written under {@code <output>/_runs/match_<run>.json}. */
  public RunSummary execute() {
    Map<String, String> inputs = new LinkedHashMap<>();
    inputs.put("input.path", config.catalog().path());
    inputs.put("match.left.path", config.left().path());
    if (!config.catalogEmbeddings().isEmpty()) {
      inputs.put("match.catalogEmbeddings", config.catalogEmbeddings());
    }
    return JobRun.execute(spark, summary, config.output(), runId, MatchConfig.JOB + "_" + runId, inputs, this::run);
  }

  /** What the left side contributes to the search: the query items, and what to take out of their lists. */
  private record Left(Dataset<Row> queries, long count, Dataset<Row> excluded, long maxExcluded, Runnable release) {}

  private RunSummary run(OutputPublisher publisher) {
    Left left;
    CorpusStage.Encoded catalogue;
    if (config.kind() == MatchConfig.Kind.USERS) {
      catalogue = encodeCatalogue(publisher);
      left = users(publisher, catalogue);
    } else {
      left = texts(publisher);
      catalogue = encodeCatalogue(publisher);
    }
    Path leftDir = publisher.stage(OutputLayout.matchLeft(config.runDate()));
    stages.run("write-match-left", "Write what the left rows were matched with", () -> {
      Tables.writeMatchLeft(left.queries(), leftDir);
      return null;
    });
    Path matchesDir = publisher.stage(OutputLayout.matches(config.runDate()));
    long queries = left.count();
    long pairs = stages.run("top-n", "Top-" + config.topN() + " (" + config.retriever().name() + ") of "
        + queries + " " + config.kind().value() + " rows", () -> {
          int listSize = (int) Math.min(NeighborSearch.Options.MAX_TOP_N, config.topN() + left.maxExcluded());
          if (left.maxExcluded() > 0 && listSize < config.topN() + left.maxExcluded()) {
            LOG.warn("A user excludes {} items; lists are searched {} long, so users with that many exclusions may"
                + " get fewer than {} items", left.maxExcluded(), listSize, config.topN());
          }
          try (Ranking ranking = NeighborSearch.search(spark, config.retriever(), config.search().withTopN(listSize),
              left.queries(), catalogue.items(), publisher.scratch("search").toString())) {
            summary.search(ranking.facts());
            LOG.info("Top-{} with {}: {}", config.topN(), config.retriever().name(), ranking.facts());
            return Tables.writeMatches(matches(ranking.rows(), left.excluded()), queries, matchesDir);
          }
        });
    summary.pairsWritten(pairs);
    summary.count("left_rows_matched", StrictReads.parquet(spark, matchesDir.toString()).select("left_id").distinct()
        .count());
    left.release().run();  // before the commit: after it, nothing is left to fail
    catalogue.release();
    stages.run("publish", "Publish outputs", () -> {
      publisher.commit();
      return null;
    });
    return summary;
  }

  /** The catalogue through the corpus stage; its embeddings and rejected rows are published with the run. */
  private CorpusStage.Encoded encodeCatalogue(OutputPublisher publisher) {
    CorpusStage stage = new CorpusStage(spark, config.corpus(), stages, summary);
    if (!config.catalogEmbeddings().isEmpty()) {
      stage.reusing(Side.INPUT, PreviousVectors.Source.at(
          new OutputLayout(config.catalogEmbeddings()).resolve(OutputLayout.EMBEDDINGS).toString()));
    }
    CorpusStage.Encoded catalogue = stage.run(List.of(config.catalog()),
        publisher.stage(OutputLayout.rejected(config.runDate())), publisher.scratch("catalogue")).get(0);
    RunSummary.VectorReuse reuse = summary.reuse(Side.INPUT);
    if (reuse != null && reuse.fullReason() == null) {
      summary.count("vectors_reused_from", config.catalogEmbeddings());
    } else if (reuse != null) {
      LOG.warn("Encoded every catalogue item: match.catalogEmbeddings = {} cannot be reused: {}",
          config.catalogEmbeddings(), reuse.fullReason());
      summary.count("vectors_not_reused", reuse.fullReason());
    }
    String fingerprint = catalogue.fingerprint().value();
    summary.encoderFingerprint(fingerprint);
    Path dir = publisher.stage(OutputLayout.EMBEDDINGS);
    long count = summary.encoded(Side.INPUT).items();
    stages.run("write-embeddings", "Write embeddings", () -> {
      Tables.writeEmbeddings(catalogue.items(), count, config.corpus().encoder().model().value(), fingerprint, dir);
      return null;
    });
    return catalogue;
  }

  /** Texts or a second catalogue: the left rows through the corpus stage, their rejects renamed to left ids. */
  private Left texts(OutputPublisher publisher) {
    Path scratchRejects = publisher.scratch("left-rejected");
    CorpusStage.Encoded encoded = new CorpusStage(spark, config.leftCorpus(), stages, summary)
        .run(List.of(config.left()), scratchRejects, publisher.scratch("left")).get(0);
    Path rejectedDir = publisher.stage(OutputLayout.matchRejected(config.runDate()));
    stages.run("write-match-rejected", "Write rejected left rows", () -> {
      Tables.writeMatchRejected(StrictReads.parquet(spark, scratchRejects.toString())
          .withColumnRenamed("item_id", "left_id"), rejectedDir);
      return null;
    });
    return new Left(encoded.items(), summary.encoded(Side.LEFT).items(), null, 0, encoded::release);
  }

  /** User histories: validated rows, profiles, exclusions; rejected rows and users without a profile written. */
  private Left users(OutputPublisher publisher, CorpusStage.Encoded catalogue) {
    CatalogSource source = config.left();
    HistoryPreparation.PreparedHistory history = stages.run("read-left", "Read and validate " + source.path(),
        () -> HistoryPreparation.prepare(CatalogReader.read(spark, source.path(), source.keys().path(),
            source.format(), config.corpus().csvMaxRecordLines()), source.keys().path() + " = " + source.path(),
            config.historyColumns(), config.users().eventWeights().keySet(), catalogue.items().select("item_id")));
    summary.catalog(Side.LEFT, new CatalogCounts(history.rowsRead(), history.rowsRejected(),
        history.rejectedByReason()));
    LOG.info("Read {} history rows of {}: {} usable, {} rejected {}", history.rowsRead(), source.path(),
        history.rowsValid(), history.rowsRejected(), history.rejectedByReason());
    UserProfiles.Built built = stages.run("profiles", "Build user profiles", () ->
        UserProfiles.build(spark, history.events(), history.excludable(), history.users(), catalogue.items(),
            config.users()));
    Dataset<Row> profiles = built.profiles().persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> excluded = built.excluded().persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> withoutProfile = built.withoutProfile().persist(StorageLevel.MEMORY_AND_DISK());
    long users = history.users().count();
    long profiled = profiles.count();
    Map<String, Long> byReason = new LinkedHashMap<>();
    for (Row r : withoutProfile.groupBy("reason").count().orderBy("reason").collectAsList()) {
      byReason.put(r.getString(0), r.getLong(1));
    }
    summary.count("users_read", users);
    summary.count("users_with_profile", profiled);
    summary.count("users_without_profile", users - profiled);
    summary.count("users_without_profile_by_reason", byReason);
    summary.count("profiles_as_of", built.asOf().toString());
    LOG.info("{} users, {} with a profile (as of {}); without: {}", users, profiled, built.asOf(), byReason);

    Path rejectedDir = publisher.stage(OutputLayout.matchRejected(config.runDate()));
    stages.run("write-match-rejected", "Write rejected history rows and users without a profile", () -> {
      Tables.writeMatchRejected(history.rejected().unionByName(withoutProfile.select(col("reason"),
          col("user_id").as("left_id"), col("record"), lit(source.path()).as("source_file"))), rejectedDir);
      return null;
    });
    double fraction = (double) history.rowsRejected() / history.rowsRead();
    if (profiled == 0 || fraction > config.corpus().maxRejectedFraction()) {
      throw new TooManyRejectsException(String.format(Locale.ROOT, "%s: %d of %d history rows rejected (%.1f%%, "
          + "limit validation.maxRejectedFraction = %.3f): %s; %d of %d users have a profile. No table was "
          + "replaced.", source.path(), history.rowsRejected(), history.rowsRead(), 100 * fraction,
          config.corpus().maxRejectedFraction(), history.rejectedByReason(), profiled, users), rejectedDir);
    }
    return new Left(profiles, profiled, excluded, built.maxExcluded(), () -> {
      profiles.unpersist();
      excluded.unpersist();
      withoutProfile.unpersist();
      history.release();
    });
  }

  /**
   * The ranking as {@code left_id, rank, item_id, score}, without the excluded (user, item) pairs and
   * re-ranked, cut at {@code topN}.
   */
  private Dataset<Row> matches(Dataset<Row> ranked, Dataset<Row> excluded) {
    Dataset<Row> rows = ranked.select(col("item_id").as("left_id"), col("rank"), col("neighbor_id").as("item_id"),
        col("score"));
    if (excluded != null) {
      Dataset<Row> out = excluded.select(col("user_id").as("_user"), col("item_id").as("_item"));
      rows = rows.join(out, rows.col("left_id").equalTo(out.col("_user")).and(rows.col("item_id")
          .equalTo(out.col("_item"))), "left_anti");
    }
    return rows.withColumn("rank", row_number().over(Window.partitionBy("left_id").orderBy("rank")))
        .filter(col("rank").leq(config.topN()))
        .select(MATCH_COLUMNS[0], MATCH_COLUMNS[1], MATCH_COLUMNS[2], MATCH_COLUMNS[3]);
  }
}
