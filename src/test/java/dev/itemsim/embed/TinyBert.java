package dev.itemsim.embed;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * A tiny random BERT written as a HuggingFace folder (config.json, model.safetensors, tokenizer.json of the
 * built-in model) plus an independent reference forward pass in double precision, one text at a time with
 * no padding, straight from HuggingFace's BertModel equations.
 */
final class TinyBert {
  static final int VOCAB = 30522;
  static final int HIDDEN = 16;
  static final int HEADS = 2;
  static final int LAYERS = 2;
  static final int FF = 32;
  static final int POSITIONS = 128;

  /** HuggingFace name → [shape..., values] in HF layout (linear weights [out, in]). */
  final Map<String, long[]> shapes = new LinkedHashMap<>();
  final Map<String, float[]> values = new LinkedHashMap<>();

  TinyBert(long seed) {
    Random random = new Random(seed);
    add("embeddings.word_embeddings.weight", random, 0.5, 0, VOCAB, HIDDEN);
    add("embeddings.position_embeddings.weight", random, 0.2, 0, POSITIONS, HIDDEN);
    add("embeddings.token_type_embeddings.weight", random, 0.2, 0, 2, HIDDEN);
    add("embeddings.LayerNorm.weight", random, 0.1, 1, HIDDEN);
    add("embeddings.LayerNorm.bias", random, 0.1, 0, HIDDEN);
    for (int l = 0; l < LAYERS; l++) {
      String p = "encoder.layer." + l + ".";
      for (String m : new String[] {"attention.self.query", "attention.self.key", "attention.self.value",
          "attention.output.dense"}) {
        add(p + m + ".weight", random, 0.3, 0, HIDDEN, HIDDEN);
        add(p + m + ".bias", random, 0.1, 0, HIDDEN);
      }
      add(p + "attention.output.LayerNorm.weight", random, 0.1, 1, HIDDEN);
      add(p + "attention.output.LayerNorm.bias", random, 0.1, 0, HIDDEN);
      add(p + "intermediate.dense.weight", random, 0.3, 0, FF, HIDDEN);
      add(p + "intermediate.dense.bias", random, 0.1, 0, FF);
      add(p + "output.dense.weight", random, 0.3, 0, HIDDEN, FF);
      add(p + "output.dense.bias", random, 0.1, 0, HIDDEN);
      add(p + "output.LayerNorm.weight", random, 0.1, 1, HIDDEN);
      add(p + "output.LayerNorm.bias", random, 0.1, 0, HIDDEN);
    }
  }

