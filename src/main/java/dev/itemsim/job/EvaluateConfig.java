package dev.itemsim.job;

import com.typesafe.config.Config;
import dev.itemsim.InvalidInputException;
import dev.itemsim.catalog.TextTemplate;
import dev.itemsim.config.TypedConfig;
import dev.itemsim.embed.EncoderSettings;
import java.util.Map;
import java.util.Set;

/**
 * The evaluate job's settings (keys in {@code conf/defaults.conf}): catalogue A ({@code input.*}), catalogue
 * B ({@code search.against}, or A itself), the true-match pairs ({@code eval.matches}) and how to encode and
 * search.
 */
public record EvaluateConfig(
    String inputPath,
    String inputFormat,
    String againstPath,
    String againstFormat,
    String idColumn,
    String titleColumn,
    TextTemplate template,
    EncoderSettings encoder,
    int encodePartitions,
    int sortWindow,
    int blockSize,
    ScoringSettings scoring,
    String matchesPath,
    int listSize,
    int missContext,
    String outputPath,
    Map<String, String> spark,
    String digest) {

  public static EvaluateConfig from(Config config) {
    TypedConfig c = JobSettings.forJob(config, "evaluate");
    String inputFormat = c.oneOf("input.format", Set.of("parquet", "csv"));
    String againstFormat = c.string("search.format").isBlank() ? inputFormat
        : c.oneOf("search.format", Set.of("parquet", "csv"));
    return new EvaluateConfig(
        c.requiredString("input.path"),
        inputFormat,
        c.string("search.against").trim(),
        againstFormat,
        c.requiredString("input.idColumn"),
        c.requiredString("input.titleColumn"),
        JobSettings.template(c),
        JobSettings.encoder(c),
        JobSettings.encodePartitions(c),
        JobSettings.sortWindow(c),
        JobSettings.blockSize(c),
        ScoringSettings.from(c),
        c.requiredString("eval.matches"),
        c.intIn("eval.listSize", 1, 1000),
        c.intIn("eval.missContext", 0, 100),
        c.requiredString("output.path"),
        JobSettings.spark(c),
        JobSettings.digest(config));
  }

  public boolean crossCatalogue() {
    return !againstPath.isEmpty();
  }
}
