package dev.itemsim.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.itemsim.StrictReads;
import dev.itemsim.similarity.DriverRows;
import dev.itemsim.similarity.IncrementalLists;
import dev.itemsim.similarity.LexicalFeatures;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code state/} table: what a similar-items run leaves for the next one, published with its other
 * tables (so it always describes the run whose {@code embeddings/} are live).
 * <ul>
 *   <li>{@code state/manifest.json}: {@code layout_version}, the run, whether lists were kept (and why
 *       not), the settings they were made with ({@code settings}), the lexical weights' bookkeeping;
 *   <li>{@code state/lists/}: one row per ranked item, {@link IncrementalLists#STATE_SCHEMA};
 *   <li>{@code state/lexical/}: the hybrid scorer's document frequencies ({@code kind, feature, count}).
 * </ul>
 * A run may update the stored lists only when the manifest's layout version is {@link #LAYOUT_VERSION} and
 * its settings equal the run's own; otherwise, and when anything cannot be read, it ranks every item and says
 * why.
 */
final class NeighborState {
  private static final Logger LOG = LoggerFactory.getLogger(NeighborState.class);
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * The output layout this code writes: 2 = {@code state/} and {@code encoder_fingerprint} beside every
   * vector. Layout 1 (no {@code state/}) is what itemsim wrote before it kept anything between runs.
   */
  static final int LAYOUT_VERSION = 2;
  static final String MANIFEST = "manifest.json";
  static final String LISTS = "lists";
  static final String LEXICAL = "lexical";
  private static final StructType LEXICAL_SCHEMA = new StructType().add("kind", DataTypes.IntegerType, false)
      .add("feature", DataTypes.IntegerType, false).add("count", DataTypes.LongType, false);
  private static final long ROWS_PER_FILE = 1_000_000;

  /**
   * A previous run's state as this run can use it.
   *
   * @param state its lists (persisted) and weights, or null
   * @param whyNone why there is no usable state, or null
   */
  record Previous(IncrementalLists.State state, String whyNone) {
    void release() {
      if (state != null) {
        state.lists().unpersist();
      }
    }
  }

  private NeighborState() {}

  /**
   * Reads {@code <output>/state} for a run whose lists depend on {@code settings} (compared with the stored
   * ones; insertion order is the order of the comparison).
   */
  static Previous read(SparkSession spark, OutputLayout layout, Map<String, Object> settings) {
    Path dir = layout.resolve(OutputLayout.STATE);
    JsonNode manifest;
    try {
      FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      Path file = new Path(dir, MANIFEST);
      if (!fs.exists(file)) {
        if (!(fs.exists(layout.path()) && fs.exists(layout.resolve(OutputLayout.EMBEDDINGS)))) {
          // a first run on this output: expected, so not a warning
          LOG.info("Ranking every item: no previous run on this output");
          return new Previous(null, "no previous run on this output");
        }
        return none("the previous output has no " + OutputLayout.STATE + "/ (written by an itemsim before output "
            + "layout " + LAYOUT_VERSION + ")");
      }
      try (InputStream in = fs.open(file)) {
        manifest = JSON.readTree(in);
      }
    } catch (IOException | RuntimeException e) {
      return none("the previous run's " + OutputLayout.STATE + "/" + MANIFEST + " is unreadable: " + Failures.oneLine(e));
    }
    int version = manifest.path("layout_version").asInt(-1);
    if (version != LAYOUT_VERSION) {
      return none("the previous output has layout version " + (version < 0 ? "(none)" : version) + "; this itemsim"
          + " reads layout " + LAYOUT_VERSION);
    }
    if (!manifest.path("lists").asBoolean(false)) {
      return none("the previous run kept no lists (" + manifest.path("why_no_lists").asText("") + ")");
    }
    String changed = firstDifference(JSON.valueToTree(settings), manifest.path("settings"));
    if (changed != null) {
      return none(changed);
    }
    Dataset<Row> lists;
    try {
      lists = StrictReads.parquet(spark, new Path(dir, LISTS).toString());
      String problem = schemaProblem(lists.schema());
      if (problem != null) {
        return none("the previous run's lists " + problem);
      }
      lists = lists.persist(StorageLevel.MEMORY_AND_DISK());
    } catch (Exception e) {  // an empty folder: Spark's AnalysisException, checked for Java yet undeclared
      return none("the previous run's lists are unreadable: " + Failures.oneLine(e));
    }
    try {
      long n = lists.count();
      long expected = manifest.path("list_count").asLong(-1);
      if (n != expected) {
        lists.unpersist();
        return none("the previous run's lists hold " + n + " items, its manifest says " + expected);
      }
      LexicalFeatures.Frequencies frequencies = manifest.has("lexical")
          ? readFrequencies(spark, new Path(dir, LEXICAL), manifest.path("lexical")) : null;
      LOG.info("Previous run {} kept the lists of {} items", manifest.path("run_id").asText(), n);
      return new Previous(new IncrementalLists.State(lists, frequencies), null);
    } catch (Throwable e) {  // Spark reports a corrupt file as an undeclared checked exception
      lists.unpersist();
      return none("the previous run's state is unreadable: " + Failures.oneLine(e));
    }
  }

  private static Previous none(String why) {
    LOG.warn("Ranking every item: {}", why);
    return new Previous(null, why);
  }

  /** The first setting that differs, as a sentence, or null. */
  private static String firstDifference(JsonNode wanted, JsonNode stored) {
    Iterator<Map.Entry<String, JsonNode>> fields = wanted.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> e = fields.next();
      JsonNode before = stored.get(e.getKey());
      if (before == null || !sameValue(e.getValue(), before)) {
        return "the previous lists were made with " + e.getKey() + " = " + (before == null ? "(unset)" : before)
            + ", this run uses " + e.getValue();
      }
    }
    return null;
  }

  private static boolean sameValue(JsonNode a, JsonNode b) {
    return a.isNumber() && b.isNumber() ? a.decimalValue().compareTo(b.decimalValue()) == 0 : a.equals(b);
  }

  private static String schemaProblem(StructType schema) {
    for (StructField want : IncrementalLists.STATE_SCHEMA.fields()) {
      StructField got = Arrays.stream(schema.fields()).filter(f -> f.name().equals(want.name())).findFirst()
          .orElse(null);
      if (got == null) {
        return "have no column " + want.name();
      }
      boolean same = want.dataType() instanceof org.apache.spark.sql.types.ArrayType w
          && got.dataType() instanceof org.apache.spark.sql.types.ArrayType g
          ? w.elementType().equals(g.elementType()) : want.dataType().equals(got.dataType());
      if (!same) {
        return "have column " + want.name() + " of type " + got.dataType().simpleString() + ", expected "
            + want.dataType().simpleString();
      }
    }
    return null;
  }

  private static LexicalFeatures.Frequencies readFrequencies(SparkSession spark, Path dir, JsonNode lexical) {
    List<Row> rows = StrictReads.parquet(spark, dir.toString()).orderBy("kind", "feature").collectAsList();
    int kinds = LexicalFeatures.Frequencies.TOKEN_KINDS;
    List<List<Row>> byKind = new ArrayList<>();
    for (int k = 0; k < kinds; k++) {
      byKind.add(new ArrayList<>());
    }
    for (Row r : rows) {
      byKind.get(r.getInt(0)).add(r);
    }
    int[][] features = new int[kinds][];
    long[][] counts = new long[kinds][];
    for (int k = 0; k < kinds; k++) {
      List<Row> kind = byKind.get(k);
      features[k] = kind.stream().mapToInt(r -> r.getInt(1)).toArray();
      counts[k] = kind.stream().mapToLong(r -> r.getLong(2)).toArray();
    }
    return new LexicalFeatures.Frequencies(lexical.path("documents").asLong(), features, counts,
        lexical.path("changes_since_fit").asLong());
  }

  /**
   * Writes this run's state into the staged folder {@code dir}: the outcome's lists and weights, or, when
   * the run kept no lists ({@code outcome} null), a manifest saying why not.
   */
  static void write(SparkSession spark, Path dir, String runId, String runDate, Map<String, Object> settings,
      IncrementalLists.Outcome outcome, String whyNoLists) {
    Map<String, Object> manifest = new LinkedHashMap<>();
    manifest.put("layout_version", LAYOUT_VERSION);
    manifest.put("run_id", runId);
    manifest.put("run_date", runDate);
    manifest.put("lists", outcome != null);
    if (outcome == null) {
      manifest.put("why_no_lists", whyNoLists);
    } else {
      long n = outcome.counts().lists();
      outcome.state().coalesce((int) Math.max(1, Math.min(10_000, n / ROWS_PER_FILE)))
          .write().parquet(new Path(dir, LISTS).toString());
      manifest.put("list_count", n);
      LexicalFeatures.Frequencies f = outcome.frequencies();
      if (f != null) {
        List<Row> rows = new ArrayList<>();
        for (int k = 0; k < f.features().length; k++) {
          for (int i = 0; i < f.features()[k].length; i++) {
            rows.add(RowFactory.create(k, f.features()[k][i], f.counts()[k][i]));
          }
        }
        // a vocabulary's frequencies are megabytes: shipped in slices, gathered by a shuffle into one file
        DriverRows.of(spark, rows, LEXICAL_SCHEMA).repartition(1).write().parquet(new Path(dir, LEXICAL).toString());
        manifest.put("lexical", Map.of("documents", f.documents(), "changes_since_fit", f.changesSinceFit()));
      }
    }
    manifest.put("settings", settings);
    try {
      FileSystem checked = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      // no .crc side file on local disks: the manifest stays readable after an edit by hand
      FileSystem fs = checked instanceof org.apache.hadoop.fs.ChecksumFileSystem c ? c.getRawFileSystem() : checked;
      fs.mkdirs(dir);
      try (OutputStream out = fs.create(new Path(dir, MANIFEST), true)) {
        out.write(JSON.writeValueAsString(manifest).getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + new Path(dir, MANIFEST), e);
    }
  }
}
