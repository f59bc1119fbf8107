package dev.itemsim.embed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The instruction texts a model expects before what it encodes, for retrieval between short queries and
 * longer passages (E5: {@code "query: "} / {@code "passage: "}). Models trained without them (the built-in
 * MiniLM and BGE models as itemsim uses them) have none.
 *
 * @param query put before a query (a search text, a question)
 * @param passage put before a passage (a catalogue item)
 */
public record Prompts(String query, String passage) {
  public static final Prompts NONE = new Prompts("", "");
  /** The file where sentence-transformers stores a model's prompts ({@code "prompts": {"query": ...}}). */
  static final String SENTENCE_TRANSFORMERS_CONFIG = "config_sentence_transformers.json";

  public Prompts {
    query = query == null ? "" : query;
    passage = passage == null ? "" : passage;
  }

  /**
   * The model's own prompts: none for a built-in model; for a folder, the {@code query} and {@code passage}
   * (or {@code document}) entries of {@value #SENTENCE_TRANSFORMERS_CONFIG}'s {@code prompts}, when present.
   */
  public static Prompts of(ModelSpec model) {
    if (model.isBuiltin()) {
      return NONE;
    }
    Path file = Path.of(model.value()).resolve(SENTENCE_TRANSFORMERS_CONFIG);
    if (!Files.isRegularFile(file)) {
      return NONE;
    }
    try {
      JsonNode prompts = new ObjectMapper().readTree(file.toFile()).path("prompts");
      String passage = prompts.path("passage").asText(prompts.path("document").asText(""));
      return new Prompts(prompts.path("query").asText(""), passage);
    } catch (IOException e) {
      throw new InvalidInputException("Cannot read the prompts of model " + model + " from " + file + ": "
          + e.getMessage());
    }
  }

  /** {@code configured} as set by a user ({@code auto} = {@code own}). */
  public static String resolve(String configured, String own) {
    return configured.trim().equalsIgnoreCase("auto") ? own : configured;
  }
}
