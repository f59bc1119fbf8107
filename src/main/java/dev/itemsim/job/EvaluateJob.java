package dev.itemsim.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.itemsim.catalog.CatalogPreparation;
import dev.itemsim.catalog.CatalogReader;
import dev.itemsim.catalog.PreparedCatalog;
import dev.itemsim.eval.MatchPairs;
import dev.itemsim.eval.RankingMetrics;
import dev.itemsim.embed.Encoders;
import dev.itemsim.embed.SparkEncoding;
import dev.itemsim.similarity.HybridRanker;
import dev.itemsim.similarity.SparseVectors;
import dev.itemsim.similarity.VectorBlocks;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Measures neighbour quality against labelled pairs: encodes catalogue A and B (or A alone), lists each
 * item's {@code eval.listSize} nearest items of the other side with the exact blocked kernel, and scores the
 * lists against the true matches in both directions. Writes {@code <output>/evaluation/metrics.json} and
 * {@code <output>/evaluation/misses/} (every true pair whose partner is not ranked first, with what ranked
 * above it), replacing the previous evaluation atomically.
 */
public final class EvaluateJob {
  public static final StructType MISSES_SCHEMA = new StructType()
      .add("direction", DataTypes.StringType, false)
      .add("query_id", DataTypes.StringType, false)
      .add("query_text", DataTypes.StringType, true)
      .add("expected_id", DataTypes.StringType, false)
      .add("expected_text", DataTypes.StringType, true)
      .add("expected_rank", DataTypes.IntegerType, true)
      .add("expected_score", DataTypes.FloatType, true)
      .add("ranked_above", DataTypes.createArrayType(new StructType()
          .add("neighbor_id", DataTypes.StringType, false)
          .add("score", DataTypes.FloatType, false)
          .add("text", DataTypes.StringType, true)), false);

  private final SparkSession spark;
  private final EvaluateConfig config;
  private final RunSummary summary = new RunSummary();
  private final Stages stages;

  public EvaluateJob(SparkSession spark, EvaluateConfig config) {
    this.spark = spark;
    this.config = config;
    this.stages = new Stages(spark, summary, "evaluate");
  }

  /** One side of the evaluation: its items' ids in order, vectors and texts, and the catalogue's counts. */
  private record Side(EncodedItems items, Map<String, String> texts, PreparedCatalog catalog) {}

  /** A ranked list: neighbour ids and scores, best first. */
  private record Ranked(List<String> ids, List<Float> scores) {}

