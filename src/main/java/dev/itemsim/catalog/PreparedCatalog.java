package dev.itemsim.catalog;

import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A catalogue split into what can be encoded and what cannot.
 *
 * @param items {@code item_id string, text string}: unique non-blank ids with non-blank text
 * @param rejected {@code reason string, item_id string, record string (the row as JSON), source_file string}
 * @param itemsRead rows read (for CSV one per record, a malformed line counting as one); always
 *     {@code itemsValid + Σ rejectedByReason}
 * @param itemsValid rows in {@code items}
 * @param rejectedByReason counts per {@link RejectReason#code()}, every reason present (0 when none)
 * @param cached the persisted classification both datasets read from ({@link #release()})
 */
public record PreparedCatalog(Dataset<Row> items, Dataset<Row> rejected, long itemsRead, long itemsValid,
    Map<String, Long> rejectedByReason, Dataset<Row> cached) {

  /** Drops the cached classification once the items and rejected rows are no longer needed. */
  public void release() {
    cached.unpersist();
  }

  public long itemsRejected() {
    return rejectedByReason.values().stream().mapToLong(Long::longValue).sum();
  }
}
