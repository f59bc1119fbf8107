package dev.itemsim.embed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.InvalidInputException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * The hyper-parameters of a BERT-family encoder, named as in a HuggingFace {@code config.json}. Only
 * post-LayerNorm BERT with absolute position embeddings and erf GELU is supported (BERT, MiniLM, BGE, E5,
 * most sentence-transformers checkpoints); other variants are refused by {@link #fromJson(Path)} with the
 * field that differs.
 */
public record BertConfig(int vocabSize, int hiddenSize, int layers, int heads, int intermediateSize,
    int maxPositions, int typeVocabSize, double layerNormEps) implements Serializable {

  public BertConfig {
    if (hiddenSize < 1 || layers < 1 || heads < 1 || intermediateSize < 1 || vocabSize < 1
        || maxPositions < 1 || typeVocabSize < 1) {
      throw new InvalidInputException("BERT config has a non-positive size: " + this);
    }
    if (hiddenSize % heads != 0) {
      throw new InvalidInputException("BERT config: hidden_size " + hiddenSize
          + " is not a multiple of num_attention_heads " + heads);
    }
  }

  /** Width of one attention head. */
  public int headSize() {
    return hiddenSize / heads;
  }

  /** Reads {@code config.json}; fails naming the file and field for anything this encoder cannot run. */
  public static BertConfig fromJson(Path file) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new InvalidInputException("Cannot read model config " + file + ": " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new InvalidInputException("Model config " + file + " is not a JSON object");
    }
    requireText(root, file, "hidden_act", "gelu", "the PyTorch BERT encoder implements erf GELU only");
    requireText(root, file, "position_embedding_type", "absolute", "only absolute position embeddings");
    JsonNode type = root.get("model_type");
    if (type != null && !type.asText().equals("bert")) {
      throw new InvalidInputException("Model config " + file + ": model_type = '" + type.asText()
          + "'; the PyTorch encoder runs BERT-architecture models (model_type bert); use encoder.engine ="
          + " onnxruntime with an ONNX export for other architectures");
    }
    return new BertConfig(
        intField(root, file, "vocab_size", null),
        intField(root, file, "hidden_size", null),
        intField(root, file, "num_hidden_layers", null),
        intField(root, file, "num_attention_heads", null),
        intField(root, file, "intermediate_size", null),
        intField(root, file, "max_position_embeddings", 512),
        intField(root, file, "type_vocab_size", 2),
        root.has("layer_norm_eps") ? root.get("layer_norm_eps").asDouble() : 1e-12);
  }

  private static void requireText(JsonNode root, Path file, String field, String expected, String why) {
    JsonNode v = root.get(field);
    if (v != null && !v.isNull() && !v.asText().equals(expected)) {
      throw new InvalidInputException("Model config " + file + ": " + field + " = '" + v.asText()
          + "' is not supported (" + why + ")");
    }
  }

  private static int intField(JsonNode root, Path file, String field, Integer fallback) {
    JsonNode v = root.get(field);
    if (v == null || v.isNull()) {
      if (fallback == null) {
        throw new InvalidInputException("Model config " + file + " has no '" + field + "'");
      }
      return fallback;
    }
    if (!v.canConvertToInt()) {
      throw new InvalidInputException("Model config " + file + ": '" + field + "' = " + v + " is not an integer");
    }
    return v.asInt();
  }
}
