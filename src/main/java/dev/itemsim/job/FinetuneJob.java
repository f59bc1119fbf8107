package dev.itemsim.job;

import dev.itemsim.catalog.PreparedCatalog;
import dev.itemsim.embed.Encoders;
import dev.itemsim.finetune.CoEngagement;
import dev.itemsim.finetune.FineTuning;
import dev.itemsim.finetune.TrainingPairs;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Fine-tunes the encoder on the catalogue's own pairs: the catalogues are read, validated and given their
 * texts by the shared corpus stage; training pairs come from a labelled file or from co-engagement events;
 * {@link FineTuning} trains on the driver (PyTorch, {@code encoder.device}) and writes the model folder.
 * Publishes {@code model/} (load it with {@code encoder.model = <output.path>/model}) and {@code training/}
 * (rejected rows and the pairs) together, or nothing ({@link OutputPublisher}); a run summary goes to
 * {@code _runs/}.
 */
public final class FinetuneJob {
  private static final StructType PAIRS = new StructType().add("id_a", DataTypes.StringType, false)
      .add("id_b", DataTypes.StringType, false).add("sessions", DataTypes.LongType, true)
      .add("pmi", DataTypes.DoubleType, true);

  private final SparkSession spark;
  private final FinetuneConfig config;
  private final RunSummary summary;
  private final String runId;
  private final Stages stages;

