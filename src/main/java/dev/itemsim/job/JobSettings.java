package dev.itemsim.job;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import dev.itemsim.InvalidInputException;
import dev.itemsim.catalog.TextTemplate;
import dev.itemsim.config.TypedConfig;
import dev.itemsim.embed.DeviceChoice;
import dev.itemsim.embed.EncoderSettings;
import dev.itemsim.embed.EngineChoice;
import dev.itemsim.embed.Pooling;
import dev.itemsim.embed.ModelSpec;
import dev.itemsim.similarity.NativeBlas;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/** Settings read the same way by every job. */
final class JobSettings {
  private JobSettings() {}

  /** Typed access to {@code config}, after checking that its {@code job} key names {@code job}. */
  static TypedConfig forJob(Config config, String job) {
    TypedConfig c = new TypedConfig(config);
    String named = c.string("job");
    if (!named.equals(job)) {
      throw new InvalidInputException("job = '" + named + "' but this is the " + job + " job");
    }
    return c;
  }

  static TextTemplate template(TypedConfig c) {
    return TextTemplate.parse(c.requiredString("text.template"), c.intIn("text.maxFieldChars", 1, 100_000));
  }

  static EncoderSettings encoder(TypedConfig c) {
    return new EncoderSettings(new ModelSpec(c.requiredString("encoder.model")),
        c.intIn("encoder.batchSize", 1, 4096),
        c.intIn("encoder.maxTokens", 8, 512),
        c.intIn("encoder.threadsPerTask", 1, 256),
        EngineChoice.parse(c.string("encoder.engine")),
        DeviceChoice.parse(c.string("encoder.device")),
        c.bool("encoder.fp16"),
        pooling(c.string("encoder.pooling")));
  }

  /** {@code encoder.partitions}: 0 = one per core. */
  static int encodePartitions(TypedConfig c) {
    return c.intIn("encoder.partitions", 0, 1_000_000);
  }

  /** {@code encoder.sortWindow}: rows of a partition length-sorted together. */
  static int sortWindow(TypedConfig c) {
    return c.intIn("encoder.sortWindow", 1, 10_000_000);
  }

  /** {@code similarity.blockSize}: rows per block of the blocked product. */
  static int blockSize(TypedConfig c) {
    return c.intIn("similarity.blockSize", 16, 16_384);
  }

  /**
   * The {@code spark.*} settings, plus {@code similarity.blas} as {@value NativeBlas#SPARK_CONF}: every JVM of
   * the application binds that BLAS when it starts ({@link dev.itemsim.similarity.NativeBlasPlugin}).
   */
  static Map<String, String> spark(TypedConfig c) {
    Map<String, String> settings = new LinkedHashMap<>(c.flatStrings("spark"));
    settings.put(NativeBlas.SPARK_CONF, c.oneOf("similarity.blas", NativeBlas.SOURCES));
    return settings;
  }

  /** {@code encoder.pooling}: null for {@code auto} (the model's own), else mean or cls. */
  static Pooling pooling(String value) {
    if (value.trim().equalsIgnoreCase("auto")) {
      return null;
    }
    try {
      return Pooling.parse(value);
    } catch (InvalidInputException e) {
      throw new InvalidInputException("encoder.pooling = '" + value + "': use auto, mean or cls");
    }
  }

  static LocalDate runDate(String value) {
    if (value.isBlank()) {
      return LocalDate.now();
    }
    try {
      return LocalDate.parse(value.trim());
    } catch (DateTimeParseException e) {
      throw new InvalidInputException("run.date = '" + value + "' is not a date of the form YYYY-MM-DD");
    }
  }

  /** SHA-256 (first 12 bytes, hex) of the resolved configuration without Spark settings. */
  static String digest(Config config) {
    String rendered = config.withoutPath("spark").root().render(ConfigRenderOptions.concise());
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(rendered.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
