package dev.itemsim.job;

import static org.apache.spark.sql.functions.lit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.itemsim.InvalidInputException;
import dev.itemsim.embed.Encoders;
import dev.itemsim.eval.Evaluation;
import dev.itemsim.eval.MatchPairs;
import dev.itemsim.eval.Misses;
import dev.itemsim.eval.RankedLists;
import dev.itemsim.job.RunSummary.Side;
import dev.itemsim.similarity.DriverRows;
import dev.itemsim.similarity.NeighborSearch;
import dev.itemsim.similarity.Ranking;
import dev.itemsim.similarity.Retriever;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures neighbour quality against labelled pairs with exactly the ranking the similar-items job ships:
 * the same corpus stage (reading, validation, reject limit, carried filter columns, encoding) and the same
 * retrieval stage (retriever, filters, duplicate collapsing, minimum score), with lists of
 * {@code eval.listSize}; then scores catalogue A's lists over B, and B's over A, against the true matches.
 * Writes {@code evaluation/metrics.json}, {@code evaluation/misses/} (every true pair whose partner is not
 * ranked first, with what ranked above it), {@code evaluation/ranked/} (the lists scored) and
 * {@code evaluation/rejected/}, replacing the previous evaluation atomically.
 */
public final class EvaluateJob {
  private static final Logger LOG = LoggerFactory.getLogger(EvaluateJob.class);
  private final SparkSession spark;
  private final EvaluateConfig config;
  private final RunSummary summary;
  private final String runId;
  private final Stages stages;
  private String scratchDir;

