package dev.itemsim.report;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.InvalidInputException;
import dev.itemsim.StrictReads;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * One run's published tables, as the report and {@code show --explain} read them: the ranked lists, the
 * items they rank for (queries) and the items they list (corpus), and the run summaries. The caller names
 * the paths (the job package's output layout); this class only reads.
 *
 * @param kind {@code similar-items} or {@code match}
 * @param lists the lists' partition ({@code similar_items/run_date=D} or {@code matches/run_date=D})
 * @param queryItems what the lists were computed for: the catalogue's embeddings, or the match job's left rows
 * @param corpusItems what the lists name: a second catalogue's or the catalogue's embeddings; null when one
 *     catalogue was searched against itself
 * @param runs the folder of run summaries
 * @param rejected the run date's rejected rows of what the lists are for: the catalogue's, or the match job's
 *     left rows ({@code reason, item_id | left_id, record, source_file})
 */
public record RunOutput(String kind, String root, String runDate, String lists, String queryItems,
    String corpusItems, String runs, String rejected) {
  public static final String SIMILAR_ITEMS = "similar-items";
  public static final String MATCH = "match";

  public boolean isMatch() {
    return MATCH.equals(kind);
  }

  /**
   * The lists as {@code query_id, rank, item_id, score}, whichever job wrote them.
   */
  public Dataset<Row> lists(SparkSession spark) {
    Dataset<Row> rows = StrictReads.parquet(spark, lists);
    return isMatch()
        ? rows.select(col("left_id").as("query_id"), col("rank"), col("item_id"), col("score"))
        : rows.select(col("item_id").as("query_id"), col("rank"), col("neighbor_id").as("item_id"), col("score"));
  }

  /** The query side as a search-items dataset ({@code item_id, text, embedding[, history]}). */
  public Dataset<Row> queries(SparkSession spark) {
    Dataset<Row> rows = StrictReads.parquet(spark, queryItems);
    return isMatch() ? rows.withColumnRenamed("left_id", "item_id") : rows;
  }

  /** The listed side, or null when it is the query side itself. */
  public Dataset<Row> corpus(SparkSession spark) {
    return corpusItems == null ? null : StrictReads.parquet(spark, corpusItems);
  }

  /** The listed side, whichever it is. */
  public Dataset<Row> listedItems(SparkSession spark) {
    return corpusItems == null ? queries(spark) : corpus(spark);
  }

  /**
   * The summary of the latest succeeded run of this kind for this run date, as parsed JSON.
   *
   * @throws InvalidInputException when there is none
   */
  public Map<String, Object> summary(SparkSession spark) {
    List<Map<String, Object>> found = summaries(spark, runs, kind);
    return found.stream().filter(s -> runDate.equals(s.get("run_date"))).reduce((a, b) -> b)
        .orElseThrow(() -> new InvalidInputException("No succeeded " + kind + " run summary for run_date="
            + runDate + " under " + runs));
  }

  /** Every succeeded run summary of {@code job} under {@code runsDir}, oldest first (by run id). */
  @SuppressWarnings("unchecked")
  public static List<Map<String, Object>> summaries(SparkSession spark, String runsDir, String job) {
    List<Map<String, Object>> out = new ArrayList<>();
    Path dir = new Path(runsDir);
    try {
      FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(dir)) {
        return out;
      }
      ObjectMapper json = new ObjectMapper();
      for (FileStatus f : fs.listStatus(dir)) {
        String name = f.getPath().getName();
        if (!f.isFile() || !name.endsWith(".json") || name.startsWith(".")) {
          continue;
        }
        try (InputStream in = fs.open(f.getPath())) {
          Map<String, Object> summary = json.readValue(in, Map.class);
          if (job.equals(summary.get("job")) && "succeeded".equals(summary.get("status"))) {
            out.add(summary);
          }
        } catch (IOException e) {
          // a summary being written or damaged: not one this report can show
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list run summaries under " + runsDir, e);
    }
    out.sort(Comparator.comparing(s -> String.valueOf(s.get("run_id"))));
    return out;
  }
}
