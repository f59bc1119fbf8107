package dev.itemsim.job;

import dev.itemsim.embed.Encoders;
import dev.itemsim.job.RunSummary.Side;
import dev.itemsim.similarity.EmbeddingRetriever;
import dev.itemsim.similarity.IncrementalLists;
import dev.itemsim.similarity.NeighborSearch;
import dev.itemsim.similarity.Ranking;
import dev.itemsim.similarity.SearchMethod;
import dev.itemsim.similarity.SearchRequest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nightly similar-items job: catalogue → validated item texts → embeddings → top-N under the configured
 * retriever → {@code embeddings/}, {@code similar_items/run_date=D/}, {@code rejected/run_date=D/} and
 * {@code state/}, published together ({@link OutputPublisher}), and a run summary under {@code _runs/}.
 *
 * <p>Runs are incremental: vectors of unchanged texts come from the previous run's {@code embeddings/}
 * ({@link CorpusStage}), and the embedding and hybrid scorers update the previous run's lists kept in
 * {@code state/} ({@link NeighborState}, {@link IncrementalLists}) instead of ranking every item; whatever
 * cannot start from the previous run starts from scratch and the summary says why ({@code run.full = true}
 * forces it).
 */
public final class SimilarItemsJob {
  private static final Logger LOG = LoggerFactory.getLogger(SimilarItemsJob.class);

  private final SparkSession spark;
  private final SimilarItemsConfig config;
  private final RunSummary summary;
  private final String runId;
  private final Stages stages;

  public SimilarItemsJob(SparkSession spark, SimilarItemsConfig config) {
    this.spark = spark;
    this.config = config;
    this.runId = config.runDate() + "_" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'")
        .withZone(ZoneOffset.UTC).format(Instant.now());
    this.summary = new RunSummary(new RunSummary.Header(SimilarItemsConfig.JOB, runId, config.runDate().toString(),
        config.input().path(), config.against() == null ? null : config.against().path(), null,
        config.output().root(), config.corpus().encoder().model().value(), Encoders.describe(config.corpus().encoder()),
        config.topN(), config.digest()));
    this.stages = new Stages(spark, summary, SimilarItemsConfig.JOB);
    summary.scorerSettings(config.retriever().settings());
  }

  /** Runs the job; the summary is also written under {@code <output>/_runs/}. */
  public RunSummary execute() {
    return JobRun.execute(spark, summary, config.output(), runId, runId, inputs(), this::run);
  }

  private Map<String, String> inputs() {
    Map<String, String> inputs = new LinkedHashMap<>(Map.of("input.path", config.input().path()));
    if (config.against() != null) {
      inputs.put("search.against", config.against().path());
    }
    return inputs;
  }

  private RunSummary run(OutputPublisher publisher) {
    List<CatalogSource> sources = new ArrayList<>(List.of(config.input()));
    if (config.against() != null) {
      sources.add(config.against());
    }
    CorpusStage corpus = new CorpusStage(spark, config.corpus(), stages, summary);
    sources.forEach(source -> corpus.reusing(source.side(), previousVectors(source)));
    List<CorpusStage.Encoded> corpora = corpus.run(sources, publisher.stage(OutputLayout.rejected(config.runDate())),
        publisher.scratch("corpus"));
    String fingerprint = corpus.fingerprint().value();
    summary.encoderFingerprint(fingerprint);
    String model = config.corpus().encoder().model().value();
    for (CorpusStage.Encoded encoded : corpora) {
      String table = encoded.source().side() == Side.INPUT ? OutputLayout.EMBEDDINGS : OutputLayout.EMBEDDINGS_AGAINST;
      Path dir = publisher.stage(table);
      long count = summary.encoded(encoded.source().side()).items();
      stages.run("write-" + table.replace('_', '-'), "Write " + table,
          () -> {
            Tables.writeEmbeddings(encoded.items(), count, model, fingerprint, dir);
            return null;
          });
    }
    CorpusStage.Encoded items = corpora.get(0);
    CorpusStage.Encoded against = corpora.size() > 1 ? corpora.get(1) : null;
    Path similarDir = publisher.stage(OutputLayout.similarItems(config.runDate()));
    Path stateDir = publisher.stage(OutputLayout.STATE);
    long queries = summary.encoded(Side.INPUT).items();
    String scratch = publisher.scratch("search").toString();
    Map<String, Object> listSettings = listSettings(fingerprint);
    String whyNoLists = whyNoLists(queries);
    String description = "Top-" + config.topN() + " (" + config.retriever().name() + ") of " + queries + " items";
    if (whyNoLists != null) {
      summary.lists(new RunSummary.ListUpdate(whyNoLists, null, null, null));
      long pairs = stages.run("top-n", description, () -> {
        try (Ranking ranking = NeighborSearch.search(spark, config.retriever(), config.search(), items.items(),
            against == null ? null : against.items(), scratch)) {
          summary.search(ranking.facts());
          LOG.info("Top-{} with {}: {}", config.topN(), config.retriever().name(), ranking.facts());
          return Tables.writeNeighbors(ranking, queries, model, similarDir);
        }
      });
      summary.pairsWritten(pairs);
      NeighborState.write(spark, stateDir, runId, config.runDate().toString(), listSettings, null, whyNoLists);
    } else {
      NeighborState.Previous previous = stages.run("read-previous-lists", "Read the previous run's lists",
          () -> previousLists(listSettings));
      IncrementalLists.Outcome outcome = null;
      try {
        outcome = stages.run("top-n", description, () -> NeighborSearch.searchIncrementally(spark,
            config.retriever(), config.search(), items.items(), previous.state(), previous.whyNone(),
            config.incremental(), scratch));
        IncrementalLists.Outcome done = outcome;
        IncrementalLists.Counts c = done.counts();
        summary.lists(done.fullReason() != null ? new RunSummary.ListUpdate(done.fullReason(), null, null, null)
            : new RunSummary.ListUpdate(null, c.unchanged(), c.updated(), c.recomputed()));
        summary.search(done.ranking().facts());
        LOG.info("Top-{} with {}: {}", config.topN(), config.retriever().name(), done.ranking().facts());
        summary.pairsWritten(stages.run("write-similar-items", "Write similar_items",
            () -> Tables.writeNeighbors(done.ranking(), queries, model, similarDir)));
        stages.run("write-state", "Write the lists kept for the next run", () -> {
          NeighborState.write(spark, stateDir, runId, config.runDate().toString(), listSettings, done, null);
          return null;
        });
      } finally {
        if (outcome != null) {
          outcome.ranking().close();
        }
        previous.release();
      }
    }
    corpora.forEach(CorpusStage.Encoded::release);  // before the commit: after it, nothing is left to fail
    stages.run("publish", "Publish outputs", () -> {
      publisher.commit();
      return null;
    });
    return summary;
  }

