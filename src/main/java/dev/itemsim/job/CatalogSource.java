package dev.itemsim.job;

import dev.itemsim.catalog.CatalogKeys;
import dev.itemsim.job.RunSummary.Side;

/**
 * One catalogue a job reads: {@code input.*}, {@code search.against} / {@code search.format}, or the match
 * job's left table.
 *
 * @param format parquet or csv
 * @param encodePrefix put before every text when it is encoded (a model's query or passage instruction), ""
 *     for none; the stored and lexically scored text stays without it
 */
public record CatalogSource(String path, String format, Side side, String encodePrefix) {
  public CatalogSource {
    encodePrefix = encodePrefix == null ? "" : encodePrefix;
  }

  public CatalogSource(String path, String format, Side side) {
    this(path, format, side, "");
  }

  /** The same catalogue encoded with {@code prefix} before every text. */
  public CatalogSource withEncodePrefix(String prefix) {
    return new CatalogSource(path, format, side, prefix);
  }

  /** The keys its errors name: its path's, and those of the columns and template its side reads. */
  CatalogKeys keys() {
    return switch (side) {
      case INPUT -> CatalogKeys.INPUT;
      case AGAINST -> new CatalogKeys("search.against", "input.idColumn", "input.titleColumn", "text.template");
      case LEFT -> new CatalogKeys("match.left.path", "match.left.idColumn", "match.left.template",
          "match.left.template");
    };
  }

  /** Suffix of this side's stage names: "" for the input, {@code -against} / {@code -left} for the others. */
  String stageSuffix() {
    return switch (side) {
      case INPUT -> "";
      case AGAINST -> "-against";
      case LEFT -> "-left";
    };
  }
}
