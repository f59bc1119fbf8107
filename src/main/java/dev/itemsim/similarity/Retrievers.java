package dev.itemsim.similarity;

import dev.itemsim.InvalidInputException;
import dev.itemsim.config.TypedConfig;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Every retriever by name: the one place {@code similarity.scorer} is resolved. Each kind declares the keys
 * its options read, so a job can accept exactly those.
 */
public final class Retrievers {
  /** The key naming the retriever. */
  public static final String SCORER_KEY = "similarity.scorer";

  /** A retriever users can pick: its name, the configuration keys it reads, and how it is built from them. */
  public record Kind(String name, List<String> keys, Function<TypedConfig, Retriever> create) {}

  private static final Map<String, Kind> KINDS = new LinkedHashMap<>();

  static {
    register(new Kind(EmbeddingRetriever.NAME, embeddingKeys(),
        c -> new EmbeddingRetriever(EmbeddingRetriever.Options.from(c), SearchMethods.from(c))));
    register(new Kind(LexicalRetriever.NAME, LexicalRetriever.Options.KEYS,
        c -> new LexicalRetriever(LexicalRetriever.Options.from(c))));
    register(new Kind(HybridRetriever.NAME, withSearchMethods(HybridRetriever.Options.KEYS),
        c -> new HybridRetriever(HybridRetriever.Options.from(c), SearchMethods.from(c))));
  }

  private Retrievers() {}

  /** The exact kernel's keys and {@code similarity.method} with the approximate methods' options. */
  private static List<String> embeddingKeys() {
    return withSearchMethods(EmbeddingRetriever.Options.KEYS);
  }

  /** {@code keys} and {@code similarity.method} with the approximate methods' options. */
  private static List<String> withSearchMethods(List<String> keys) {
    List<String> all = new java.util.ArrayList<>(keys);
    all.addAll(SearchMethods.KEYS);
    return List.copyOf(all);
  }

  private static void register(Kind kind) {
    KINDS.put(kind.name(), kind);
  }

  public static Set<String> names() {
    return KINDS.keySet();
  }

  /** The retriever {@code similarity.scorer} names, its options read and validated. */
  public static Retriever fromConfig(TypedConfig c) {
    String name = c.string(SCORER_KEY);
    Kind kind = KINDS.get(name);
    if (kind == null) {
      throw new InvalidInputException(SCORER_KEY + " = '" + name + "' is not one of " + String.join(", ", names()));
    }
    return kind.create().apply(c);
  }

  /**
   * The retriever a run recorded: its name and {@link Retriever#settings()} (keys relative to
   * {@code similarity.}), the keys it did not record at their defaults.
   */
  public static Retriever fromSettings(String name, Map<String, Object> settings) {
    Map<String, Object> flat = new LinkedHashMap<>();
    flat.put(SCORER_KEY, name);
    if (settings != null) {
      settings.forEach((k, v) -> flat.put("similarity." + k, v));
    }
    com.typesafe.config.Config config = com.typesafe.config.ConfigFactory.parseMap(flat, "run summary")
        .withFallback(dev.itemsim.config.ConfigLoader.defaults()).resolve();
    return fromConfig(new TypedConfig(config));
  }

  /** Every key any retriever reads, plus {@value #SCORER_KEY}. */
  public static Set<String> keys() {
    Set<String> keys = new LinkedHashSet<>(List.of(SCORER_KEY));
    KINDS.values().forEach(k -> keys.addAll(k.keys()));
    return keys;
  }
}
