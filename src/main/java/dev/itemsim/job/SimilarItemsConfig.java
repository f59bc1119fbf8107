package dev.itemsim.job;

import com.typesafe.config.Config;
import dev.itemsim.InvalidInputException;
import dev.itemsim.config.TypedConfig;
import dev.itemsim.embed.EncoderSettings;
import java.time.LocalDate;
import java.util.Map;
import java.util.Set;

/**
 * The similar-items job's settings, read from a loaded configuration (keys documented in
 * {@code conf/defaults.conf}) and validated as a whole before any work starts.
 */
public record SimilarItemsConfig(
    String inputPath,
    String inputFormat,
    String idColumn,
    String titleColumn,
    dev.itemsim.catalog.TextTemplate template,
    EncoderSettings encoder,
    int encodePartitions,
    int sortWindow,
    int topN,
    int blockSize,
    float minScore,
    ScoringSettings scoring,
    String againstPath,
    String againstFormat,
    String sameValueOf,
    String excludeSameValueOf,
    boolean collapseDuplicateTexts,
    double maxRejectedFraction,
    String outputPath,
    LocalDate runDate,
    Map<String, String> spark,
    String digest) {

  public static SimilarItemsConfig from(Config config) {
    TypedConfig c = JobSettings.forJob(config, "similar-items");
    return new SimilarItemsConfig(
        c.requiredString("input.path"),
        c.oneOf("input.format", Set.of("parquet", "csv")),
        c.requiredString("input.idColumn"),
        c.requiredString("input.titleColumn"),
        JobSettings.template(c),
        JobSettings.encoder(c),
        JobSettings.encodePartitions(c),
        JobSettings.sortWindow(c),
        c.intIn("similarity.topN", 1, 1000),
        JobSettings.blockSize(c),
        (float) c.doubleIn("similarity.minScore", -1.0, 1.0),
        ScoringSettings.from(c),
        c.string("search.against").trim(),
        c.string("search.format").isBlank() ? c.string("input.format")
            : c.oneOf("search.format", Set.of("parquet", "csv")),
        c.string("similarity.sameValueOf").trim(),
        c.string("similarity.excludeSameValueOf").trim(),
        c.bool("similarity.collapseDuplicateTexts"),
        c.doubleIn("validation.maxRejectedFraction", 0.0, 1.0),
        c.requiredString("output.path"),
        JobSettings.runDate(c.string("run.date")),
        JobSettings.spark(c),
        JobSettings.digest(config)).checked();
  }

  private SimilarItemsConfig checked() {
    if (collapseDuplicateTexts && crossCatalogue()) {
      throw new dev.itemsim.InvalidInputException("similarity.collapseDuplicateTexts works on one catalogue; "
          + "unset search.against or the collapse");
    }
    return this;
  }

  public boolean crossCatalogue() {
    return !againstPath.isEmpty();
  }

  /** Columns the neighbour filters read, in order same, exclude (absent ones skipped). */
  public java.util.List<String> filterColumns() {
    java.util.List<String> out = new java.util.ArrayList<>();
    if (!sameValueOf.isEmpty()) {
      out.add(sameValueOf);
    }
    if (!excludeSameValueOf.isEmpty()) {
      out.add(excludeSameValueOf);
    }
    return out;
  }
}
