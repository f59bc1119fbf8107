package dev.itemsim.report;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import dev.itemsim.StrictReads;
import dev.itemsim.catalog.CatalogReader;
import dev.itemsim.similarity.CollectedItems;
import dev.itemsim.similarity.ScoreExplainer.Explanation;
import dev.itemsim.similarity.ScoreExplainer.Part;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One self-contained HTML file about a published run: a similarity heatmap of a sample of items grouped by
 * category or brand, the score distribution of rank-1 and rank-N neighbours, coverage and the most-listed
 * ("hub") items, evaluation charts when an evaluation exists (recall@K per scorer, the worst misses), a
 * browsable sample of lists with an explanation per pair ({@link RunExplanations}), and the run summary.
 *
 * <p>The page opens from disk without a network: charts are PNG {@code data:} URIs ({@link Charts}), the style
 * is inline, and there is no script. Every text from the data is HTML-escaped by the template engine
 * (mustache.java's {@code {{value}}}); the only unescaped values are the charts' own {@code data:} URIs. A
 * Content-Security-Policy allows no script and no network request.
 */
public final class HtmlReport {
  private static final Logger LOG = LoggerFactory.getLogger(HtmlReport.class);
  private static final int HUBS = 15;
  private static final int MISSES = 12;
  private static final int REJECTED = 50;

  /**
   * @param catalogPath the catalogue whose columns group the heatmap; null = the run's {@code input}
   * @param catalogFormat parquet or csv; null = csv when the path ends with {@code .csv}, else parquet
   * @param idColumn the catalogue's id column
   * @param groupBy columns tried in order for an item's group (the first non-blank value)
   * @param sample lists shown with explanations
   * @param groups most groups in the heatmap
   * @param perGroup most items per group in the heatmap
   */
  public record Options(String catalogPath, String catalogFormat, String idColumn, List<String> groupBy,
      int sample, int groups, int perGroup, List<EvaluationOutput> evaluations) {
    public static Options defaults() {
      return new Options(null, null, "id", List.of("category", "brand"), 25, 8, 6, List.of());
    }
  }

  /** A label and a value, for tables. */
  public record Entry(String key, String value) {}

  /** A chart and what it shows. */
  public record Chart(String id, String title, String image, String caption) {}

  /** A most-listed item. */
  public record Hub(String itemId, String text, long lists) {}

  /** A term of an explained score, formatted. */
  public record Term(String name, String cosine, String weight, String contribution) {}

  /** A neighbour as the page shows it. */
  public record ShownNeighbor(int rank, String itemId, String text, String score, String formula, String shared,
      List<Term> terms, boolean explained) {}

  /** A query with its explained list. */
  public record ShownList(String queryId, String queryText, List<ShownNeighbor> neighbors) {}

  /** A missed true partner of an evaluation. */
  public record Miss(String direction, String queryId, String queryText, String expectedId, String expectedText,
      String rank, String score, String rankedFirst) {}

  /** A row that was not ranked, with its reason. */
  public record Rejected(String reason, String id, String record, String sourceFile) {}

  /** Recall@K of one scorer and direction. */
  public record Metric(String evaluation, String scorer, String direction, String values) {}

  private HtmlReport() {}

  /** Renders the report for {@code run} and writes it to {@code html} (any Hadoop path), replacing it. */
  public static void write(SparkSession spark, RunOutput run, Options options, String html) {
    String page = render(spark, run, options);
    Path target = new Path(html);
    try {
      FileSystem fs = target.getFileSystem(spark.sparkContext().hadoopConfiguration());
      Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp");
      if (target.getParent() != null) {
        fs.mkdirs(target.getParent());
      }
      try (OutputStream out = fs.create(tmp, true)) {
        out.write(page.getBytes(StandardCharsets.UTF_8));
      }
      if (fs.exists(target)) {
        fs.delete(target, false);
      }
      if (!fs.rename(tmp, target)) {
        throw new IOException("Cannot rename " + tmp + " to " + target);
      }
      LOG.info("Wrote the report of the {} run of {} under {} to {} ({} KB)", run.kind(), run.runDate(), run.root(),
          target, page.length() / 1024);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write the report to " + html, e);
    }
  }

  /** The page as a string. */
  public static String render(SparkSession spark, RunOutput run, Options options) {
    Map<String, Object> summary = run.summary(spark);
    Map<String, Object> page = new LinkedHashMap<>();
    List<String> notes = new ArrayList<>();
    page.put("title", "itemsim " + run.kind() + " report, run_date=" + run.runDate());
    page.put("generated", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    page.put("output", run.root());
    page.put("match", run.isMatch());
    page.put("summary", summaryEntries(summary));
    page.put("counts", countEntries(summary));
    page.put("stages", stageEntries(summary));

    Dataset<Row> lists = run.lists(spark).cache();
    Dataset<Row> listed = run.listedItems(spark);
    List<Chart> charts = new ArrayList<>();
    Chart heatmap = heatmap(spark, run, summary, options, listed, notes);
    if (heatmap != null) {
      charts.add(heatmap);
    }
    charts.add(scores(lists, summary));
    Map<String, Object> coverage = coverage(spark, lists, listed, charts);
    page.put("coverage", coverage.get("facts"));
    page.put("hubs", coverage.get("hubs"));
    page.put("charts", charts);

    List<Chart> evaluationCharts = new ArrayList<>();
    List<Metric> metrics = new ArrayList<>();
    List<Miss> misses = new ArrayList<>();
    evaluation(spark, options.evaluations(), evaluationCharts, metrics, misses);
    page.put("evaluation", !metrics.isEmpty());
    page.put("evaluationCharts", evaluationCharts);
    page.put("metrics", metrics);
    page.put("misses", misses);

    List<String> sample = lists.select("query_id").distinct().orderBy(xxhash64(col("query_id")), col("query_id"))
        .limit(options.sample()).collectAsList().stream().map(r -> r.getString(0)).sorted().toList();
    RunExplanations.Explained explained = RunExplanations.explain(spark, run, summary, sample);
    if (!explained.note().isEmpty()) {
      notes.add(explained.note());
    }
    page.put("scorer", explained.scorer());
    page.put("sample", explained.lists().stream().map(HtmlReport::shown).toList());
    page.put("sampleSize", sample.size());
    page.put("rejected", rejected(spark, run));
    page.put("notes", notes);
    lists.unpersist();

    Mustache template = new DefaultMustacheFactory("itemsim/report").compile("report.mustache");
    StringWriter out = new StringWriter();
    template.execute(out, page);
    return out.toString();
  }

  private static ShownList shown(RunExplanations.ExplainedList list) {
    List<ShownNeighbor> neighbors = new ArrayList<>();
    for (RunExplanations.Neighbor n : list.neighbors()) {
      Explanation e = n.explanation();
      List<Term> terms = new ArrayList<>();
      if (e != null) {
        for (Part p : e.parts()) {
          terms.add(new Term(p.name(), fmt(p.cosine()), fmt(p.weight()), fmt(p.contribution())));
        }
      }
      neighbors.add(new ShownNeighbor(n.rank(), n.itemId(), n.text(), fmt(n.score()),
          e == null ? "" : e.formula(), e == null ? "" : e.shared(), terms, e != null));
    }
    return new ShownList(list.queryId(), list.queryText(), neighbors);
  }

  private static List<Entry> summaryEntries(Map<String, Object> summary) {
    List<Entry> out = new ArrayList<>();
    for (Map.Entry<String, Object> e : summary.entrySet()) {
      if (e.getKey().equals("counts") || e.getKey().equals("stage_ms")) {
        continue;
      }
      out.add(new Entry(e.getKey(), flat(e.getValue())));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static List<Entry> countEntries(Map<String, Object> summary) {
    List<Entry> out = new ArrayList<>();
    Object counts = summary.get("counts");
    if (counts instanceof Map<?, ?> m) {
      ((Map<String, Object>) m).forEach((k, v) -> out.add(new Entry(k, flat(v))));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static List<Entry> stageEntries(Map<String, Object> summary) {
    List<Entry> out = new ArrayList<>();
    Object stages = summary.get("stage_ms");
    if (stages instanceof Map<?, ?> m) {
      ((Map<String, Object>) m).forEach((k, v) -> out.add(new Entry(k, v + " ms")));
    }
    return out;
  }

  /** A JSON value in one line: maps as {@code k: v, ...}. */
  private static String flat(Object value) {
    if (value instanceof Map<?, ?> m) {
      List<String> parts = new ArrayList<>();
      m.forEach((k, v) -> parts.add(k + ": " + flat(v)));
      return String.join(", ", parts);
    }
    return String.valueOf(value);
  }

  /** Similarities among a sample of listed items, grouped by the first non-blank of the group columns. */
  private static Chart heatmap(SparkSession spark, RunOutput run, Map<String, Object> summary, Options options,
      Dataset<Row> listed, List<String> notes) {
    // the listed items' catalogue: the input, or for a cross-catalogue similar-items run the second one
    String path = options.catalogPath() != null ? options.catalogPath()
        : !run.isMatch() && run.corpusItems() != null ? (String) summary.get("against") : (String) summary.get("input");
    Dataset<Row> groups = null;
    String used = null;
    if (path != null) {
      try {
        String format = options.catalogFormat() != null ? options.catalogFormat()
            : path.toLowerCase(Locale.ROOT).endsWith(".csv") ? "csv" : "parquet";
        Dataset<Row> catalogue = CatalogReader.read(spark, path, format);
        List<String> present = options.groupBy().stream().filter(c -> Arrays.asList(catalogue.columns()).contains(c))
            .toList();
        if (!Arrays.asList(catalogue.columns()).contains(options.idColumn())) {
          notes.add("The heatmap is not grouped: catalogue " + path + " has no column '" + options.idColumn()
              + "' (use --id-column).");
        } else if (present.isEmpty()) {
          notes.add("The heatmap is not grouped: catalogue " + path + " has none of the columns " + options.groupBy()
              + " (use --group-by).");
        } else {
          Column group = lit(null).cast("string");
          for (int i = present.size() - 1; i >= 0; i--) {
            Column value = trim(col("`" + present.get(i) + "`").cast("string"));
            group = when(value.isNotNull().and(value.notEqual("")), value).otherwise(group);
          }
          groups = catalogue.select(col("`" + options.idColumn() + "`").cast("string").as("_gid"), group.as("group"));
          used = String.join(", then ", present);
        }
      } catch (RuntimeException e) {
        notes.add("The heatmap is not grouped: cannot read catalogue " + path + " (" + e.getMessage() + ").");
      }
    }
    Dataset<Row> items = listed.select("item_id", "embedding");
    Dataset<Row> grouped = groups == null ? items.withColumn("group", lit("all items"))
        : items.join(groups, items.col("item_id").equalTo(groups.col("_gid"))).drop("_gid")
            .filter(col("group").isNotNull());
    int perGroup = groups == null ? options.groups() * options.perGroup() : options.perGroup();
    // the largest groups, chosen on the driver from their sizes; then a stable sample of each
    List<String> largest = grouped.groupBy("group").agg(count(lit(1)).as("_size")).filter(col("_size").geq(2))
        .orderBy(col("_size").desc(), col("group")).limit(options.groups()).collectAsList().stream()
        .map(r -> r.getString(0)).toList();
    List<Row> rows = new ArrayList<>(grouped.filter(col("group").isin(largest.toArray()))
        .withColumn("_n", row_number().over(Window.partitionBy("group").orderBy(xxhash64(col("item_id")),
            col("item_id"))))
        .filter(col("_n").leq(perGroup))
        .select("item_id", "group", "embedding").collectAsList());
    rows.sort(java.util.Comparator.<Row>comparingInt(r -> largest.indexOf(r.getString(1)))
        .thenComparing(r -> r.getString(0)));
    if (rows.size() < 2) {
      notes.add("No heatmap: fewer than two items in groups of two or more.");
      return null;
    }
    int n = rows.size();
    float[][] vectors = new float[n][];
    String[] labels = new String[n];
    for (int i = 0; i < n; i++) {
      vectors[i] = CollectedItems.floats(rows.get(i).getList(2));
      String group = rows.get(i).getString(1);
      labels[i] = i == 0 || !group.equals(rows.get(i - 1).getString(1)) ? shorten(group, 24) : "";
    }
    double[][] similarity = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int k = 0; k < vectors[i].length; k++) {
          s += vectors[i][k] * vectors[j][k];
        }
        similarity[i][j] = s;
      }
    }
    long groupCount = rows.stream().map(r -> r.getString(1)).distinct().count();
    String caption = groups == null ? n + " items (not grouped)"
        : n + " items of the " + groupCount + " largest groups by " + used + " (up to " + options.perGroup()
            + " each); cell = cosine of the stored embeddings";
    return new Chart("heatmap", "Similarity heatmap", Charts.heatmap(similarity, labels,
        "Embedding cosine of sampled items, grouped"), caption);
  }

  private static Chart scores(Dataset<Row> lists, Map<String, Object> summary) {
    Row maxRank = lists.agg(org.apache.spark.sql.functions.max("rank")).first();
    int last = summary.get("top_n") instanceof Number n ? n.intValue() : maxRank.isNullAt(0) ? 1 : maxRank.getInt(0);
    double[] first = scoresAt(lists, 1);
    double[] lastScores = scoresAt(lists, last);
    Map<String, double[]> series = new LinkedHashMap<>();
    series.put("rank 1", first);
    series.put("rank " + last, lastScores);
    String caption = String.format(Locale.ROOT, "%d lists; rank-1 median %s, rank-%d median %s (%d lists reach "
        + "rank %d)", first.length, fmt(median(first)), last, fmt(median(lastScores)), lastScores.length, last);
    return new Chart("scores", "Score distribution", Charts.histograms(series, "Scores of rank-1 and rank-" + last
        + " neighbours", "score", 40), caption);
  }

  private static double[] scoresAt(Dataset<Row> lists, int rank) {
    return lists.filter(col("rank").equalTo(rank)).select("score").collectAsList().stream()
        .mapToDouble(r -> r.getFloat(0)).toArray();
  }

  private static Map<String, Object> coverage(SparkSession spark, Dataset<Row> lists, Dataset<Row> listed,
      List<Chart> charts) {
    long items = listed.count();
    Dataset<Row> degree = lists.groupBy("item_id").agg(count(lit(1)).as("lists")).cache();
    long listedItems = degree.count();
    Map<Long, Long> histogram = new HashMap<>();
    for (Row r : degree.groupBy("lists").count().collectAsList()) {
      histogram.put(r.getLong(0), r.getLong(1));
    }
    List<Row> top = degree.orderBy(col("lists").desc(), col("item_id")).limit(HUBS).collectAsList();
    Map<String, String> texts = new HashMap<>();
    for (Row r : listed.filter(col("item_id").isin(top.stream().map(t -> t.getString(0)).toArray()))
        .select("item_id", "text").collectAsList()) {
      texts.put(r.getString(0), r.getString(1));
    }
    List<Hub> hubs = top.stream().map(r -> new Hub(r.getString(0), texts.getOrDefault(r.getString(0), ""),
        r.getLong(1))).toList();
    degree.unpersist();
    List<Entry> facts = new ArrayList<>();
    facts.add(new Entry("items that can be listed", String.valueOf(items)));
    facts.add(new Entry("items in at least one list", String.format(Locale.ROOT, "%d (%.1f%%)", listedItems,
        items == 0 ? 0 : 100.0 * listedItems / items)));
    facts.add(new Entry("items in no list", String.valueOf(items - listedItems)));
    double[] degrees = new double[(int) Math.min(Integer.MAX_VALUE, items)];
    int at = 0;
    for (Map.Entry<Long, Long> e : histogram.entrySet()) {
      for (long k = 0; k < e.getValue() && at < degrees.length; k++) {
        degrees[at++] = e.getKey();
      }
    }
    // the remaining entries are the items in no list (0)
    long maxDegree = histogram.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
    charts.add(new Chart("coverage", "Coverage", Charts.histograms(Map.of("items", degrees),
        "How many lists each item appears in", "lists the item appears in", (int) Math.max(1, Math.min(50,
            maxDegree + 1))), "Items by the number of lists that name them (0 = never listed)."));
    if (!hubs.isEmpty()) {
      charts.add(new Chart("hubs", "Hub items", Charts.bars(hubs.stream().map(h -> shorten(h.itemId() + " "
          + h.text(), 60)).toList(), hubs.stream().map(h -> (Number) h.lists()).toList(), "Most-listed items",
          "lists"), "The items named in the most lists: hubs can crowd out better neighbours."));
    }
    Map<String, Object> out = new HashMap<>();
    out.put("facts", facts);
    out.put("hubs", hubs);
    return out;
  }

  @SuppressWarnings("unchecked")
  private static void evaluation(SparkSession spark, List<EvaluationOutput> evaluations, List<Chart> charts,
      List<Metric> metrics, List<Miss> misses) {
    Map<String, double[][]> curves = new LinkedHashMap<>();
    for (EvaluationOutput evaluation : evaluations) {
      Map<String, Map<String, Object>> latestByScorer = new LinkedHashMap<>();
      for (Map<String, Object> s : RunOutput.summaries(spark, evaluation.runs(), "evaluate")) {
        Object m = s.get("metrics");
        if (m instanceof Map<?, ?> map) {
          latestByScorer.put(String.valueOf(map.get("scorer")), (Map<String, Object>) map);
        }
      }
      latestByScorer.forEach((scorer, m) -> {
        for (String direction : List.of("a_to_b", "b_to_a")) {
          if (!(m.get(direction) instanceof Map<?, ?> values)) {
            continue;
          }
          List<double[]> points = new ArrayList<>();
          List<String> shown = new ArrayList<>();
          for (Map.Entry<?, ?> e : values.entrySet()) {
            String key = String.valueOf(e.getKey());
            if (key.startsWith("recall@") && e.getValue() instanceof Number v) {
              points.add(new double[] {Double.parseDouble(key.substring("recall@".length())), v.doubleValue()});
            }
            if (e.getValue() instanceof Number v && !key.equals("queries") && !key.equals("pairs")) {
              shown.add(key + " " + fmt(v.doubleValue()));
            }
          }
          String name = scorer + " " + direction.replace("_to_", "→").toUpperCase(Locale.ROOT)
              + (evaluations.size() > 1 ? " (" + evaluation.name() + ")" : "");
          curves.put(name, points.toArray(double[][]::new));
          metrics.add(new Metric(evaluation.name(), scorer, direction, String.join(", ", shown)));
        }
      });
      if (misses.isEmpty() && exists(spark, evaluation.misses())) {
        misses.addAll(worstMisses(spark, evaluation.misses()));
      }
    }
    if (!curves.isEmpty()) {
      charts.add(new Chart("recall", "Recall@K", Charts.lines(curves, "Recall@K per scorer and direction", "K",
          "recall@K"), "Share of true partners ranked within the first K, per scorer (latest evaluation of each)."));
    }
  }

  private static List<Miss> worstMisses(SparkSession spark, String path) {
    Dataset<Row> rows = StrictReads.parquet(spark, path);
    List<Miss> out = new ArrayList<>();
    for (Row r : rows.orderBy(col("expected_rank").isNull().desc(), col("expected_rank").desc(),
        coalesce(col("expected_score"), lit(-2f)).asc(), col("query_id")).limit(MISSES).collectAsList()) {
      List<Row> above = r.getList(r.fieldIndex("ranked_above"));
      String first = above.isEmpty() ? "" : above.get(0).getString(0) + " (" + fmt(above.get(0).getFloat(1)) + ") "
          + (above.get(0).isNullAt(2) ? "" : above.get(0).getString(2));
      out.add(new Miss(r.getString(0), r.getString(1), r.isNullAt(2) ? "" : r.getString(2), r.getString(3),
          r.isNullAt(4) ? "" : r.getString(4), r.isNullAt(5) ? "not listed" : String.valueOf(r.getInt(5)),
          r.isNullAt(6) ? "" : fmt(r.getFloat(6)), first));
    }
    return out;
  }

  /** The first rejected rows (by reason, then id) of the run date. */
  private static List<Rejected> rejected(SparkSession spark, RunOutput run) {
    if (run.rejected() == null || !exists(spark, run.rejected())) {
      return List.of();
    }
    Dataset<Row> rows = StrictReads.parquet(spark, run.rejected());
    String id = Arrays.asList(rows.columns()).contains("left_id") ? "left_id" : "item_id";
    return rows.orderBy(col("reason"), col(id)).limit(REJECTED).collectAsList().stream()
        .map(r -> new Rejected(r.getString(0), r.isNullAt(1) ? "(none)" : r.getString(1),
            r.isNullAt(2) ? "" : shorten(r.getString(2), 240), r.isNullAt(3) ? "" : r.getString(3)))
        .toList();
  }

  private static boolean exists(SparkSession spark, String path) {
    try {
      Path p = new Path(path);
      return p.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(p);
    } catch (IOException e) {
      return false;
    }
  }

  private static double median(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  static String fmt(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.4f", v);
  }

  private static String shorten(String s, int width) {
    return s.length() <= width ? s : s.substring(0, width - 1) + "…";
  }
}
