package dev.itemsim.catalog;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.lower;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import dev.itemsim.InvalidInputException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;
import org.apache.spark.storage.StorageLevel;

/**
 * Checks a user-history table's columns and classifies its rows: usable events, or rejected with a
 * {@link HistoryRejectReason} (one per row, tried in the enum's order).
 */
public final class HistoryPreparation {
  private HistoryPreparation() {}

  /**
   * The history table's column names ({@code match.users.*Column}).
   */
  public record Columns(String user, String item, String event, String time) implements java.io.Serializable {}

  /**
   * A history split into usable events and rejected rows.
   *
   * @param events {@code user_id string, item_id string, event string (lower case), ts timestamp}
   * @param rejected {@code reason string, left_id string (the user), record string (the row as JSON),
   *     source_file string}
   * @param users every non-blank user id of the table ({@code user_id string}), whether or not a row of theirs
   *     is usable
   * @param rejectedByReason row counts per row reason, every row reason present
   */
  public record PreparedHistory(Dataset<Row> events, Dataset<Row> rejected, Dataset<Row> users, long rowsRead,
      long rowsValid, Map<String, Long> rejectedByReason, Dataset<Row> cached) {
    public long rowsRejected() {
      return rejectedByReason.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * {@code user_id, item_id, event}: the usable events and those rejected for their time only. A purchase
     * excludes its item whenever it happened, so a row whose time cannot be read still does.
     */
    public Dataset<Row> excludable() {
      return cached.filter(col("reason").isNull().or(col("reason").equalTo(HistoryRejectReason.BAD_TIME.code())))
          .select("user_id", "item_id", "event");
    }

    public void release() {
      cached.unpersist();
    }
  }

  /**
   * @param knownItems {@code item_id string}: the catalogue items events may name
   * @param events the event types that are allowed (matched case-insensitively, after trimming)
   * @throws InvalidInputException when a column is missing or of a type that cannot hold it, or the table is
   *     empty
   */
  public static PreparedHistory prepare(Dataset<Row> raw, String source, Columns columns, Set<String> events,
      Dataset<Row> knownItems) {
    List<String> names = Arrays.asList(raw.schema().fieldNames());
    requireColumn(raw, columns.user(), "match.users.userColumn", source);
    requireColumn(raw, columns.item(), "match.users.itemColumn", source);
    requireColumn(raw, columns.event(), "match.users.eventColumn", source);
    requireColumn(raw, columns.time(), "match.users.timeColumn", source);

    Column malformed = names.contains(CatalogReader.CORRUPT_COLUMN)
        ? col(CatalogReader.CORRUPT_COLUMN).isNotNull() : lit(false);
    Column sourceFile = names.contains(CatalogReader.SOURCE_FILE_COLUMN)
        ? col(CatalogReader.SOURCE_FILE_COLUMN) : input_file_name();
    Column[] recordColumns = names.stream().filter(c -> !c.equals(CatalogReader.SOURCE_FILE_COLUMN))
        .map(HistoryPreparation::quoted).toArray(Column[]::new);
    Object[] allowed = events.stream().map(e -> e.trim().toLowerCase(java.util.Locale.ROOT)).toArray();

    Dataset<Row> rows = raw.select(
        quoted(columns.user()).cast(DataTypes.StringType).as("user_id"),
        quoted(columns.item()).cast(DataTypes.StringType).as("item_id"),
        lower(trim(quoted(columns.event()).cast(DataTypes.StringType))).as("event"),
        EventTimes.timestamp(raw, columns.time()).as("ts"),
        to_json(struct(recordColumns)).as("record"),
        sourceFile.as("source_file"),
        malformed.as("malformed"));
    Dataset<Row> known = knownItems.select(col("item_id").as("_known_id")).distinct();
    Column reason = when(col("malformed"), HistoryRejectReason.MALFORMED_ROW.code())
        .when(col("user_id").isNull().or(trim(col("user_id")).equalTo("")), HistoryRejectReason.MISSING_USER_ID.code())
        .when(col("item_id").isNull().or(trim(col("item_id")).equalTo("")), HistoryRejectReason.MISSING_ITEM_ID.code())
        .when(col("event").isNull().or(org.apache.spark.sql.functions.not(col("event").isin(allowed))),
            HistoryRejectReason.UNKNOWN_EVENT.code())
        .when(col("ts").isNull(), HistoryRejectReason.BAD_TIME.code())
        .when(col("_known_id").isNull(), HistoryRejectReason.UNKNOWN_ITEM.code());
    Dataset<Row> classified = rows.join(known, rows.col("item_id").equalTo(known.col("_known_id")), "left")
        .withColumn("reason", reason)
        .drop("_known_id", "malformed")
        .persist(StorageLevel.MEMORY_AND_DISK());

    Map<String, Long> byReason = new LinkedHashMap<>();
    for (HistoryRejectReason r : HistoryRejectReason.values()) {
      if (!r.aboutUser()) {
        byReason.put(r.code(), 0L);
      }
    }
    long read = 0;
    long valid = 0;
    for (Row r : classified.groupBy("reason").count().collectAsList()) {
      read += r.getLong(1);
      if (r.isNullAt(0)) {
        valid = r.getLong(1);
      } else {
        byReason.put(r.getString(0), r.getLong(1));
      }
    }
    if (read == 0) {
      classified.unpersist();
      throw new InvalidInputException("History " + source + " has no rows");
    }
    Dataset<Row> usable = classified.filter(col("reason").isNull()).select("user_id", "item_id", "event", "ts");
    Dataset<Row> rejected = classified.filter(col("reason").isNotNull())
        .select(col("reason"), col("user_id").as("left_id"), col("record"), col("source_file"));
    Dataset<Row> users = classified.filter(col("user_id").isNotNull().and(trim(col("user_id")).notEqual("")))
        .select("user_id").distinct();
    return new PreparedHistory(usable, rejected, users, read, valid, byReason, classified);
  }

  private static void requireColumn(Dataset<Row> raw, String column, String key, String source) {
    StructField field = Arrays.stream(raw.schema().fields()).filter(f -> f.name().equals(column)).findFirst()
        .orElseThrow(() -> new InvalidInputException("History " + source + " has no column '" + column
            + "' (needed by " + key + "); columns found: " + String.join(", ", Arrays.stream(raw.schema()
            .fieldNames()).filter(n -> !n.equals(CatalogReader.CORRUPT_COLUMN)
                && !n.equals(CatalogReader.SOURCE_FILE_COLUMN)).toList())));
    DataType type = field.dataType();
    boolean atomic = type instanceof StringType || type instanceof NumericType || type instanceof DateType
        || type instanceof TimestampType || type instanceof TimestampNTZType || type.equals(DataTypes.BooleanType);
    if (!atomic) {
      throw new InvalidInputException("History " + source + ": column '" + column + "' (needed by " + key
          + ") has type " + type.simpleString() + "; itemsim reads text, number, date or timestamp columns");
    }
  }

  private static String sql(String column) {
    return "`" + column.replace("`", "``") + "`";
  }

  private static Column quoted(String column) {
    return col(sql(column));
  }
}
