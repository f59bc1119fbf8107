package dev.itemsim.job;

import com.typesafe.config.Config;
import dev.itemsim.InvalidInputException;
import dev.itemsim.catalog.HistoryPreparation;
import dev.itemsim.catalog.TextTemplate;
import dev.itemsim.config.TypedConfig;
import dev.itemsim.embed.Prompts;
import dev.itemsim.job.RunSummary.Side;
import dev.itemsim.similarity.EmbeddingRetriever;
import dev.itemsim.similarity.NeighborSearch;
import dev.itemsim.similarity.Retriever;
import dev.itemsim.similarity.Retrievers;
import dev.itemsim.similarity.UserProfiles;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The match job's settings (keys in {@code conf/defaults.conf}, section {@code match}): the catalogue
 * ({@code input.*}, encoded as it is for the similar-items job), the left table and what kind it is, and
 * how to search — the retriever, filters and list length read exactly as the similar-items job reads them.
 *
 * @param catalog the catalogue, with the passage prefix
 * @param left the left table, with the query prefix (texts) or the passage prefix (catalog); for users the
 *     history table
 * @param leftCorpus how the left table's rows become texts (texts and catalog kinds)
 * @param users profile settings (users kind)
 * @param historyColumns the history table's columns (users kind)
 * @param catalogEmbeddings the output path of a similar-items run whose embeddings may be reused, or ""
 */
