package dev.itemsim.embed;

import dev.itemsim.InvalidInputException;
import java.util.Arrays;
import java.util.List;
import java.nio.file.Path;

/**
 * Models shipped as Maven jars (ONNX graph and {@code tokenizer.json} at the jar root), so runs never touch
 * the network. Each is extracted once per machine into the model cache and verified by SHA-256.
 */
public enum BuiltinModel {
  ALL_MINILM_L6_V2("all-minilm-l6-v2", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json", Pooling.MEAN),
  ALL_MINILM_L6_V2_Q("all-minilm-l6-v2-q", "all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q-tokenizer.json",
      Pooling.MEAN);

  private final String id;
  private final String onnxResource;
  private final String tokenizerResource;
  private final Pooling pooling;

  BuiltinModel(String id, String onnxResource, String tokenizerResource, Pooling pooling) {
    this.id = id;
    this.onnxResource = onnxResource;
    this.tokenizerResource = tokenizerResource;
    this.pooling = pooling;
  }

  public String id() {
    return id;
  }

  public static BuiltinModel named(String id) {
    for (BuiltinModel m : values()) {
      if (m.id.equals(id)) {
        return m;
      }
    }
    throw new InvalidInputException("Unknown built-in model 'builtin:" + id + "': known are " + names());
  }

  static List<String> names() {
    return Arrays.stream(values()).map(m -> ModelSpec.BUILTIN_PREFIX + m.id).toList();
  }

  ModelFiles extract(Path cacheDir) {
    Path dir = cacheDir.resolve(id);
    Path onnx = ModelCache.extractVerified(onnxResource, dir);
    Path tokenizer = ModelCache.extractVerified(tokenizerResource, dir);
    return new ModelFiles(onnx, tokenizer, pooling);
  }
}