  public FinetuneJob(SparkSession spark, FinetuneConfig config) {
    this.spark = spark;
    this.config = config;
    this.runId = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC).format(Instant.now());
    this.summary = new RunSummary(new RunSummary.Header(FinetuneConfig.JOB, runId, null, config.input().path(),
        config.against() == null ? null : config.against().path(), config.trainingSource(), config.output().root(),
        config.corpus().encoder().model().value(), Encoders.describe(config.trainingEncoder()), null,
        config.digest()));
    this.stages = new Stages(spark, summary, FinetuneConfig.JOB);
  }

  public RunSummary execute() {
    Map<String, String> inputs = new LinkedHashMap<>(Map.of("input.path", config.input().path()));
    if (config.against() != null) {
      inputs.put("search.against", config.against().path());
    }
    inputs.put(config.pairsPath().isEmpty() ? "finetune.events" : "finetune.pairs", config.trainingSource());
    if (!config.corpus().encoder().model().isBuiltin()) {  // the model trained from: never written over
      inputs.put("encoder.model", config.corpus().encoder().model().value());
    }
    return JobRun.execute(spark, summary, config.output(), runId, "finetune_" + runId, inputs, this::run);
  }

  private RunSummary run(OutputPublisher publisher) {
    List<CatalogSource> sources = new ArrayList<>(List.of(config.input()));
    if (config.against() != null) {
      sources.add(config.against());
    }
    Path training = publisher.stage(OutputLayout.TRAINING);
    List<PreparedCatalog> catalogs = new CorpusStage(spark, config.corpus(), stages, summary)
        .prepare(sources, new Path(training, OutputLayout.TRAINING_REJECTED));
    Map<String, String> textsA = texts(catalogs.get(0));
    Map<String, String> textsB = catalogs.size() > 1 ? texts(catalogs.get(1)) : null;
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("input", config.input().path());
    if (config.against() != null) {
      data.put("against", config.against().path());
    }
    data.put("text_template", config.corpus().template().toString());
    data.put("items_a", textsA.size());
    data.put("items_b", textsB == null ? textsA.size() : textsB.size());
    List<Row> pairRows = new ArrayList<>();
    TrainingPairs pairs = stages.run("read-pairs", "Read training pairs from " + config.trainingSource(),
        () -> readPairs(textsA, textsB, new Path(training, OutputLayout.TRAINING_REJECTED_EVENTS), data, pairRows));
    spark.createDataFrame(pairRows, PAIRS).coalesce(1).write()
        .parquet(new Path(training, OutputLayout.TRAINING_PAIRS).toString());

    Path model = publisher.stage(OutputLayout.MODEL);
    FineTuning fineTuning = new FineTuning(spark, config.trainingEncoder(), config.search(), config.lexical(),
        config.embeddingWeight(), publisher.scratch("finetune").toString(), config.training());
    FineTuning.Outcome outcome = stages.run("train", "Fine-tune " + config.corpus().encoder().model() + " on "
        + pairs.positives().size() + " pairs", () -> writeLocally(model, dir -> fineTuning.run(pairs, textsA,
        textsB, data, dir)));
    summary.detail("training", trainingFacts(outcome));
    catalogs.forEach(PreparedCatalog::release);  // before the commit: after it, nothing is left to fail
    stages.run("publish", "Publish outputs", () -> {
      publisher.commit();
      return null;
    });
    return summary;
  }

  private TrainingPairs readPairs(Map<String, String> textsA, Map<String, String> textsB, Path rejectedEvents,
      Map<String, Object> data, List<Row> rows) {
    if (!config.pairsPath().isEmpty()) {
      TrainingPairs pairs = TrainingPairs.readLabelled(spark, config.pairsPath(), textsA.keySet(),
          (textsB == null ? textsA : textsB).keySet(), "input.path " + config.input().path(),
          config.against() == null ? "input.path " + config.input().path()
              : "search.against " + config.against().path());
      data.put("source", "labelled pairs");
      data.put("pairs_file", config.pairsPath());
      pairs.positives().forEach(p -> rows.add(RowFactory.create(p.a(), p.b(), null, null)));
      return pairs;
    }
    CoEngagement.Result result = CoEngagement.pairs(spark, config.eventsPath(), config.events(), textsA.keySet(),
        rejectedEvents.toString());
    data.put("source", "co-engagement events");
    data.put("events_file", config.eventsPath());
    Map<String, Object> events = new LinkedHashMap<>();
    events.put("session_minutes", config.events().sessionMinutes());
    events.put("min_count", config.events().minCount());
    events.put("max_pairs_per_item", config.events().maxPairsPerItem());
    events.put("max_session_items", config.events().maxSessionItems());
    events.put("events_read", result.events());
    events.put("events_rejected", result.badEvents());
    events.put("events_of_unknown_items", result.unknownItemEvents());
    events.put("sessions", result.sessions());
    events.put("sessions_skipped_too_many_items", result.skippedSessions());
    events.put("co_occurring_pairs", result.coOccurringPairs());
    events.put("pairs_kept", result.scored().size());
    data.put("events", events);
    result.scored().forEach(s -> rows.add(RowFactory.create(s.a(), s.b(), s.count(), s.pmi())));
    return result.pairs();
  }

  private static Map<String, String> texts(PreparedCatalog catalog) {
    Map<String, String> texts = new HashMap<>();
    for (Row r : catalog.items().select("item_id", "text").collectAsList()) {
      texts.put(r.getString(0), r.getString(1));
    }
    return texts;
  }

  /** Runs {@code write} on a local folder that becomes {@code target}: the folder itself on a local file system. */
  private <T> T writeLocally(Path target, java.util.function.Function<java.nio.file.Path, T> write) {
    FileSystem fs = JobRun.fileSystem(spark, target);
    if (fs instanceof LocalFileSystem local) {
      return write.apply(local.pathToFile(target).toPath());
    }
    if (fs instanceof RawLocalFileSystem raw) {
      return write.apply(raw.pathToFile(target).toPath());
    }
    try {
      java.nio.file.Path local = Files.createTempDirectory("itemsim-model");
      T result = write.apply(local);
      fs.copyFromLocalFile(true, true, new Path(local.toUri()), target);
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot copy the model folder to " + target, e);
    }
  }

  private Map<String, Object> trainingFacts(FineTuning.Outcome outcome) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model_path", config.output().resolve(OutputLayout.MODEL).toString());
    m.put("train_pairs", outcome.trainPairs());
    m.put("validation_pairs", outcome.validationPairs());
    m.put("epochs_run", outcome.epochsRun());
    m.put("best_epoch", outcome.bestEpoch());
    m.put("training_s", Math.round(outcome.trainingSeconds() * 100) / 100.0);
    m.put("validation_before", outcome.before());
    m.put("validation_after", outcome.after());
    return m;
  }

  /** Prints where the model is and what training achieved. */
  @SuppressWarnings("unchecked")
  public static void printSummary(RunSummary summary, PrintWriter out) {
    Map<String, Object> t = (Map<String, Object>) summary.details().get("training");
    out.printf(Locale.ROOT, "%nitemsim finetune %s: %s (from %s)%n", summary.status().name().toLowerCase(Locale.ROOT),
        t.get("model_path"), summary.header().model());
    out.printf(Locale.ROOT, "  pairs: %s training, %s validation; epochs run %s, best %s; training %s s%n",
        t.get("train_pairs"), t.get("validation_pairs"), t.get("epochs_run"), t.get("best_epoch"), t.get("training_s"));
    Map<String, Object> before = (Map<String, Object>) t.get("validation_before");
    Map<String, Object> after = (Map<String, Object>) t.get("validation_after");
    if (before != null && !before.isEmpty()) {
      out.printf(Locale.ROOT, "  validation (A->B)  %8s %8s%n", "before", "after");
      for (String key : before.keySet()) {
        out.printf(Locale.ROOT, "    %-16s %8s %8s%n", key, format(before.get(key)), format(after.get(key)));
      }
    }
    out.println("  use it: --set encoder.model=" + t.get("model_path"));
    out.println("  run summary: " + summary.summaryPath());
  }

  private static String format(Object v) {
    return v instanceof Double d ? String.format(Locale.ROOT, "%.4f", d) : String.valueOf(v);
  }
}