  public EvaluateJob(SparkSession spark, EvaluateConfig config) {
    this.spark = spark;
    this.config = config;
    this.runId = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC).format(Instant.now());
    String against = config.against() == null ? config.input().path() : config.against().path();
    this.summary = new RunSummary(new RunSummary.Header(EvaluateConfig.JOB, runId, null, config.input().path(),
        against, config.matchesPath(), config.output().root(), config.corpus().encoder().model().value(),
        Encoders.describe(config.corpus().encoder()), null, config.digest()));
    this.stages = new Stages(spark, summary, EvaluateConfig.JOB);
  }

  public RunSummary execute() {
    Map<String, String> inputs = new LinkedHashMap<>(Map.of("input.path", config.input().path(),
        "eval.matches", config.matchesPath()));
    if (config.against() != null) {
      inputs.put("search.against", config.against().path());
    }
    return JobRun.execute(spark, summary, config.output(), runId, "evaluate_" + runId, inputs, this::run);
  }

  /** One direction's lists and the texts and pair scores its misses need. */
  private record Direction(String name, RankedLists lists, Map<String, Set<String>> truth,
      Map<String, String> queryTexts, Map<String, String> corpusTexts, Map<String, Float> unlistedScores) {}

  private RunSummary run(OutputPublisher publisher) {
    MatchPairs matches = stages.run("read-matches", "Read " + config.matchesPath(),
        () -> MatchPairs.read(spark, config.matchesPath(), config.against() == null));
    List<CatalogSource> sources = new ArrayList<>(List.of(config.input()));
    if (config.against() != null) {
      sources.add(config.against());
    }
    Path dir = publisher.stage(OutputLayout.EVALUATION);
    List<CorpusStage.Encoded> corpora = new CorpusStage(spark, config.corpus(), stages, summary)
        .run(sources, new Path(dir, OutputLayout.EVALUATION_REJECTED), publisher.scratch("corpus"));
    Dataset<Row> a = corpora.get(0).items();
    Dataset<Row> b = corpora.size() > 1 ? corpora.get(1).items() : a;
    Map<String, String> textsA = texts(a);
    Map<String, String> textsB = b == a ? textsA : texts(b);
    List<String[]> unencodedPairs = matches.pairs().stream()
        .filter(p -> !textsA.containsKey(p[0]) || !textsB.containsKey(p[1])).toList();
    long unencoded = unencodedPairs.size();
    if (unencoded > 0) {
      String examples = String.join("; ", unencodedPairs.stream().limit(3).map(p -> p[0] + ", " + p[1]).toList());
      if (unencoded == matches.pairs().size()) {
        throw new InvalidInputException("Match file " + MatchPairs.KEY + " = " + config.matchesPath() + ": none of "
            + "its " + unencoded + " true pairs names two valid items (id_a of " + config.input().path() + ", id_b of "
            + (config.against() == null ? "the same" : config.against().path()) + "; absent, or rejected: see "
            + "evaluation/rejected), e.g. " + examples + ". Are the columns swapped, or the ids written otherwise?");
      }
      LOG.warn("{} of the {} true pairs of {} name an id that is not a valid item; they count as misses (e.g. {})",
          unencoded, matches.pairs().size(), config.matchesPath(), examples);
    }

    scratchDir = publisher.scratch("search").toString();
    Map<String, Set<String>> forward = matches.partners(true);
    Map<String, Set<String>> backward = matches.partners(false);
    Direction aToB;
    Direction bToA;
    if (b == a) {
      // one catalogue: the same lists serve both directions of every pair
      List<Direction> both = stages.run("search-a-to-b", "Top-" + config.listSize() + " of A",
          () -> directions(a, null, textsA, textsA, Map.of("a_to_b", forward, "b_to_a", backward)));
      aToB = both.get(0);
      bToA = both.get(1);
    } else {
      aToB = stages.run("search-a-to-b", "Top-" + config.listSize() + " A -> B",
          () -> directions(a, b, textsA, textsB, Map.of("a_to_b", forward)).get(0));
      bToA = stages.run("search-b-to-a", "Top-" + config.listSize() + " B -> A",
          () -> directions(b, a, textsB, textsA, Map.of("b_to_a", backward)).get(0));
    }

    Direction reverse = bToA;
    Evaluation evaluation = stages.run("write", "Write evaluation", () -> {
      List<Row> misses = new ArrayList<>();
      for (Direction d : List.of(aToB, reverse)) {
        misses.addAll(Misses.rows(d.name(), d.lists(), d.truth(), d.queryTexts(), d.corpusTexts(),
            d.unlistedScores(), config.missContext()));
      }
      DriverRows.of(spark, misses, Misses.SCHEMA).orderBy("direction", "query_id", "expected_id").coalesce(1)
          .write().parquet(new Path(dir, OutputLayout.MISSES).toString());
      writeRanked(new Path(dir, OutputLayout.RANKED), aToB, reverse, b == a);
      Evaluation result = new Evaluation(Evaluation.metrics(aToB.lists(), aToB.truth(), config.listSize()),
          Evaluation.metrics(reverse.lists(), reverse.truth(), config.listSize()), config.retriever().name(),
          scorerSettings(config.retriever()), config.corpus().encoder().model().value(), matches.pairs().size(),
          unencoded, matches.nonMatches(), matches.duplicates(), config.listSize(), misses.size());
      writeJson(JobRun.fileSystem(spark, dir), new Path(dir, OutputLayout.METRICS), result.asMap());
      return result;
    });
    corpora.forEach(CorpusStage.Encoded::release);  // before the commit: after it, nothing is left to fail
    publisher.commit();
    summary.evaluation(evaluation, config.output().resolve(OutputLayout.evaluation(OutputLayout.METRICS)).toString());
    return summary;
  }

  /**
   * Ranks {@code corpus} (null: the queries themselves) for {@code queries} exactly as the similar-items job
   * would, and gathers the lists once for every direction named in {@code truths} (in name order).
   */
  private List<Direction> directions(Dataset<Row> queries, Dataset<Row> corpus, Map<String, String> queryTexts,
      Map<String, String> corpusTexts, Map<String, Map<String, Set<String>>> truths) {
    try (Ranking ranking = NeighborSearch.search(spark, config.retriever(), config.search(), queries, corpus,
        scratchDir)) {
      summary.search(ranking.facts());
      RankedLists lists = RankedLists.collect(ranking.rows());
      List<Direction> out = new ArrayList<>();
      new java.util.TreeMap<>(truths).forEach((name, truth) -> out.add(new Direction(name, lists, truth, queryTexts,
          corpusTexts, unlistedScores(ranking, lists, truth))));
      return out;
    }
  }

  private Map<String, Float> unlistedScores(Ranking ranking, RankedLists lists, Map<String, Set<String>> truth) {
    List<Row> pairs = new ArrayList<>();
    for (String[] p : Misses.unlisted(lists, truth)) {
      pairs.add(RowFactory.create(p[0], p[1]));
    }
    Map<String, Float> scores = new HashMap<>();
    if (pairs.isEmpty()) {
      return scores;
    }
    Dataset<Row> asked = DriverRows.of(spark, pairs, new org.apache.spark.sql.types.StructType()
        .add("item_id", "string").add("neighbor_id", "string"));
    for (Row r : ranking.score(asked).collectAsList()) {
      scores.put(Misses.key(r.getString(0), r.getString(1)), r.getFloat(2));
    }
    return scores;
  }

  private static Map<String, String> texts(Dataset<Row> items) {
    Map<String, String> texts = new HashMap<>();
    for (Row r : items.select("item_id", "text").collectAsList()) {
      texts.put(r.getString(0), r.getString(1));
    }
    return texts;
  }

  private void writeRanked(Path dir, Direction aToB, Direction bToA, boolean oneCatalogue) {
    List<Row> rows = new ArrayList<>();
    for (Direction d : oneCatalogue ? List.of(aToB) : List.of(aToB, bToA)) {
      d.lists().lists().forEach((query, list) -> {
        for (int k = 0; k < list.size(); k++) {
          rows.add(RowFactory.create(d.name(), query, k + 1, list.get(k).id(), list.get(k).score()));
        }
      });
    }
    DriverRows.of(spark, rows, new org.apache.spark.sql.types.StructType().add("direction", "string", false)
            .add("item_id", "string", false).add("rank", "int", false).add("neighbor_id", "string", false)
            .add("score", "float", false))
        .orderBy("direction", "item_id", "rank").coalesce(1).write().parquet(dir.toString());
  }

  /** The retriever's settings that shape the lists, for {@code metrics.json}. */
  private Map<String, Object> scorerSettings(Retriever retriever) {
    Map<String, Object> out = new LinkedHashMap<>();
    if (retriever.usesEmbeddings()) {
      out.put("model", config.corpus().encoder().model().value());
    }
    out.putAll(retriever.settings());
    return out;
  }

  private static void writeJson(FileSystem fs, Path path, Object value) {
    try (OutputStream out = fs.create(path, false)) {
      out.write(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(value));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + path, e);
    }
  }

  /** Prints the metrics of both directions as a table. */
  public static void printTable(RunSummary summary, PrintWriter out) {
    Evaluation e = summary.evaluation();
    out.printf(Locale.ROOT, "%nitemsim evaluate (%s, scorer %s): %s pairs%n", e.model(), e.scorer(), e.pairs());
    if (e.pairsWithUnencodedId() > 0) {
      out.printf(Locale.ROOT, "  %d of them name an id that is not a valid item (counted as misses)%n",
          e.pairsWithUnencodedId());
    }
    if (e.nonMatchRows() > 0 || e.duplicatePairs() > 0) {
      out.printf(Locale.ROOT, "  not scored: %d rows labelled non-matches, %d repeated pairs%n", e.nonMatchRows(),
          e.duplicatePairs());
    }
    out.printf(Locale.ROOT, "  %-10s %8s %8s%n", "metric", "A->B", "B->A");
    for (String key : e.aToB().keySet()) {
      out.printf(Locale.ROOT, "  %-10s %8s %8s%n", key, format(e.aToB().get(key)), format(e.bToA().get(key)));
    }
    out.println("  metrics: " + summary.metricsPath());
  }

  private static String format(Object v) {
    return v instanceof Double d ? String.format(Locale.ROOT, "%.4f", d) : String.valueOf(v);
  }
}
