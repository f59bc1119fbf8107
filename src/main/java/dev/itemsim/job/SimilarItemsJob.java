package dev.itemsim.job;

import dev.itemsim.embed.EncoderFingerprint;
import dev.itemsim.embed.Encoders;
import dev.itemsim.job.RunSummary.Side;
import dev.itemsim.similarity.NeighborSearch;
import dev.itemsim.similarity.Ranking;
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
 * retriever → {@code embeddings/}, {@code similar_items/run_date=D/}, {@code rejected/run_date=D/} and a run
 * summary under {@code _runs/}, published together ({@link OutputPublisher}).
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
    summary.scorerSettings(config.retriever().settings());
    this.stages = new Stages(spark, summary, SimilarItemsConfig.JOB);
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
    List<CorpusStage.Encoded> corpora = new CorpusStage(spark, config.corpus(), stages, summary)
        .run(sources, publisher.stage(OutputLayout.rejected(config.runDate())));
    String model = config.corpus().encoder().model().value();
    String fingerprint = EncoderFingerprint.of(config.corpus().encoder()).value();
    for (CorpusStage.Encoded corpus : corpora) {
      String table = corpus.source().side() == Side.INPUT ? OutputLayout.EMBEDDINGS : OutputLayout.EMBEDDINGS_AGAINST;
      Path dir = publisher.stage(table);
      long count = summary.encoded(corpus.source().side()).itemsEncoded();
      stages.run("write-" + table.replace('_', '-'), "Write " + table,
          () -> {
            Tables.writeEmbeddings(corpus.items(), count, model, fingerprint, dir);
            return null;
          });
    }
    CorpusStage.Encoded items = corpora.get(0);
    CorpusStage.Encoded against = corpora.size() > 1 ? corpora.get(1) : null;
    Path similarDir = publisher.stage(OutputLayout.similarItems(config.runDate()));
    long queries = summary.encoded(Side.INPUT).itemsEncoded();
    long pairs = stages.run("top-n", "Top-" + config.topN() + " (" + config.retriever().name() + ") of " + queries
        + " items", () -> {
          try (Ranking ranking = NeighborSearch.search(spark, config.retriever(), config.search(), items.items(),
              against == null ? null : against.items(), publisher.scratch("search").toString())) {
            summary.search(ranking.facts());
            LOG.info("Top-{} with {}: {}", config.topN(), config.retriever().name(), ranking.facts());
            return Tables.writeNeighbors(ranking, queries, model, similarDir);
          }
        });
    summary.pairsWritten(pairs);
    stages.run("publish", "Publish outputs", () -> {
      publisher.commit();
      return null;
    });
    corpora.forEach(CorpusStage.Encoded::release);
    return summary;
  }
}