  public RunSummary execute() {
    String runId = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC).format(Instant.now());
    summary.put("job", "evaluate").put("run_id", runId).put("status", "running").put("input", config.inputPath())
        .put("against", config.crossCatalogue() ? config.againstPath() : config.inputPath())
        .put("matches", config.matchesPath()).put("model", config.encoder().model().value())
        .put("encoder", Encoders.describe(config.encoder()))
        .put("scorer", config.scoring().scorer()).put("config_digest", config.digest());
    return JobRun.execute(spark, summary, config.outputPath(), runId, "evaluate_" + runId, this::run);
  }

  private RunSummary run(OutputPublisher publisher) {
    Path root = new Path(config.outputPath());
    FileSystem fs = JobRun.fileSystem(spark, root);
    MatchPairs matches = stages.run("read-matches", "Read " + config.matchesPath(),
        () -> MatchPairs.read(spark, config.matchesPath()));
    Side a = stages.run("encode-a", "Read and encode " + config.inputPath(),
        () -> side(config.inputPath(), config.inputFormat()));
    Side b = config.crossCatalogue() ? stages.run("encode-b", "Read and encode " + config.againstPath(),
        () -> side(config.againstPath(), config.againstFormat())) : a;
    long unencoded = matches.pairs().stream().filter(p -> !a.texts().containsKey(p[0])
        || !b.texts().containsKey(p[1])).count();
    summary.count("pairs", matches.pairs().size()).count("pairs_with_unencoded_id", unencoded)
        .count("items_a", a.items().ids().length).count("items_b", b.items().ids().length)
        .count("rejected_a", a.catalog().itemsRejected()).count("rejected_b", b.catalog().itemsRejected());

    Ranker ranker = new Ranker(spark, config.scoring());
    List<SparseVectors> lexical = config.scoring().scorer().equals("embedding") ? null
        : stages.run("lexical-features", "TF-IDF features", () -> ranker.lexical(a.items(), b.items()));
    SparseVectors lexA = lexical == null ? null : lexical.get(0);
    SparseVectors lexB = lexical == null ? null : lexical.get(1);
    Map<String, Ranked> aToB = stages.run("search-a-to-b", "Top-" + config.listSize() + " A -> B",
        () -> search(ranker, a, b, lexical));
    Map<String, Ranked> bToA = config.crossCatalogue()
        ? stages.run("search-b-to-a", "Top-" + config.listSize() + " B -> A",
            () -> search(ranker, b, a, lexical == null ? null : List.of(lexB, lexA)))
        : aToB;

    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put("a_to_b", metrics(aToB, matches.partners(true)));
    metrics.put("b_to_a", metrics(bToA, matches.partners(false)));
    metrics.put("scorer", config.scoring().scorer());
    metrics.put("settings", scorerSettings());
    metrics.put("model", config.encoder().model().value());
    metrics.put("pairs", matches.pairs().size());
    // pairs naming an id that is not among the encoded items (absent or rejected) count as misses
    metrics.put("pairs_with_unencoded_id", unencoded);
    metrics.put("list_size", config.listSize());
    summary.put("metrics", metrics);

    Path dir = publisher.stage("evaluation");
    stages.run("write", "Write evaluation", () -> {
      writeMisses(new Path(dir, "misses"), a, b, lexA, lexB, aToB, bToA, matches);
      writeJson(fs, new Path(dir, "metrics.json"), metrics);
      return null;
    });
    publisher.commit();
    summary.put("metrics_path", new Path(root, "evaluation/metrics.json").toString());
    return summary;
  }

  private Side side(String path, String format) {
    Dataset<Row> raw = CatalogReader.read(spark, path, format, config.csvMaxRecordLines());
    PreparedCatalog catalog = CatalogPreparation.prepare(raw, path, config.idColumn(), config.titleColumn(),
        config.template());
    int partitions = SparkEncoding.partitions(spark, config.encodePartitions());
    Dataset<Row> encoded = SparkEncoding.encode(spark, catalog.items(), config.encoder(), partitions,
        config.sortWindow(), null).persist(StorageLevel.MEMORY_AND_DISK());
    EncodedItems items = EncodedItems.collect(encoded, config.blockSize(), 0);
    Map<String, String> texts = new HashMap<>();
    for (int i = 0; i < items.ids().length; i++) {
      texts.put(items.ids()[i], items.texts()[i]);
    }
    encoded.unpersist();
    return new Side(items, texts, catalog);
  }

  private Map<String, Object> scorerSettings() {
    Map<String, Object> out = new LinkedHashMap<>();
    if (!config.scoring().scorer().equals("lexical")) {
      out.put("model", config.encoder().model().value());
    }
    if (!config.scoring().scorer().equals("embedding")) {
      out.put("lexical.wordWeight", config.scoring().lexical().wordWeight());
      out.put("lexical.modelWeight", config.scoring().lexical().modelWeight());
      out.put("lexical.ngram", config.scoring().lexical().ngram());
    }
    if (config.scoring().hybrid()) {
      out.put("hybrid.embeddingWeight", config.scoring().embeddingWeight());
      out.put("candidates", config.scoring().candidates());
    }
    return out;
  }

  /** Each query's list of corpus items under the configured scorer (the similar-items job's ranking). */
  private Map<String, Ranked> search(Ranker ranker, Side queries, Side corpus, List<SparseVectors> lexical) {
    Ranker.Lists lists = ranker.rank(queries.items(), corpus.items(), lexical, config.listSize(), null);
    String[] queryIds = queries.items().ids();
    String[] corpusIds = corpus.items().ids();
    Map<String, Ranked> out = new HashMap<>();
    for (int q = 0; q < queryIds.length; q++) {
      List<String> ids = new ArrayList<>(lists.ids()[q].length);
      List<Float> scores = new ArrayList<>(lists.ids()[q].length);
      for (int k = 0; k < lists.ids()[q].length; k++) {
        ids.add(corpusIds[lists.ids()[q][k]]);
        scores.add(lists.scores()[q][k]);
      }
      out.put(queryIds[q], new Ranked(ids, scores));
    }
    return out;
  }

  private Map<String, Object> metrics(Map<String, Ranked> lists, Map<String, Set<String>> truth) {
    Map<String, List<String>> ranked = new HashMap<>();
    lists.forEach((k, v) -> ranked.put(k, v.ids()));
    RankingMetrics.Result result = RankingMetrics.compute(ranked, truth, RankingMetrics.DEFAULT_KS);
    Map<String, Object> out = new LinkedHashMap<>();
    result.values().forEach((k, v) -> out.put(k, Math.round(v * 1e6) / 1e6));
    out.put("queries", result.queries());
    out.put("pairs", result.pairs());
    return out;
  }

  private void writeMisses(Path dir, Side a, Side b, SparseVectors lexA, SparseVectors lexB,
      Map<String, Ranked> aToB, Map<String, Ranked> bToA, MatchPairs matches) {
    List<Row> rows = new ArrayList<>();
    missRows("a_to_b", a, b, lexA, lexB, aToB, matches.partners(true), rows);
    missRows("b_to_a", b, a, lexB, lexA, bToA, matches.partners(false), rows);
    spark.createDataFrame(rows, MISSES_SCHEMA).orderBy("direction", "query_id", "expected_id").coalesce(1)
        .write().parquet(dir.toString());
    summary.count("misses", rows.size());
  }

  private void missRows(String direction, Side queries, Side corpus, SparseVectors lexQueries,
      SparseVectors lexCorpus, Map<String, Ranked> lists, Map<String, Set<String>> truth, List<Row> out) {
    Map<String, Integer> corpusIndex = index(corpus.items().ids());
    Map<String, Integer> queryIndex = index(queries.items().ids());
    for (Map.Entry<String, Set<String>> e : truth.entrySet()) {
      Ranked ranked = lists.getOrDefault(e.getKey(), new Ranked(List.of(), List.of()));
      for (String expected : e.getValue()) {
        int rank = ranked.ids().indexOf(expected) + 1;
        if (rank == 1) {
          continue;
        }
        int shown = rank == 0 ? Math.min(config.missContext(), ranked.ids().size())
            : Math.min(config.missContext(), rank - 1);
        List<Row> above = new ArrayList<>(shown);
        for (int k = 0; k < shown; k++) {
          String id = ranked.ids().get(k);
          above.add(RowFactory.create(id, ranked.scores().get(k), corpus.texts().get(id)));
        }
        Float score = null;
        Integer q = queryIndex.get(e.getKey());
        Integer c = corpusIndex.get(expected);
        if (q != null && c != null) {
          score = score(queries, q, corpus, c, lexQueries, lexCorpus);
        }
        out.add(RowFactory.create(direction, e.getKey(), queries.texts().get(e.getKey()), expected,
            corpus.texts().get(expected), rank == 0 ? null : rank, score, above));
      }
    }
  }

  /** The configured scorer's score of corpus item {@code c} for query {@code q}. */
  private float score(Side queries, int q, Side corpus, int c, SparseVectors lexQueries, SparseVectors lexCorpus) {
    return switch (config.scoring().scorer()) {
      case "embedding" -> HybridRanker.dot(queries.items().blocks(), q, corpus.items().blocks(), c);
      case "lexical" -> lexQueries.dot(q, lexCorpus, c);
      default -> (float) (config.scoring().embeddingWeight() * HybridRanker.dot(queries.items().blocks(), q,
          corpus.items().blocks(), c) + (1 - config.scoring().embeddingWeight()) * lexQueries.dot(q, lexCorpus, c));
    };
  }

  private static Map<String, Integer> index(String[] ids) {
    Map<String, Integer> m = new HashMap<>();
    for (int i = 0; i < ids.length; i++) {
      m.put(ids[i], i);
    }
    return m;
  }

  private static void writeJson(FileSystem fs, Path path, Object value) {
    try (OutputStream out = fs.create(path, false)) {
      out.write(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(value));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + path, e);
    }
  }

  /** Prints the metrics of both directions as a table. */
  @SuppressWarnings("unchecked")
  public static void printTable(RunSummary summary, PrintWriter out) {
    Map<String, Object> metrics = (Map<String, Object>) summary.get("metrics");
    Map<String, Object> ab = (Map<String, Object>) metrics.get("a_to_b");
    Map<String, Object> ba = (Map<String, Object>) metrics.get("b_to_a");
    out.printf(Locale.ROOT, "%nitemsim evaluate (%s, scorer %s): %s pairs%n", metrics.get("model"),
        metrics.get("scorer"), metrics.get("pairs"));
    out.printf(Locale.ROOT, "  %-10s %8s %8s%n", "metric", "A->B", "B->A");
    for (String key : ab.keySet()) {
      out.printf(Locale.ROOT, "  %-10s %8s %8s%n", key, format(ab.get(key)), format(ba.get(key)));
    }
    out.println("  metrics: " + summary.get("metrics_path"));
  }

  private static String format(Object v) {
    return v instanceof Double d ? String.format(Locale.ROOT, "%.4f", d) : String.valueOf(v);
  }
}
