package dev.itemsim.finetune;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lag;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.itemsim.InvalidInputException;
import dev.itemsim.catalog.CatalogReader;
import dev.itemsim.catalog.PairRows;
import dev.itemsim.catalog.EventTimes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.storage.StorageLevel;

/**
 * Positive pairs from co-engagement events ({@code user_id, item_id, ts[, event]}): a user's events are cut
 * into sessions wherever two consecutive events are more than {@code sessionMinutes} apart; two items engaged
 * with in the same session co-occur once. Pairs co-occurring in at least {@code minCount} sessions are ranked
 * by pointwise mutual information, {@code PMI(i, j) = ln(c(i, j) · N / (c(i) · c(j)))} with {@code c} counting
 * sessions and {@code N} all sessions, and a pair is kept when it is among the {@code maxPairsPerItem}
 * highest-PMI pairs of either of its items. Computed with Spark SQL, so the events may be large; only the
 * kept pairs reach the driver.
 *
 * <p>{@code ts} is epoch seconds or a timestamp ({@code 2026-01-31T10:15:00Z}, or a Parquet timestamp). Rows
 * without a user, item or readable time are rejected ({@code bad_event}); events of items that are not valid
 * catalogue items are counted ({@code unknown_item}) and skipped; sessions with more than
 * {@code maxSessionItems} distinct items (crawlers, bulk imports) are skipped and counted.
 */
public final class CoEngagement {
  /**
   * @param sessionMinutes a gap longer than this between two events of a user starts a new session
   * @param minCount sessions a pair must co-occur in
   * @param maxPairsPerItem pairs kept per item, highest PMI first
   * @param maxSessionItems sessions with more distinct items than this are skipped
   */
  public record Settings(int sessionMinutes, int minCount, int maxPairsPerItem, int maxSessionItems)
      implements java.io.Serializable {
    public Settings {
      if (sessionMinutes < 1 || minCount < 1 || maxPairsPerItem < 1 || maxSessionItems < 2) {
        throw new InvalidInputException("finetune.sessionMinutes, minCount and maxPairsPerItem must be >= 1 and "
            + "maxSessionItems >= 2: got " + this);
      }
    }
  }

  /**
   * The pairs and what it took: events read, rejected, of unknown items; sessions; co-occurring pairs before
   * the count and PMI cuts.
   *
   */
  public record Result(TrainingPairs pairs, List<Scored> scored, long events, long badEvents,
      long unknownItemEvents, long sessions, long skippedSessions, long coOccurringPairs) {}

  /** A kept pair with its session count and PMI. */
  public record Scored(String a, String b, long count, double pmi) {}

  private CoEngagement() {}

