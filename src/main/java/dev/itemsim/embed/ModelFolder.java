package dev.itemsim.embed;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes BERT weights as a model folder every itemsim job (and sentence-transformers) loads:
 * {@value #CONFIG} (HuggingFace {@code BertConfig}), {@value #SAFETENSORS} (HuggingFace names, linear weights
 * [out, in]), {@value #TOKENIZER} (the base model's), sentence-transformers' {@code modules.json},
 * {@code sentence_bert_config.json} and {@code 1_Pooling/config.json} (the pooling), and, when the base model
 * has a float32 ONNX graph, {@value #ONNX}: that very graph with the new weights in its initialisers, so
 * ONNX Runtime runs the folder too.
 */
public final class ModelFolder {
  public static final String CONFIG = "config.json";
  public static final String SAFETENSORS = "model.safetensors";
  public static final String TOKENIZER = "tokenizer.json";
  public static final String ONNX = "model.onnx";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final String[] LINEARS = {"attention.self.query", "attention.self.key", "attention.self.value",
      "attention.output.dense", "intermediate.dense", "output.dense"};

  private ModelFolder() {}

  /**
   * Writes the folder's files into {@code dir} (created if missing; the caller makes it appear atomically).
   *
   * @param base the model the weights were trained from (its tokenizer and ONNX graph are reused)
   */
  static void write(Path dir, BertConfig config, BertWeights weights, ModelFiles base, Pooling pooling,
      int maxTokens) {
    try {
      Files.createDirectories(dir.resolve("1_Pooling"));
      JSON.writeValue(dir.resolve(CONFIG).toFile(), configJson(config));
      Files.copy(base.tokenizer(), dir.resolve(TOKENIZER));
      Safetensors.write(dir.resolve(SAFETENSORS), huggingFaceTensors(config, weights), Map.of("format", "pt"));
      JSON.writeValue(dir.resolve("modules.json").toFile(), List.of(
          module(0, "", "sentence_transformers.models.Transformer"),
          module(1, "1_Pooling", "sentence_transformers.models.Pooling"),
          module(2, "2_Normalize", "sentence_transformers.models.Normalize")));
      JSON.writeValue(dir.resolve("sentence_bert_config.json").toFile(),
          Map.of("max_seq_length", maxTokens, "do_lower_case", false));
      Map<String, Object> poolingJson = new LinkedHashMap<>();
      poolingJson.put("word_embedding_dimension", config.hiddenSize());
      poolingJson.put("pooling_mode_cls_token", pooling == Pooling.CLS);
      poolingJson.put("pooling_mode_mean_tokens", pooling == Pooling.MEAN);
      poolingJson.put("pooling_mode_max_tokens", false);
      poolingJson.put("pooling_mode_mean_sqrt_len_tokens", false);
      JSON.writeValue(dir.resolve("1_Pooling/config.json").toFile(), poolingJson);
      if (base.onnx() != null && !base.quantized()) {
        OnnxWeights.rewrite(base.onnx(), dir.resolve(ONNX), onnxInitializers(config, weights, base.onnx()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write model folder " + dir, e);
    }
  }

  private static Map<String, Object> module(int idx, String path, String type) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("idx", idx);
    m.put("name", Integer.toString(idx));
    m.put("path", path);
    m.put("type", type);
    return m;
  }

  static Map<String, Object> configJson(BertConfig c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("architectures", List.of("BertModel"));
    m.put("model_type", "bert");
    m.put("hidden_act", "gelu");
    m.put("position_embedding_type", "absolute");
    m.put("vocab_size", c.vocabSize());
    m.put("hidden_size", c.hiddenSize());
    m.put("num_hidden_layers", c.layers());
    m.put("num_attention_heads", c.heads());
    m.put("intermediate_size", c.intermediateSize());
    m.put("max_position_embeddings", c.maxPositions());
    m.put("type_vocab_size", c.typeVocabSize());
    m.put("layer_norm_eps", c.layerNormEps());
    m.put("hidden_dropout_prob", 0.1);
    m.put("attention_probs_dropout_prob", 0.1);
    m.put("initializer_range", 0.02);
    m.put("pad_token_id", 0);
    return m;
  }

  /** Every tensor that is not a linear weight: name and shape. */
  private static Map<String, long[]> namedTensors(BertConfig c) {
    Map<String, long[]> out = new LinkedHashMap<>();
    int h = c.hiddenSize();
    out.put("embeddings.word_embeddings.weight", new long[] {c.vocabSize(), h});
    out.put("embeddings.position_embeddings.weight", new long[] {c.maxPositions(), h});
    out.put("embeddings.token_type_embeddings.weight", new long[] {c.typeVocabSize(), h});
    out.put("embeddings.LayerNorm.weight", new long[] {h});
    out.put("embeddings.LayerNorm.bias", new long[] {h});
    for (int l = 0; l < c.layers(); l++) {
      String p = "encoder.layer." + l + ".";
      for (String linear : LINEARS) {
        out.put(p + linear + ".bias", new long[] {linearShape(c, linear)[1]});
      }
      for (String norm : List.of("attention.output.LayerNorm", "output.LayerNorm")) {
        out.put(p + norm + ".weight", new long[] {h});
        out.put(p + norm + ".bias", new long[] {h});
      }
    }
    return out;
  }

  /** [in, out] of a linear module. */
  private static int[] linearShape(BertConfig c, String module) {
    int h = c.hiddenSize();
    return switch (module) {
      case "intermediate.dense" -> new int[] {h, c.intermediateSize()};
      case "output.dense" -> new int[] {c.intermediateSize(), h};
      default -> new int[] {h, h};
    };
  }

  /** HuggingFace {@code BertModel} tensors: linear weights transposed to [out, in]. */
  private static Map<String, Safetensors.F32> huggingFaceTensors(BertConfig c, BertWeights weights) {
    Map<String, Safetensors.F32> out = new LinkedHashMap<>();
    namedTensors(c).forEach((name, shape) -> out.put(name, new Safetensors.F32(shape, weights.tensor(name, shape))));
    for (int l = 0; l < c.layers(); l++) {
      for (String linear : LINEARS) {
        int[] io = linearShape(c, linear);
        float[] inOut = weights.linear(l, linear, io[0], io[1]);
        float[] outIn = new float[inOut.length];
        for (int i = 0; i < io[0]; i++) {
          for (int o = 0; o < io[1]; o++) {
            outIn[o * io[0] + i] = inOut[i * io[1] + o];
          }
        }
        out.put("encoder.layer." + l + "." + linear + ".weight", new Safetensors.F32(new long[] {io[1], io[0]}, outIn));
      }
    }
    return out;
  }

  /** The base graph's initialisers for every weight: named ones by name, MatMul weights through their nodes. */
  private static Map<String, float[]> onnxInitializers(BertConfig c, BertWeights weights, Path onnx) {
    OnnxWeights graph = OnnxWeights.read(onnx);
    Map<String, float[]> out = new LinkedHashMap<>();
    namedTensors(c).forEach((name, shape) -> {
      graph.get(name, shape);
      out.put(name, weights.tensor(name, shape));
    });
    List<String> missing = new ArrayList<>();
    for (int l = 0; l < c.layers(); l++) {
      for (String linear : LINEARS) {
        int[] io = linearShape(c, linear);
        String initializer = graph.matMulWeightOf("/encoder/layer." + l + "/" + linear.replace('.', '/') + "/MatMul");
        graph.get(initializer, io[0], io[1]);
        if (out.put(initializer, weights.linear(l, linear, io[0], io[1])) != null) {
          missing.add(initializer);
        }
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException("ONNX graph " + onnx + " shares initialisers between weights: " + missing);
    }
    return out;
  }
}