public record MatchConfig(
    Kind kind,
    CatalogSource catalog,
    CatalogSource left,
    CorpusSettings corpus,
    CorpusSettings leftCorpus,
    UserProfiles.Settings users,
    HistoryPreparation.Columns historyColumns,
    Retriever retriever,
    NeighborSearch.Options search,
    String catalogEmbeddings,
    OutputLayout output,
    LocalDate runDate,
    Map<String, String> spark,
    String digest) {

  public static final String JOB = "match";

  /** What the left table holds ({@code match.kind}). */
  public enum Kind {
    TEXTS, USERS, CATALOG;

    public String value() {
      return name().toLowerCase(Locale.ROOT);
    }

    static Kind parse(String value) {
      for (Kind k : values()) {
        if (k.value().equals(value.trim())) {
          return k;
        }
      }
      throw new InvalidInputException("match.kind = '" + value + "' is not one of texts, users, catalog");
    }
  }

  public static MatchConfig from(Config config) {
    TypedConfig c = JobSettings.forJob(config, JobSettings.MATCH);
    Kind kind = Kind.parse(c.string("match.kind"));
    CorpusSettings corpus = JobSettings.corpus(c);
    Prompts own = Prompts.of(corpus.encoder().model());
    String queryPrefix = Prompts.resolve(c.string("match.queryPrefix"), own.query());
    String passagePrefix = Prompts.resolve(c.string("match.passagePrefix"), own.passage());
    String leftFormat = c.string("match.left.format").isBlank() ? c.string("input.format")
        : c.oneOf("match.left.format", Set.of("parquet", "csv"));
    CatalogSource left = new CatalogSource(c.requiredString("match.left.path"), leftFormat, Side.LEFT,
        kind == Kind.TEXTS ? queryPrefix : passagePrefix);
    CorpusSettings leftCorpus = kind == Kind.USERS ? null : leftCorpus(c, corpus);
    return new MatchConfig(
        kind,
        JobSettings.input(c).withEncodePrefix(passagePrefix),
        left,
        corpus,
        leftCorpus,
        kind == Kind.USERS ? users(c) : null,
        kind == Kind.USERS ? new HistoryPreparation.Columns(c.requiredString("match.users.userColumn"),
            c.requiredString("match.users.itemColumn"), c.requiredString("match.users.eventColumn"),
            c.requiredString("match.users.timeColumn")) : null,
        Retrievers.fromConfig(c),
        JobSettings.search(c, c.intIn("similarity.topN", 1, NeighborSearch.Options.MAX_TOP_N)),
        c.string("match.catalogEmbeddings").trim(),
        new OutputLayout(c.requiredString("output.path")),
        JobSettings.runDate(c.string("run.date")),
        JobSettings.spark(c),
        JobSettings.digest(config)).checked();
  }

  private MatchConfig checked() {
    if (search.collapseDuplicateTexts()) {
      throw new InvalidInputException("similarity.collapseDuplicateTexts works on one catalogue; the match job "
          + "searches the catalogue for another table: unset it");
    }
    if (kind == Kind.USERS) {
      if (!EmbeddingRetriever.NAME.equals(retriever.name())) {
        throw new InvalidInputException("match.kind = users needs similarity.scorer = embedding: a user's profile"
            + " is a vector without text, so '" + retriever.name() + "' cannot score it");
      }
      if (search.filter().any()) {
        throw new InvalidInputException("similarity.sameValueOf / excludeSameValueOf do not apply to "
            + "match.kind = users (a profile has no column values): unset them");
      }
    }
    return this;
  }

  private static CorpusSettings leftCorpus(TypedConfig c, CorpusSettings corpus) {
    TextTemplate template = TextTemplate.parse("match.left.template", c.requiredString("match.left.template"),
        c.intIn("text.maxFieldChars", 1, 100_000));
    if (template.fields().isEmpty()) {
      throw new InvalidInputException("match.left.template = '" + c.string("match.left.template")
          + "' names no {column}");
    }
    return new CorpusSettings(c.requiredString("match.left.idColumn"), template.fields().get(0),
        corpus.csvMaxRecordLines(), template, corpus.encoder(), corpus.encodePartitions(), corpus.sortWindow(),
        corpus.maxRejectedFraction(), corpus.carried());
  }

  private static UserProfiles.Settings users(TypedConfig c) {
    Map<String, Double> weights = new LinkedHashMap<>();
    for (String entry : c.stringList("match.users.eventWeights")) {
      int eq = entry.indexOf('=');
      String event = eq < 0 ? "" : entry.substring(0, eq).trim().toLowerCase(Locale.ROOT);
      double weight;
      try {
        weight = eq < 0 ? Double.NaN : Double.parseDouble(entry.substring(eq + 1).trim());
      } catch (NumberFormatException e) {
        weight = Double.NaN;
      }
      if (event.isEmpty() || Double.isNaN(weight)) {
        throw new InvalidInputException("match.users.eventWeights: '" + entry + "' is not of the form "
            + "\"event = weight\" (e.g. \"purchase = 3.0\")");
      }
      if (weights.put(event, weight) != null) {
        throw new InvalidInputException("match.users.eventWeights names '" + event + "' twice");
      }
    }
    Set<String> exclude = new LinkedHashSet<>();
    for (String e : c.stringList("match.users.exclude")) {
      exclude.add(e.trim().toLowerCase(Locale.ROOT));
    }
    return new UserProfiles.Settings(weights, c.doubleIn("match.users.halfLifeDays", 0, 1e6),
        c.intIn("match.users.maxEvents", 1, 100_000), c.intIn("match.users.maxAgeDays", 0, 1_000_000),
        asOf(c.string("match.users.asOf")), exclude);
  }

  /** {@code match.users.asOf}: null for "", else an ISO-8601 instant, local date-time (UTC) or date (UTC midnight). */
  static Instant asOf(String value) {
    String v = value.trim();
    if (v.isEmpty()) {
      return null;
    }
    try {
      return Instant.parse(v);
    } catch (DateTimeParseException e) {
      try {
        return LocalDateTime.parse(v).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException e2) {
        try {
          return LocalDate.parse(v).atStartOfDay().toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e3) {
          throw new InvalidInputException("match.users.asOf = '" + value + "' is not an ISO-8601 time "
              + "(2026-03-01T00:00:00Z, 2026-03-01T00:00:00 or 2026-03-01)");
        }
      }
    }
  }

  public int topN() {
    return search.topN();
  }
}