  /** The live embeddings table of {@code source}'s side, unless {@code run.full} is set. */
  private PreviousVectors.Source previousVectors(CatalogSource source) {
    if (config.full()) {
      return PreviousVectors.Source.none("run.full = true");
    }
    String table = source.side() == Side.INPUT ? OutputLayout.EMBEDDINGS : OutputLayout.EMBEDDINGS_AGAINST;
    return PreviousVectors.Source.at(config.output().resolve(table).toString());
  }

  /** The previous run's lists, when this run may update them. */
  private NeighborState.Previous previousLists(Map<String, Object> listSettings) {
    if (config.full()) {
      return new NeighborState.Previous(null, "run.full = true");
    }
    RunSummary.VectorReuse vectors = summary.reuse(Side.INPUT);
    if (vectors != null && vectors.fullReason() != null) {
      return new NeighborState.Previous(null, "no previous vector was reused (" + vectors.fullReason() + ")");
    }
    return NeighborState.read(spark, config.output(), listSettings);
  }

  /** Why this run keeps no lists for the next one (its lists cannot be updated), or null. */
  private String whyNoLists(long items) {
    if (!IncrementalLists.supports(config.retriever())) {
      return "the " + config.retriever().name() + " scorer keeps no lists between runs";
    }
    SearchMethod method = config.retriever().method();
    if (!(method.forSearch(() -> items, items, true) instanceof SearchMethod.Exact)) {
      // an update is exact only against exact lists: approximate lists would drift further from exact every night
      return "similarity.method = " + method.name() + " ranks " + items + " items approximately: approximate "
          + "lists are not updated between runs, every run ranks them in full (unchanged vectors are still reused)";
    }
    if (config.against() != null) {
      return "lists against a second catalogue (search.against) are not kept between runs";
    }
    return null;
  }

  /** What the stored lists depend on besides the items: a run updates them only when its own are the same. */
  private Map<String, Object> listSettings(String fingerprint) {
    List<String> carried = new ArrayList<>(config.corpus().carried().keySet());
    SearchRequest.FilterColumns filter = config.search().filter();
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("scorer", config.retriever().name());
    settings.put("encoder_fingerprint", fingerprint);
    settings.put("similarity.topN", config.topN());
    settings.put("run.incremental.spareNeighbors", config.incremental().spare());
    settings.put("similarity.sameValueOf", sourceColumn(filter.sameValueOf(), carried));
    settings.put("similarity.excludeSameValueOf", sourceColumn(filter.excludeSameValueOf(), carried));
    settings.put("similarity.collapseDuplicateTexts", config.search().collapseDuplicateTexts());
    if (!(config.retriever() instanceof EmbeddingRetriever)) {
      config.retriever().settings().forEach((k, v) -> settings.put("similarity." + k, v));
    }
    return settings;
  }

  /** The catalogue column behind a carried filter column ({@code attr_k}), or "". */
  private static String sourceColumn(String attr, List<String> carried) {
    return attr.isEmpty() ? "" : carried.get(Integer.parseInt(attr.substring(CorpusSettings.ATTR_PREFIX.length())));
  }
}
