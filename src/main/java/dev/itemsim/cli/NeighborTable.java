package dev.itemsim.cli;

import static org.apache.spark.sql.functions.col;

import dev.itemsim.StrictReads;
import java.io.PrintWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import dev.itemsim.job.OutputLayout;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Prints items with their neighbours, titles and scores, read from a job's output tables. */
final class NeighborTable {
  private static final int TEXT_WIDTH = 90;

  private NeighborTable() {}

  static void print(SparkSession spark, OutputLayout output, String runDate, List<String> itemIds, PrintWriter out) {
    Dataset<Row> similar = StrictReads.parquet(spark, output.similarItemsPath(java.time.LocalDate.parse(runDate)))
        .filter(col("item_id").isin(itemIds.toArray()))
        .orderBy("item_id", "rank");
    List<Row> rows = similar.collectAsList();
    Map<String, String> texts = texts(spark, output, rows, itemIds);
    for (String id : itemIds) {
      out.println();
      out.println("item " + id + "  " + shorten(texts.getOrDefault(id, "(no text: not in embeddings/)")));
      boolean any = false;
      for (Row r : rows) {
        if (!r.getString(0).equals(id)) {
          continue;
        }
        any = true;
        out.printf("  %3d  %.4f  %-24s %s%n", r.getInt(1), r.getFloat(3), shorten(r.getString(2), 24),
            shorten(texts.getOrDefault(r.getString(2), "")));
      }
      if (!any) {
        out.println("  (no neighbours for this item on run_date=" + runDate + ")");
      }
    }
  }

  /**
   * Lists with the explanation of every score (the report shows the same explanations): under each neighbour
   * its score as the sum of the scorer's terms, and the model numbers and words the texts share.
   */
  static void printExplained(dev.itemsim.report.RunExplanations.Explained explained, PrintWriter out) {
    out.println("scorer " + explained.scorer());
    if (!explained.note().isEmpty()) {
      out.println("note: " + explained.note());
    }
    for (dev.itemsim.report.RunExplanations.ExplainedList list : explained.lists()) {
      out.println();
      out.println(list.queryId() + "  " + shorten(list.queryText().isEmpty() ? "(no text)" : list.queryText()));
      if (list.neighbors().isEmpty()) {
        out.println("  (no list for this id)");
      }
      for (dev.itemsim.report.RunExplanations.Neighbor n : list.neighbors()) {
        out.printf("  %3d  %.4f  %-24s %s%n", n.rank(), n.score(), shorten(n.itemId(), 24), shorten(n.text()));
        if (n.explanation() == null) {
          out.println("         (not explained: the item is missing from the run's tables)");
          continue;
        }
        out.println("         " + n.explanation().formula());
        out.println("         shared " + n.explanation().shared());
      }
    }
  }

  /** A match run's left rows with the texts they were matched with and their items. */
  static void printMatches(SparkSession spark, OutputLayout output, String runDate, List<String> leftIds,
      PrintWriter out) {
    java.time.LocalDate date = java.time.LocalDate.parse(runDate);
    List<Row> rows = StrictReads.parquet(spark, output.resolve(OutputLayout.matches(date)).toString())
        .filter(col("left_id").isin(leftIds.toArray())).orderBy("left_id", "rank").collectAsList();
    Map<String, String> leftTexts = new HashMap<>();
    for (Row r : StrictReads.parquet(spark, output.resolve(OutputLayout.matchLeft(date)).toString())
        .filter(col("left_id").isin(leftIds.toArray())).select("left_id", "text").collectAsList()) {
      leftTexts.put(r.getString(0), r.getString(1));
    }
    java.util.Set<String> items = new java.util.HashSet<>();
    rows.forEach(r -> items.add(r.getString(2)));
    Map<String, String> texts = new HashMap<>();
    for (Row r : StrictReads.parquet(spark, output.resolve(OutputLayout.EMBEDDINGS).toString())
        .select("item_id", "text")
        .filter(col("item_id").isin(items.toArray())).collectAsList()) {
      texts.put(r.getString(0), r.getString(1));
    }
    for (String id : leftIds) {
      out.println();
      out.println("left " + id + "  " + shorten(leftTexts.getOrDefault(id, "")));
      boolean any = false;
      for (Row r : rows) {
        if (r.getString(0).equals(id)) {
          any = true;
          out.printf("  %3d  %.4f  %-24s %s%n", r.getInt(1), r.getFloat(3), shorten(r.getString(2), 24),
              shorten(texts.getOrDefault(r.getString(2), "")));
        }
      }
      if (!any) {
        out.println("  (no matches for this row on run_date=" + runDate + ")");
      }
    }
  }

  private static Map<String, String> texts(SparkSession spark, OutputLayout output, List<Row> rows, List<String> ids) {
    java.util.Set<String> wanted = new java.util.HashSet<>(ids);
    rows.forEach(r -> wanted.add(r.getString(2)));
    Map<String, String> texts = new HashMap<>();
    for (String table : List.of(OutputLayout.EMBEDDINGS_AGAINST, OutputLayout.EMBEDDINGS)) {
      String path = output.resolve(table).toString();
      if (!table.equals(OutputLayout.EMBEDDINGS) && !exists(spark, path)) {
        continue;
      }
      for (Row r : StrictReads.parquet(spark, path).select("item_id", "text")
          .filter(col("item_id").isin(wanted.toArray())).collectAsList()) {
        texts.put(r.getString(0), r.getString(1));
      }
    }
    return texts;
  }

  private static boolean exists(SparkSession spark, String path) {
    try {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
      return p.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(p);
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static String shorten(String s) {
    return shorten(s, TEXT_WIDTH);
  }

  private static String shorten(String s, int width) {
    return s.length() <= width ? s : s.substring(0, width - 1) + "…";
  }
}