  private void add(String name, Random random, double scale, double offset, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] v = new float[(int) n];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (offset + scale * random.nextGaussian());
    }
    shapes.put(name, shape);
    values.put(name, v);
  }

  static String configJson() {
    return "{\"model_type\":\"bert\",\"hidden_act\":\"gelu\",\"vocab_size\":" + VOCAB + ",\"hidden_size\":" + HIDDEN
        + ",\"num_hidden_layers\":" + LAYERS + ",\"num_attention_heads\":" + HEADS + ",\"intermediate_size\":" + FF
        + ",\"max_position_embeddings\":" + POSITIONS + ",\"type_vocab_size\":2,\"layer_norm_eps\":1e-12}";
  }

  /** Writes the folder; {@code prefix} is prepended to every tensor name (e.g. "bert."). */
  Path writeFolder(Path dir, String prefix) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.json"), configJson());
    Files.copy(new ModelSpec("builtin:all-minilm-l6-v2").resolve().tokenizer(), dir.resolve("tokenizer.json"));
    writeSafetensors(dir.resolve("model.safetensors"), prefix, Map.of());
    return dir;
  }

  /** Writes the weights as F32 safetensors, with {@code overrides} replacing a name's header entry. */
  void writeSafetensors(Path file, String prefix, Map<String, String> overrides) throws Exception {
    StringBuilder header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    for (var e : values.entrySet()) {
      long begin = data.size();
      ByteBuffer b = ByteBuffer.allocate(4 * e.getValue().length).order(ByteOrder.LITTLE_ENDIAN);
      for (float f : e.getValue()) {
        b.putFloat(f);
      }
      data.writeBytes(b.array());
      String entry = overrides.getOrDefault(e.getKey(), "{\"dtype\":\"F32\",\"shape\":"
          + java.util.Arrays.toString(shapes.get(e.getKey())) + ",\"data_offsets\":[" + begin + "," + data.size() + "]}");
      if (!entry.isEmpty()) {
        header.append(",\"").append(prefix).append(e.getKey()).append("\":").append(entry);
      }
    }
    byte[] json = header.append('}').toString().getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
    out.writeBytes(json);
    out.writeBytes(data.toByteArray());
    Files.write(file, out.toByteArray());
  }

  /** The reference sentence vector: BertModel forward on one unpadded text, mean pooled, L2-normalised. */
  float[] reference(HuggingFaceTokenizer tokenizer, String text) {
    Encoding enc = tokenizer.encode(text);
    long[] ids = enc.getIds();
    long[] types = enc.getTypeIds();
    int s = ids.length;
    double[][] x = new double[s][HIDDEN];
    for (int t = 0; t < s; t++) {
      for (int k = 0; k < HIDDEN; k++) {
        x[t][k] = w("embeddings.word_embeddings.weight")[(int) ids[t] * HIDDEN + k]
            + w("embeddings.position_embeddings.weight")[t * HIDDEN + k]
            + w("embeddings.token_type_embeddings.weight")[(int) types[t] * HIDDEN + k];
      }
    }
    x = layerNorm(x, "embeddings.LayerNorm");
    int dh = HIDDEN / HEADS;
    for (int l = 0; l < LAYERS; l++) {
      String p = "encoder.layer." + l + ".";
      double[][] q = linear(x, p + "attention.self.query");
      double[][] k = linear(x, p + "attention.self.key");
      double[][] v = linear(x, p + "attention.self.value");
      double[][] context = new double[s][HIDDEN];
      for (int h = 0; h < HEADS; h++) {
        for (int i = 0; i < s; i++) {
          double[] scores = new double[s];
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < s; j++) {
            double dot = 0;
            for (int d = 0; d < dh; d++) {
              dot += q[i][h * dh + d] * k[j][h * dh + d];
            }
            scores[j] = dot / Math.sqrt(dh);
            max = Math.max(max, scores[j]);
          }
          double sum = 0;
          for (int j = 0; j < s; j++) {
            scores[j] = Math.exp(scores[j] - max);
            sum += scores[j];
          }
          for (int j = 0; j < s; j++) {
            for (int d = 0; d < dh; d++) {
              context[i][h * dh + d] += scores[j] / sum * v[j][h * dh + d];
            }
          }
        }
      }
      x = layerNorm(add(linear(context, p + "attention.output.dense"), x), p + "attention.output.LayerNorm");
      double[][] inter = linear(x, p + "intermediate.dense");
      for (double[] row : inter) {
        for (int i = 0; i < row.length; i++) {
          row[i] = 0.5 * row[i] * (1 + erf(row[i] / Math.sqrt(2)));
        }
      }
      x = layerNorm(add(linear(inter, p + "output.dense"), x), p + "output.LayerNorm");
    }
    float[] pooled = new float[HIDDEN];
    for (int k = 0; k < HIDDEN; k++) {
      double sum = 0;
      for (int t = 0; t < s; t++) {
        sum += x[t][k];
      }
      pooled[k] = (float) (sum / s);
    }
    return Vectors.normalize(pooled);
  }

  private float[] w(String name) {
    return values.get(name);
  }

  private double[][] linear(double[][] x, String module) {
    float[] weight = w(module + ".weight");
    float[] bias = w(module + ".bias");
    int out = bias.length;
    int in = x[0].length;
    double[][] y = new double[x.length][out];
    for (int t = 0; t < x.length; t++) {
      for (int o = 0; o < out; o++) {
        double sum = bias[o];
        for (int i = 0; i < in; i++) {
          sum += x[t][i] * weight[o * in + i];
        }
        y[t][o] = sum;
      }
    }
    return y;
  }

  private static double[][] add(double[][] a, double[][] b) {
    for (int t = 0; t < a.length; t++) {
      for (int k = 0; k < a[t].length; k++) {
        a[t][k] += b[t][k];
      }
    }
    return a;
  }

  private double[][] layerNorm(double[][] x, String prefix) {
    float[] gain = w(prefix + ".weight");
    float[] bias = w(prefix + ".bias");
    double[][] y = new double[x.length][];
    for (int t = 0; t < x.length; t++) {
      double mean = 0;
      for (double v : x[t]) {
        mean += v / x[t].length;
      }
      double var = 0;
      for (double v : x[t]) {
        var += (v - mean) * (v - mean) / x[t].length;
      }
      y[t] = new double[x[t].length];
      for (int k = 0; k < x[t].length; k++) {
        y[t][k] = (x[t][k] - mean) / Math.sqrt(var + 1e-12) * gain[k] + bias[k];
      }
    }
    return y;
  }

  /** erf by its Maclaurin series (|x| < 3) or continued fraction tail; accurate to ~1e-12 here. */
  static double erf(double x) {
    double ax = Math.abs(x);
    double r;
    if (ax < 3) {
      double term = ax;
      double sum = ax;
      for (int n = 1; n < 100; n++) {
        term *= -ax * ax / n;
        sum += term / (2 * n + 1);
      }
      r = 2 / Math.sqrt(Math.PI) * sum;
    } else {
      double f = 0;
      for (int n = 60; n >= 1; n--) {
        f = n / 2.0 / (ax + f);
      }
      r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
    }
    return Math.copySign(r, x);
  }
}
