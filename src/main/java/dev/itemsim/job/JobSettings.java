package dev.itemsim.job;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import dev.itemsim.InvalidInputException;
import dev.itemsim.catalog.TextTemplate;
import dev.itemsim.config.ConfigLoader;
import dev.itemsim.config.TypedConfig;
import dev.itemsim.embed.DeviceChoice;
import dev.itemsim.embed.EncoderSettings;
import dev.itemsim.embed.EngineChoice;
import dev.itemsim.embed.ModelSpec;
import dev.itemsim.embed.Pooling;
import dev.itemsim.job.RunSummary.Side;
import dev.itemsim.similarity.EmbeddingRetriever;
import dev.itemsim.similarity.LexicalRetriever;
import dev.itemsim.similarity.NativeBlas;
import dev.itemsim.similarity.NeighborSearch;
import dev.itemsim.similarity.Retrievers;
import dev.itemsim.similarity.SearchRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Settings read the same way by every job, and which keys each job accepts: a key set in a job spec,
 * profile or {@code --set} that the job does not read is an error naming the job.
 */
final class JobSettings {
  /** Sections every job reads whole: the catalogues, their text and encoding, the output. */
  private static final List<String> CORPUS_SECTIONS = List.of("input.", "text.", "encoder.", "search.",
      "validation.", "output.");
  /** Search keys every job reads, besides the retrievers' own. */
  private static final List<String> SEARCH_KEYS = List.of("similarity.minScore", "similarity.sameValueOf",
      "similarity.excludeSameValueOf", "similarity.collapseDuplicateTexts", "similarity.blas");

  /** What one job reads: whole sections (prefixes ending in '.') and single keys. */
  record Keys(String job, List<String> sections, Set<String> keys) {
    boolean accepts(String key) {
      return key.equals("job") || key.startsWith("spark.") || keys.contains(key)
          || sections.stream().anyMatch(key::startsWith);
    }
  }

  static final Keys SIMILAR_ITEMS = keys("similar-items", List.of("run.incremental."),
      List.of("similarity.topN", "run.date", "run.full"));
  static final Keys EVALUATE = keys("evaluate", List.of("eval."), List.of());
  /** The match job searches the catalogue for the rows of its left table, never a second catalogue. */
  static final Keys MATCH = without(keys("match", List.of("match."), List.of("similarity.topN", "run.date")),
      "search.");
  /**
   * Training reads the corpus sections and its own; validation and mining rank with the embedding kernel; the
   * blend is fitted on the lexical retriever's features and candidates.
   */
  static final Keys FINETUNE = new Keys("finetune", concat(CORPUS_SECTIONS, List.of("finetune.")),
      Set.copyOf(concat(List.of("similarity.blas", "similarity.hybrid.embeddingWeight"),
          concat(EmbeddingRetriever.Options.KEYS, LexicalRetriever.Options.KEYS))));
  private static final List<Keys> ALL = List.of(SIMILAR_ITEMS, EVALUATE, MATCH, FINETUNE);

  private JobSettings() {}

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return List.copyOf(out);
  }

  private static Keys keys(String job, List<String> sections, List<String> extra) {
    List<String> allSections = new ArrayList<>(CORPUS_SECTIONS);
    allSections.addAll(sections);
    Set<String> all = new LinkedHashSet<>(SEARCH_KEYS);
    all.addAll(Retrievers.keys());
    all.addAll(extra);
    return new Keys(job, List.copyOf(allSections), Set.copyOf(all));
  }

  private static Keys without(Keys keys, String section) {
    return new Keys(keys.job(), keys.sections().stream().filter(s -> !s.equals(section)).toList(), keys.keys());
  }

  /**
   * Typed access to {@code config}, after checking that its {@code job} key names this job and that every
   * key set outside the defaults is one the job reads.
   */
  static TypedConfig forJob(Config config, Keys keys) {
    TypedConfig c = new TypedConfig(config);
    String named = c.string("job");
    if (!named.equals(keys.job())) {
      throw new InvalidInputException("job = '" + named + "' but this is the " + keys.job() + " job");
    }
    for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
      String key = e.getKey();
      if (ConfigLoader.isDefault(e.getValue()) || keys.accepts(key)) {
        continue;
      }
      String owner = ALL.stream().filter(k -> k != keys && k.accepts(key)).map(Keys::job).findFirst()
          .map(j -> "; it belongs to the " + j + " job").orElse("");
      throw new InvalidInputException(key + " (" + e.getValue().origin().description() + ") is not used by the "
          + keys.job() + " job" + owner + ": remove it");
    }
    return c;
  }

  static CatalogSource input(TypedConfig c) {
    return new CatalogSource(c.requiredString("input.path"), c.oneOf("input.format", Set.of("parquet", "csv")),
        Side.INPUT);
  }

  /** {@code search.against}, or null when the job searches one catalogue. */
  static CatalogSource against(TypedConfig c) {
    String path = c.string("search.against").trim();
    if (path.isEmpty()) {
      return null;
    }
    String format = c.string("search.format").isBlank() ? c.string("input.format")
        : c.oneOf("search.format", Set.of("parquet", "csv"));
    return new CatalogSource(path, format, Side.AGAINST);
  }

  static CorpusSettings corpus(TypedConfig c) {
    return new CorpusSettings(c.requiredString("input.idColumn"), c.requiredString("input.titleColumn"),
        c.intIn("input.csvMaxRecordLines", 1, 1_000_000), template(c), encoder(c), c.intIn("encoder.partitions", 0, 1_000_000),
        c.intIn("encoder.sortWindow", 1, 10_000_000), c.doubleIn("validation.maxRejectedFraction", 0.0, 1.0),
        carried(c));
  }

  /** The filter columns, carried as {@code attr_k} in the order same, exclude (one column carried once). */
  private static Map<String, String> carried(TypedConfig c) {
    Map<String, String> carried = new LinkedHashMap<>();
    for (String key : List.of("similarity.sameValueOf", "similarity.excludeSameValueOf")) {
      String column = c.string(key).trim();
      if (!column.isEmpty()) {
        carried.putIfAbsent(column, key);
      }
    }
    return carried;
  }

  /** The shared search options, with lists of {@code topN}; filters name the carried columns. */
  static NeighborSearch.Options search(TypedConfig c, int topN) {
    List<String> carried = new ArrayList<>(carried(c).keySet());
    String same = c.string("similarity.sameValueOf").trim();
    String exclude = c.string("similarity.excludeSameValueOf").trim();
    SearchRequest.FilterColumns filter = new SearchRequest.FilterColumns(
        same.isEmpty() ? "" : CorpusSettings.ATTR_PREFIX + carried.indexOf(same),
        exclude.isEmpty() ? "" : CorpusSettings.ATTR_PREFIX + carried.indexOf(exclude));
    return new NeighborSearch.Options(topN, (float) c.doubleIn("similarity.minScore", -1.0, 1.0), filter,
        c.bool("similarity.collapseDuplicateTexts"));
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