  /**
   * Reads the events at {@code path} (CSV with a header, or Parquet) and writes every event not used to
   * {@code rejectedDir} (Parquet: {@code reason, user_id, item_id, ts}).
   */
  public static Result pairs(SparkSession spark, String path, Settings settings, Set<String> validIds,
      String rejectedDir) {
    Dataset<Row> raw = CatalogReader.read(spark, path, "finetune.events", PairRows.format(spark, path),
        CatalogReader.DEFAULT_CSV_MAX_RECORD_LINES);
    List<String> columns = new ArrayList<>(Arrays.asList(raw.columns()));
    columns.remove(CatalogReader.CORRUPT_COLUMN);
    columns.remove(CatalogReader.SOURCE_FILE_COLUMN);
    if (!columns.containsAll(List.of("user_id", "item_id", "ts"))) {
      throw new InvalidInputException("Events file " + path + " needs columns user_id, item_id and ts (and "
          + "optionally event); columns found: " + String.join(", ", columns));
    }
    Dataset<Row> ids = spark.createDataset(new ArrayList<>(validIds), org.apache.spark.sql.Encoders.STRING())
        .toDF("_valid_id");
    String corrupt = Arrays.asList(raw.columns()).contains(CatalogReader.CORRUPT_COLUMN)
        ? "`" + CatalogReader.CORRUPT_COLUMN + "`" : "CAST(NULL AS STRING)";
    Dataset<Row> events = raw.withColumn("_time", EventTimes.timestamp(raw, "ts"))
        .selectExpr("CAST(user_id AS STRING) AS user_id", "CAST(item_id AS STRING) AS item_id",
            "CAST(ts AS STRING) AS ts", corrupt + " AS corrupt", "unix_seconds(_time) AS t")
        .join(ids, col("item_id").equalTo(col("_valid_id")), "left")
        .withColumn("reason", when(col("corrupt").isNotNull().or(col("user_id").isNull())
            .or(org.apache.spark.sql.functions.trim(col("user_id")).equalTo("")).or(col("item_id").isNull())
            .or(col("t").isNull()), lit("bad_event"))
            .when(col("_valid_id").isNull(), lit("unknown_item")))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      events.filter(col("reason").isNotNull()).select("reason", "user_id", "item_id", "ts").coalesce(1)
          .write().parquet(rejectedDir);
      List<Row> reasonCounts = events.groupBy("reason").count().collectAsList();
      long total = 0;
      long bad = 0;
      long unknown = 0;
      for (Row r : reasonCounts) {
        total += r.getLong(1);
        if ("bad_event".equals(r.getString(0))) {
          bad = r.getLong(1);
        } else if ("unknown_item".equals(r.getString(0))) {
          unknown = r.getLong(1);
        }
      }
      Dataset<Row> good = events.filter(col("reason").isNull()).select("user_id", "item_id", "t");
      WindowSpec byUser = Window.partitionBy("user_id").orderBy("t", "item_id");
      Dataset<Row> sessions = good
          .withColumn("gap", col("t").minus(lag(col("t"), 1).over(byUser)))
          .withColumn("starts", when(col("gap").isNull().or(col("gap").gt(settings.sessionMinutes() * 60L)), 1)
              .otherwise(0))
          .withColumn("session", sum(col("starts")).over(byUser.rowsBetween(Window.unboundedPreceding(),
              Window.currentRow())))
          .select("user_id", "session", "item_id").distinct();
      Dataset<Row> sizes = sessions.groupBy("user_id", "session").agg(count(lit(1)).as("size"));
      Dataset<Row> kept = sessions.join(sizes, new String[] {"user_id", "session"})
          .persist(StorageLevel.MEMORY_AND_DISK());
      try {
        Row sessionCounts = kept.select("user_id", "session", "size").distinct()
            .agg(count(lit(1)), sum(when(col("size").gt(settings.maxSessionItems()), 1).otherwise(0)))
            .first();
        long sessionTotal = sessionCounts.getLong(0);
        long skipped = sessionCounts.isNullAt(1) ? 0 : sessionCounts.getLong(1);
        long counted = sessionTotal - skipped;
        Dataset<Row> usable = kept.filter(col("size").leq(settings.maxSessionItems()));
        Dataset<Row> itemCounts = usable.groupBy("item_id").agg(count(lit(1)).as("c"));
        Dataset<Row> left = usable.select(col("user_id"), col("session"), col("item_id").as("a"));
        Dataset<Row> right = usable.select(col("user_id"), col("session"), col("item_id").as("b"));
        Dataset<Row> coCounts = left.join(right, new String[] {"user_id", "session"})
            .filter(col("a").lt(col("b")))
            .groupBy("a", "b").agg(count(lit(1)).as("cab"))
            .persist(StorageLevel.MEMORY_AND_DISK());
        try {
          long coOccurring = coCounts.count();
          Dataset<Row> ca = itemCounts.select(col("item_id").as("a"), col("c").as("ca"));
          Dataset<Row> cb = itemCounts.select(col("item_id").as("b"), col("c").as("cb"));
          Dataset<Row> scored = coCounts.filter(col("cab").geq(settings.minCount()))
              .join(ca, "a").join(cb, "b")
              .withColumn("pmi", log(col("cab").multiply(lit((double) counted)).divide(col("ca").multiply(col("cb")))));
          Dataset<Row> perItem = scored.select(col("a").as("item"), col("a"), col("b"), col("cab"), col("pmi"))
              .union(scored.select(col("b").as("item"), col("a"), col("b"), col("cab"), col("pmi")));
          WindowSpec best = Window.partitionBy("item").orderBy(col("pmi").desc(), col("cab").desc(), col("a"),
              col("b"));
          List<Row> top = perItem.withColumn("rank", row_number().over(best))
              .filter(col("rank").leq(settings.maxPairsPerItem()))
              .select("a", "b", "cab", "pmi").distinct()
              .orderBy(col("pmi").desc(), col("cab").desc(), col("a"), col("b"))
              .collectAsList();
          List<Scored> pairs = new ArrayList<>();
          List<TrainingPairs.Pair> positives = new ArrayList<>();
          for (Row r : top) {
            pairs.add(new Scored(r.getString(0), r.getString(1), r.getLong(2), r.getDouble(3)));
            positives.add(new TrainingPairs.Pair(r.getString(0), r.getString(1)));
          }
          if (positives.isEmpty()) {
            throw new InvalidInputException("Events file " + path + ": no pair of items co-occurs in "
                + settings.minCount() + " or more sessions (finetune.minCount; " + (total - bad - unknown)
                + " usable events of " + total + ": " + bad + " unreadable, " + unknown + " of items that are not "
                + "valid catalogue items; " + counted + " sessions)");
          }
          return new Result(TrainingPairs.coEngaged(positives), pairs, total, bad, unknown, sessionTotal, skipped,
              coOccurring);
        } finally {
          coCounts.unpersist();
        }
      } finally {
        kept.unpersist();
      }
    } finally {
      events.unpersist();
    }
  }
}
