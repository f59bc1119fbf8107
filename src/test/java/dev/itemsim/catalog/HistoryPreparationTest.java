package dev.itemsim.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** History rows: usable, rejected by reason, and which of them still exclude their item. */
class HistoryPreparationTest {
  private final SparkSession spark = SparkTestSupport.spark();

  @Test
  void aPurchaseWhoseTimeCannotBeReadIsRejectedYetStillExcludesItsItem() {
    StructType schema = new StructType().add("user", "string").add("item", "string").add("event", "string")
        .add("time", "string");
    Dataset<Row> raw = spark.createDataFrame(List.of(
        RowFactory.create("u", "a", "view", "2026-03-01T10:00:00Z"),
        RowFactory.create("u", "b", "purchase", "last tuesday"),
        RowFactory.create("u", "c", "refund", "2026-03-01T10:00:00Z"),
        RowFactory.create("", "a", "purchase", "2026-03-01T10:00:00Z")), schema);
    Dataset<Row> known = spark.createDataFrame(List.of(RowFactory.create("a"), RowFactory.create("b"),
        RowFactory.create("c")), new StructType().add("item_id", "string"));
    HistoryPreparation.PreparedHistory history = HistoryPreparation.prepare(raw, "history.csv",
        new HistoryPreparation.Columns("user", "item", "event", "time"), Set.of("view", "purchase"), known);
    try {
      assertThat(history.events().collectAsList()).extracting(r -> r.getString(1)).containsExactly("a");
      assertThat(history.rejectedByReason()).containsEntry("bad_time", 1L).containsEntry("unknown_event", 1L)
          .containsEntry("missing_user_id", 1L);
      assertThat(history.excludable().collectAsList()).extracting(r -> r.getString(0) + ":" + r.getString(1)
          + ":" + r.getString(2)).containsExactlyInAnyOrder("u:a:view", "u:b:purchase");
    } finally {
      history.release();
    }
  }

  @Test
  void epochTimesAreSecondsOrMillisecondsByTheirSizeAndOutOfRangeOnesAreBadTimes() {
    Dataset<Row> known = spark.createDataFrame(List.of(RowFactory.create("a"), RowFactory.create("b"),
        RowFactory.create("c"), RowFactory.create("d")), new StructType().add("item_id", "string"));
    java.time.Instant expected = java.time.Instant.parse("2026-03-01T10:00:00Z");
    StructType numeric = new StructType().add("user", "string").add("item", "string").add("event", "string")
        .add("time", "long");
    StructType text = new StructType().add("user", "string").add("item", "string").add("event", "string")
        .add("time", "string");
    List<Dataset<Row>> tables = List.of(
        spark.createDataFrame(List.of(RowFactory.create("u", "a", "view", 1_772_359_200L),
            RowFactory.create("u", "b", "view", 1_772_359_200_000L),
            RowFactory.create("u", "c", "view", 99_999_999_999_999_999L),
            RowFactory.create("u", "d", "view", -99_999_999_999_999_999L)), numeric),
        spark.createDataFrame(List.of(RowFactory.create("u", "a", "view", "1772359200"),
            RowFactory.create("u", "b", "view", " 1772359200000 "),
            RowFactory.create("u", "c", "view", "99999999999999999"),
            RowFactory.create("u", "d", "view", "99999999999999999999999")), text));
    for (Dataset<Row> raw : tables) {
      HistoryPreparation.PreparedHistory history = HistoryPreparation.prepare(raw, "history",
          new HistoryPreparation.Columns("user", "item", "event", "time"), Set.of("view"), known);
      try {
        assertThat(history.events().collectAsList()).extracting(r -> r.getString(1) + "@"
            + r.getTimestamp(3).toInstant()).containsExactlyInAnyOrder("a@" + expected, "b@" + expected);
        assertThat(history.rejectedByReason()).containsEntry("bad_time", 2L);
      } finally {
        history.release();
      }
    }
  }
}
