package dev.itemsim.catalog;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;

/**
 * Event times as users store them: timestamps and dates; epoch numbers, as numbers or as text of digits only,
 * in seconds or (at least {@link #EPOCH_MILLIS_FROM} in size) milliseconds; other text as ISO-8601.
 */
public final class EventTimes {
  /** Epoch numbers at or above this size are milliseconds: as seconds they would be after the year 5000. */
  public static final long EPOCH_MILLIS_FROM = 100_000_000_000L;
  /** Epoch numbers at or above this size are not read: as milliseconds too they would be after the year 5000. */
  public static final long EPOCH_MILLIS_UP_TO = 100_000_000_000_000L;

  private EventTimes() {}

  /**
   * Column {@code column} of {@code raw} as a timestamp, null where it cannot be read or an epoch number is out
   * of range either way (never an error, so the row can be rejected and counted).
   */
  public static Column timestamp(Dataset<Row> raw, String column) {
    DataType type = raw.schema().apply(column).dataType();
    String quoted = "`" + column.replace("`", "``") + "`";
    if (type instanceof TimestampType || type instanceof TimestampNTZType || type instanceof DateType) {
      return col(quoted).cast(DataTypes.TimestampType);
    }
    if (type instanceof NumericType) {
      return expr(epoch("try_cast(" + quoted + " AS DOUBLE)"));
    }
    String s = "trim(CAST(" + quoted + " AS STRING))";
    return expr("CASE WHEN " + s + " RLIKE '^-?[0-9]+$' THEN " + epoch("try_cast(" + s + " AS DOUBLE)")
        + " ELSE try_to_timestamp(" + s + ") END");
  }

  /** SQL for the epoch number {@code value} (a double) as a timestamp: seconds or milliseconds by its size. */
  private static String epoch(String value) {
    return "CASE WHEN abs(" + value + ") < " + EPOCH_MILLIS_FROM + " THEN timestamp_seconds(CAST(" + value
        + " AS BIGINT)) WHEN abs(" + value + ") < " + EPOCH_MILLIS_UP_TO + " THEN timestamp_millis(CAST(" + value
        + " AS BIGINT)) END";
  }
}
