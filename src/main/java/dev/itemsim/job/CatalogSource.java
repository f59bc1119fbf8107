package dev.itemsim.job;

import dev.itemsim.job.RunSummary.Side;

/**
 * One catalogue a job reads: {@code input.*}, or {@code search.against} / {@code search.format}.
 *
 * @param format parquet or csv
 */
public record CatalogSource(String path, String format, Side side) {
  /** Suffix of this side's stage names: "" for the input, {@code -against} for the second catalogue. */
  String stageSuffix() {
    return side == Side.INPUT ? "" : "-against";
  }
}
