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
  /** sentence-transformers/all-MiniLM-L6-v2: English, 384 dimensions, mean pooling. */
  ALL_MINILM_L6_V2("all-minilm-l6-v2", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json", Pooling.MEAN,
      MiniLm.CONFIG, false),
  /** The same model with int8 weights (ONNX Runtime only). */
  ALL_MINILM_L6_V2_Q("all-minilm-l6-v2-q", "all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q-tokenizer.json",
      Pooling.MEAN, MiniLm.CONFIG, true),
  /** BAAI/bge-small-zh-v1.5: Chinese, 512 dimensions, CLS pooling. */
  BGE_SMALL_ZH_V15("bge-small-zh-v15", "bge-small-zh-v1.5.onnx", "bge-small-zh-v1.5-tokenizer.json", Pooling.CLS,
      new BertConfig(21128, 512, 4, 8, 2048, 512, 2, 1e-12), false);

  private static final class MiniLm {
    static final BertConfig CONFIG = new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12);
  }

  private final String id;
  private final String onnxResource;
  private final String tokenizerResource;
  private final Pooling pooling;
  private final BertConfig config;
  private final boolean quantized;

  BuiltinModel(String id, String onnxResource, String tokenizerResource, Pooling pooling, BertConfig config,
      boolean quantized) {
    this.id = id;
    this.onnxResource = onnxResource;
    this.tokenizerResource = tokenizerResource;
    this.pooling = pooling;
    this.config = config;
    this.quantized = quantized;
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
    return new ModelFiles(tokenizer, onnx, null, null, null, config, pooling, quantized);
  }
}
