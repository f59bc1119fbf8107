package dev.itemsim.similarity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.itemsim.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A blend learned from labelled pairs: the probability of a match by logistic regression over the pair's
 * {@link #FEATURES} — the embedding cosine, the cosines of the three lexical parts (recovered from the weighted
 * dot products with the configured {@code similarity.lexical} weights, so they need all three weights above 0),
 * whether the two share a model number, and the reciprocal ranks in both retrievers' candidate lists. Fitted by
 * the finetune job ({@code model/hybrid-blend.json}) and used with {@code similarity.hybrid.learned = PATH}.
 *
 * @param ngram the character n-gram length the blend was fitted with (the gram cosine depends on it)
 * @param lexical the configured lexical weights, to recover the part cosines
 */
public record LogisticBlend(double intercept, double[] coefficients, int ngram, LexicalFeatures.Settings lexical,
    String source) implements Blend {
  public static final List<String> FEATURES = List.of("embedding", "words", "grams", "models",
      "shares_model_number", "embedding_reciprocal_rank", "lexical_reciprocal_rank");
  private static final String TYPE = "logistic";

  public LogisticBlend {
    if (coefficients.length != FEATURES.size()) {
      throw new IllegalArgumentException("A logistic blend has " + FEATURES.size() + " coefficients, got "
          + coefficients.length);
    }
    double gramWeight = 1 - lexical.wordWeight() - lexical.modelWeight();
    if (!(lexical.wordWeight() > 0 && lexical.modelWeight() > 0 && gramWeight > 1e-9)) {
      throw new InvalidInputException("similarity.hybrid.learned needs every lexical part: similarity.lexical."
          + "wordWeight and modelWeight above 0 and adding up to less than 1 (got " + lexical.wordWeight() + ", "
          + lexical.modelWeight() + ")");
    }
  }

  /** The feature vector of a pair (see {@link #FEATURES}) under lexical weights {@code lexical}. */
  public static double[] vector(PairFeatures f, LexicalFeatures.Settings lexical) {
    double gramWeight = 1 - lexical.wordWeight() - lexical.modelWeight();
    double models = f.models() / lexical.modelWeight();
    return new double[] {f.embedding(), f.words() / lexical.wordWeight(), f.grams() / gramWeight, models,
        models > 1e-6 ? 1 : 0, f.embeddingRank() > 0 ? 1.0 / f.embeddingRank() : 0,
        f.lexicalRank() > 0 ? 1.0 / f.lexicalRank() : 0};
  }

  @Override
  public float score(PairFeatures f) {
    double[] x = vector(f, lexical);
    double z = intercept;
    for (int i = 0; i < x.length; i++) {
      z += coefficients[i] * x[i];
    }
    return (float) (1 / (1 + Math.exp(-z)));
  }

  @Override
  public boolean needsParts() {
    return true;
  }

  @Override
  public boolean readsEmbedding() {
    return true;
  }

  @Override
  public boolean readsLexical() {
    return true;
  }

  @Override
  public Map<String, Object> settings() {
    // only the key itself, so that Retrievers.fromSettings rebuilds the blend from a run's settings; the
    // coefficients are in the file
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("hybrid.learned", source);
    return m;
  }

  /** The intercept and each feature's coefficient, by name (for reports). */
  public Map<String, Double> namedCoefficients() {
    Map<String, Double> weights = new LinkedHashMap<>();
    weights.put("intercept", intercept);
    for (int i = 0; i < FEATURES.size(); i++) {
      weights.put(FEATURES.get(i), coefficients[i]);
    }
    return weights;
  }

  /** Writes the blend as JSON, with {@code fittedOn} (what it was fitted on) for the record. */
  public void write(Path file, Map<String, Object> fittedOn) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("type", TYPE);
    root.put("features", FEATURES);
    root.put("coefficients", coefficients);
    root.put("intercept", intercept);
    root.put("ngram", ngram);
    root.put("fitted_on", fittedOn);
    try {
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), root);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + file, e);
    }
  }

  /**
   * Reads {@code similarity.hybrid.learned}: fails naming the key and the file when it is missing, not a
   * logistic blend of these features, or was fitted with another n-gram length than {@code configured}'s.
   */
  public static LogisticBlend read(String path, LexicalFeatures.Settings configured) {
    Path file = Path.of(path);
    if (!Files.isRegularFile(file)) {
      throw new InvalidInputException("similarity.hybrid.learned = " + path + " is not a file (the finetune job "
          + "writes <output.path>/model/hybrid-blend.json)");
    }
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new InvalidInputException("similarity.hybrid.learned = " + path + " is not valid JSON: " + e.getMessage());
    }
    String problem = null;
    if (root == null || !TYPE.equals(root.path("type").asText())) {
      problem = "its type is not '" + TYPE + "'";
    } else if (!root.path("features").isArray() || !FEATURES.equals(strings(root.get("features")))) {
      problem = "its features are not " + FEATURES;
    } else if (!root.path("coefficients").isArray() || root.get("coefficients").size() != FEATURES.size()
        || !root.path("intercept").isNumber()) {
      problem = "it needs " + FEATURES.size() + " coefficients and an intercept";
    } else if (root.path("ngram").asInt() != configured.ngram()) {
      problem = "it was fitted with character " + root.path("ngram").asInt() + "-grams but similarity.lexical.ngram = "
          + configured.ngram();
    }
    if (problem != null) {
      throw new InvalidInputException("similarity.hybrid.learned = " + path + ": " + problem);
    }
    double[] c = new double[FEATURES.size()];
    for (int i = 0; i < c.length; i++) {
      c[i] = root.get("coefficients").get(i).asDouble();
    }
    return new LogisticBlend(root.get("intercept").asDouble(), c, configured.ngram(), configured, path);
  }

  private static List<String> strings(JsonNode array) {
    return java.util.stream.StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LogisticBlend b && b.intercept == intercept && Arrays.equals(b.coefficients, coefficients)
        && b.ngram == ngram && b.lexical.equals(lexical);
  }

  @Override
  public int hashCode() {
    return Double.hashCode(intercept) * 31 + Arrays.hashCode(coefficients);
  }
}
