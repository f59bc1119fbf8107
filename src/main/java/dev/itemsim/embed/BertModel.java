package dev.itemsim.embed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;
import dev.itemsim.InvalidInputException;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * HuggingFace {@code BertModel} written with DJL NDArray operations on the PyTorch engine (CPU or GPU): the one
 * BERT forward pass itemsim has, used both to encode ({@link TorchBertEncoder}) and to fine-tune
 * ({@link ContrastiveTrainer}). Word + position + token-type embeddings (gathers inside the graph) and
 * LayerNorm, then {@code layers} post-LayerNorm blocks of multi-head self-attention (padding keys masked with
 * the dtype's lowest value, as HuggingFace does) and an erf-GELU feed-forward; optional dropout where
 * HuggingFace applies it (after the embeddings, on the attention probabilities, after both dense outputs).
 *
 * <p>Every weight is one {@link NDArray} on the model's device, named as in HuggingFace, except that each
 * layer's query, key and value projections are one fused parameter {@code attention.self.qkv} ([h, 3h], the
 * three [in, out] matrices side by side) and linear weights are stored [in, out]. {@link #weights()} reads them
 * back under HuggingFace names. Once {@link #trainable()} the parameters collect gradients under a DJL
 * {@code GradientCollector}; otherwise they are read-only and one instance serves any number of threads.
 */
final class BertModel implements AutoCloseable {
  static final String QKV = "attention.self.qkv";
  private static final String[] PROJECTIONS = {"attention.self.query", "attention.self.key", "attention.self.value"};

  private final BertConfig config;
  private final NDManager manager;
  private final DataType dtype;
  private final Map<String, NDArray> parameters = new LinkedHashMap<>();

  private BertModel(BertConfig config, BertWeights source, Device device, DataType dtype) {
    this.config = config;
    this.dtype = dtype;
    this.manager = NDManager.newBaseManager(device, DjlRuntime.PYTORCH);
    try {
      copy(source);
    } catch (RuntimeException | Error e) {
      manager.close();  // the parameters copied so far
      throw e;
    }
  }

  private void copy(BertWeights source) {
    int h = config.hiddenSize();
    int ff = config.intermediateSize();
    put("embeddings.word_embeddings.weight", source.tensor("embeddings.word_embeddings.weight",
        config.vocabSize(), h), config.vocabSize(), h);
    put("embeddings.position_embeddings.weight", source.tensor("embeddings.position_embeddings.weight",
        config.maxPositions(), h), config.maxPositions(), h);
    put("embeddings.token_type_embeddings.weight", source.tensor("embeddings.token_type_embeddings.weight",
        config.typeVocabSize(), h), config.typeVocabSize(), h);
    vector(source, "embeddings.LayerNorm.weight", h);
    vector(source, "embeddings.LayerNorm.bias", h);
    for (int l = 0; l < config.layers(); l++) {
      String p = layer(l);
      float[] qkv = new float[h * 3 * h];
      float[] qkvBias = new float[3 * h];
      for (int j = 0; j < 3; j++) {
        float[] w = source.linear(l, PROJECTIONS[j], h, h);
        for (int i = 0; i < h; i++) {
          System.arraycopy(w, i * h, qkv, i * 3 * h + j * h, h);
        }
        System.arraycopy(source.tensor(p + PROJECTIONS[j] + ".bias", h), 0, qkvBias, j * h, h);
      }
      put(p + QKV + ".weight", qkv, h, 3 * h);
      put(p + QKV + ".bias", qkvBias, 3 * h);
      put(p + "attention.output.dense.weight", source.linear(l, "attention.output.dense", h, h), h, h);
      vector(source, p + "attention.output.dense.bias", h);
      vector(source, p + "attention.output.LayerNorm.weight", h);
      vector(source, p + "attention.output.LayerNorm.bias", h);
      put(p + "intermediate.dense.weight", source.linear(l, "intermediate.dense", h, ff), h, ff);
      vector(source, p + "intermediate.dense.bias", ff);
      put(p + "output.dense.weight", source.linear(l, "output.dense", ff, h), ff, h);
      vector(source, p + "output.dense.bias", h);
      vector(source, p + "output.LayerNorm.weight", h);
      vector(source, p + "output.LayerNorm.bias", h);
    }
  }

  /** Copies {@code source}'s weights onto {@code device} in {@code dtype} (FLOAT32; FLOAT16 on GPU; FLOAT64 for checks). */
  static BertModel load(BertConfig config, BertWeights source, Device device, DataType dtype) {
    return new BertModel(config, source, device, dtype);
  }

  /** The weights of {@code files}: safetensors first, else the float32 ONNX initialisers. */
  static BertWeights weightsOf(ModelSpec model, ModelFiles files) {
    if (files.safetensors() != null) {
      return BertWeights.safetensors(files.safetensors());
    }
    if (files.onnx() != null && !files.quantized()) {
      return BertWeights.onnx(files.onnx());
    }
    throw new InvalidInputException("Model " + model + " has no weights the PyTorch BERT encoder can read (it has "
        + files.weightFiles() + (files.quantized() ? ", int8-quantised" : "") + "): it needs model.safetensors, a "
        + "float32 model.onnx, or TorchScript model.pt");
  }

  private static String layer(int l) {
    return "encoder.layer." + l + ".";
  }

  private void put(String name, float[] values, long... shape) {
    NDArray created = manager.create(values, new Shape(shape));
    NDArray typed = created.toType(dtype, false);
    if (typed != created) {
      created.close();
    }
    parameters.put(name, typed);
  }

  private void vector(BertWeights source, String name, int length) {
    put(name, source.tensor(name, length), length);
  }

  BertConfig config() {
    return config;
  }

  DataType dtype() {
    return dtype;
  }

  Device device() {
    return manager.getDevice();
  }

  /** A manager for one batch's arrays, on the model's device. */
  NDManager newBatchManager() {
    return manager.newSubManager();
  }

  /** The parameters by name, in a fixed order (see the class comment for names and layouts). */
  Map<String, NDArray> parameters() {
    return Collections.unmodifiableMap(parameters);
  }

  /** Attaches a gradient to every parameter: from now on a {@code GradientCollector} trains them. */
  BertModel trainable() {
    parameters.values().forEach(p -> p.setRequiresGradient(true));
    return this;
  }

  /** Whether {@code name} is a bias or LayerNorm parameter (conventionally exempt from weight decay). */
  static boolean isBiasOrNorm(String name) {
    return name.endsWith(".bias") || name.contains("LayerNorm");
  }

  /**
   * Checks a batch's token ids and types against the embedding tables: a tokenizer that does not belong to
   * the weights is a user error, not a crash inside PyTorch.
   */
  void checkTokens(long[] ids, long[] types) {
    for (long id : ids) {
      checkIndex(id, config.vocabSize(), "token id");
    }
    for (long type : types) {
      checkIndex(type, config.typeVocabSize(), "token type");
    }
  }

  private static void checkIndex(long value, int size, String what) {
    if (value < 0 || value >= size) {
      throw new InvalidInputException("The tokenizer produced " + what + " " + value + " but the model's table "
          + "has " + size + " rows: tokenizer.json does not belong to these weights");
    }
  }

  /**
   * The last hidden states [b, seqLen, hidden] of one padded batch. {@code ids}, {@code mask} and
   * {@code types} are int64 [b, seqLen] arrays of a batch manager ({@link #newBatchManager()}); every array the
   * pass creates belongs to that manager. {@code dropout} (0 to switch it off) applies where HuggingFace's
   * training mode applies it.
   */
  NDArray hiddenStates(NDArray ids, NDArray mask, NDArray types, float dropout) {
    long b = ids.getShape().get(0);
    long seqLen = ids.getShape().get(1);
    int h = config.hiddenSize();
    int heads = config.heads();
    int dh = config.headSize();
    float scale = (float) (1.0 / Math.sqrt(dh));
    double lowest = dtype == DataType.FLOAT16 ? -65504.0 : dtype == DataType.FLOAT64 ? -Double.MAX_VALUE
        : -Float.MAX_VALUE;
    NDManager batch = ids.getManager();
    NDArray positions = batch.arange(0, (int) seqLen, 1, DataType.INT64);
    NDArray x = gather(ids, "embeddings.word_embeddings.weight")
        .addi(gather(positions, "embeddings.position_embeddings.weight"))
        .addi(gather(types, "embeddings.token_type_embeddings.weight"));
    x = drop(normalize(x, "embeddings.LayerNorm"), dropout);
    // 0 where a key is a token, the lowest value where it is padding: added to the attention scores
    NDArray bias = mask.toType(dtype, false).sub(1).mul(-lowest).reshape(b, 1, 1, seqLen);
    NDArray scaling = constant(batch, scale, dtype);
    for (int l = 0; l < config.layers(); l++) {
      String p = layer(l);
      NDList qkv = x.matMul(param(p + QKV + ".weight")).addi(param(p + QKV + ".bias")).split(3, 2);
      NDArray q = qkv.get(0).reshape(b, seqLen, heads, dh).transpose(0, 2, 1, 3);
      NDArray k = qkv.get(1).reshape(b, seqLen, heads, dh).transpose(0, 2, 3, 1);
      NDArray v = qkv.get(2).reshape(b, seqLen, heads, dh).transpose(0, 2, 1, 3);
      NDArray probabilities = drop(q.matMul(k).muli(scaling).addi(bias).softmax(-1), dropout);
      NDArray context = probabilities.matMul(v).transpose(0, 2, 1, 3).reshape(b, seqLen, h);
      NDArray attended = drop(context.matMul(param(p + "attention.output.dense.weight"))
          .addi(param(p + "attention.output.dense.bias")), dropout);
      x = normalize(attended.addi(x), p + "attention.output.LayerNorm");
      NDArray intermediate = Activation.gelu(x.matMul(param(p + "intermediate.dense.weight"))
          .addi(param(p + "intermediate.dense.bias")));
      NDArray output = drop(intermediate.matMul(param(p + "output.dense.weight"))
          .addi(param(p + "output.dense.bias")), dropout);
      x = normalize(output.addi(x), p + "output.LayerNorm");
    }
    return x;
  }

  /**
   * Sentence vectors [b, hidden] of hidden states [b, seqLen, hidden]: the mean over the attention mask or
   * the first ([CLS]) token, then L2-normalised, inside the graph (so gradients flow through it).
   */
  static NDArray sentenceVectors(NDArray hidden, NDArray mask, Pooling pooling) {
    NDArray pooled;
    if (pooling == Pooling.CLS) {
      pooled = hidden.get(":, 0, :");
    } else {
      NDArray weights = mask.toType(hidden.getDataType(), false).expandDims(2);
      pooled = hidden.mul(weights).sum(new int[] {1}).div(weights.sum(new int[] {1}).maximum(1));
    }
    NDArray norm = pooled.square().sum(new int[] {1}, true).sqrt()
        .maximum(constant(pooled.getManager(), 1e-12, pooled.getDataType()));
    return pooled.div(norm);
  }

  /**
   * A scalar array of {@code value} made by PyTorch itself, in {@code arrays}. Graph code uses it instead of
   * passing host numbers ({@code x.mul(20)}): DJL wraps those around a Java direct buffer and closes it right
   * after the operation, but autograd keeps the operand for the backward pass, so a garbage collection in
   * between would free memory the backward still reads.
   */
  static NDArray constant(NDManager arrays, double value, DataType type) {
    return arrays.full(new Shape(), (float) value, type);
  }

  private NDArray param(String name) {
    return parameters.get(name);
  }

  /** Rows of embedding table {@code table} for int64 {@code indices}; the result belongs to the indices' manager. */
  private NDArray gather(NDArray indices, String table) {
    return Embedding.embedding(indices, param(table), SparseFormat.DENSE).singletonOrThrow();
  }

  private NDArray normalize(NDArray x, String prefix) {
    return LayerNorm.layerNorm(x, new Shape(config.hiddenSize()), param(prefix + ".weight"), param(prefix + ".bias"),
        (float) config.layerNormEps()).singletonOrThrow();
  }

  private static NDArray drop(NDArray x, float rate) {
    return rate > 0 ? Dropout.dropout(x, rate, true).singletonOrThrow() : x;
  }

  /**
   * The current weights, copied to the host as float32 under HuggingFace names ([in, out] linears, query, key
   * and value separate again): what the model folder is written from, and a snapshot to reload from.
   */
  BertWeights weights() {
    Map<String, float[]> host = new LinkedHashMap<>();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    parameters.forEach((name, p) -> {
      try (NDArray copy = p.toType(DataType.FLOAT32, true)) {
        host.put(name, copy.toFloatArray());
      }
      shapes.put(name, p.getShape().getShape());
    });
    int h = config.hiddenSize();
    return new BertWeights() {
      @Override
      public float[] tensor(String name, long... shape) {
        for (int j = 0; j < 3; j++) {
          String suffix = PROJECTIONS[j] + ".bias";
          if (name.endsWith(suffix)) {
            String fused = name.substring(0, name.length() - suffix.length()) + QKV + ".bias";
            check(name, new long[] {h}, shape);
            return Arrays.copyOfRange(require(fused), j * h, (j + 1) * h);
          }
        }
        check(name, shapes.get(name), shape);
        return require(name).clone();
      }

      @Override
      public float[] linear(int layer, String module, int in, int out) {
        String p = layer(layer);
        for (int j = 0; j < 3; j++) {
          if (module.equals(PROJECTIONS[j])) {
            check(p + module + ".weight", new long[] {h, h}, new long[] {in, out});
            float[] fused = require(p + QKV + ".weight");
            float[] w = new float[h * h];
            for (int i = 0; i < h; i++) {
              System.arraycopy(fused, i * 3 * h + j * h, w, i * h, h);
            }
            return w;
          }
        }
        String name = p + module + ".weight";
        check(name, shapes.get(name), new long[] {in, out});
        return require(name).clone();
      }

      private float[] require(String name) {
        float[] v = host.get(name);
        if (v == null) {
          throw new IllegalArgumentException("The model has no parameter " + name);
        }
        return v;
      }

      private void check(String name, long[] actual, long[] expected) {
        if (actual == null || !Arrays.equals(actual, expected)) {
          throw new IllegalArgumentException("Parameter " + name + " has shape " + Arrays.toString(actual)
              + ", asked for " + Arrays.toString(expected));
        }
      }
    };
  }

  @Override
  public void close() {
    manager.close();
  }
}
