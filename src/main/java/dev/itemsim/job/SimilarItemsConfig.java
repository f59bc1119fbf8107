package dev.itemsim.job;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import dev.itemsim.InvalidInputException;
import dev.itemsim.catalog.TextTemplate;
import dev.itemsim.config.TypedConfig;
import dev.itemsim.embed.EncoderSettings;
import dev.itemsim.embed.ModelSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
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
    TextTemplate template,
    EncoderSettings encoder,
    int encodePartitions,
    int sortWindow,
    int topN,
    int blockSize,
    float minScore,
    String kernel,
    double maxRejectedFraction,
    String outputPath,
    LocalDate runDate,
    Map<String, String> spark,
    String digest) {

  public static SimilarItemsConfig from(Config config) {
    TypedConfig c = new TypedConfig(config);
    String job = c.string("job");
    if (!job.equals("similar-items")) {
      throw new InvalidInputException("job = '" + job + "' but this is the similar-items job");
    }
    return new SimilarItemsConfig(
        c.requiredString("input.path"),
        c.oneOf("input.format", Set.of("parquet", "csv")),
        c.requiredString("input.idColumn"),
        c.requiredString("input.titleColumn"),
        TextTemplate.parse(c.requiredString("text.template"), c.intIn("text.maxFieldChars", 1, 100_000)),
        new EncoderSettings(new ModelSpec(c.requiredString("encoder.model")),
            c.intIn("encoder.batchSize", 1, 4096),
            c.intIn("encoder.maxTokens", 8, 512),
            c.intIn("encoder.threadsPerTask", 1, 256)),
        c.intIn("encoder.partitions", 0, 1_000_000),
        c.intIn("encoder.sortWindow", 1, 10_000_000),
        c.intIn("similarity.topN", 1, 1000),
        c.intIn("similarity.blockSize", 16, 16_384),
        (float) c.doubleIn("similarity.minScore", -1.0, 1.0),
        c.oneOf("similarity.kernel", Set.of("auto", "native-blas", "java")),
        c.doubleIn("validation.maxRejectedFraction", 0.0, 1.0),
        c.requiredString("output.path"),
        runDate(c.string("run.date")),
        c.flatStrings("spark"),
        digest(config));
  }

  private static LocalDate runDate(String value) {
    if (value.isBlank()) {
      return LocalDate.now();
    }
    try {
      return LocalDate.parse(value.trim());
    } catch (DateTimeParseException e) {
      throw new InvalidInputException("run.date = '" + value + "' is not a date of the form YYYY-MM-DD");
    }
  }

  /** SHA-256 of the resolved configuration (without Spark settings), so runs can be compared. */
  private static String digest(Config config) {
    String rendered = config.withoutPath("spark").root().render(ConfigRenderOptions.concise());
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(rendered.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
