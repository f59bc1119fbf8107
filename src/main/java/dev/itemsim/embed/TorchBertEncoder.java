package dev.itemsim.embed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.norm.LayerNorm;
import dev.itemsim.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HuggingFace {@code BertModel} written with DJL NDArray operations and run on the PyTorch engine (CPU or
 * GPU), from weights in safetensors or an ONNX export: word + position + token-type embeddings and
 * LayerNorm, then {@code layers} post-LayerNorm blocks of multi-head self-attention (padding keys masked with
 * the dtype's lowest value, as HuggingFace does) and an erf-GELU feed-forward. The returned last hidden
 * states are pooled by {@link BatchingEncoder}.
 *
 * <p>The embedding lookup is a gather done in Java (it is a copy, not arithmetic); every matrix product,
 * softmax and normalisation runs in PyTorch. Weights are read-only after loading, so one instance serves
 * every task thread of an executor.
 */
final class TorchBertEncoder extends BatchingEncoder {
  private static final Logger LOG = LoggerFactory.getLogger(TorchBertEncoder.class);

  private final BertConfig config;
  private final NDManager weights;
  private final DataType dtype;
  private final float[] wordEmbeddings;
  private final float[] positionEmbeddings;
  private final float[] typeEmbeddings;
  private final NDArray embeddingNormGain;
  private final NDArray embeddingNormBias;
  private final List<Layer> layers;

  /** One encoder block's parameters on the device; query, key and value projections fused into one product. */
  private record Layer(NDArray qkvWeight, NDArray qkvBias, NDArray attentionOutWeight, NDArray attentionOutBias,
      NDArray attentionNormGain, NDArray attentionNormBias, NDArray intermediateWeight, NDArray intermediateBias,
      NDArray outputWeight, NDArray outputBias, NDArray outputNormGain, NDArray outputNormBias) {}

  private TorchBertEncoder(EncoderSettings settings, ModelFiles files, BertConfig config, BertWeights source,
      Device device) {
    super(settings, files);
    if (settings.maxTokens() > config.maxPositions()) {
      throw new InvalidInputException("encoder.maxTokens = " + settings.maxTokens() + " exceeds the model's "
          + "max_position_embeddings " + config.maxPositions());
    }
    this.config = config;
    this.dtype = settings.fp16() && device.isGpu() ? DataType.FLOAT16 : DataType.FLOAT32;
    int h = config.hiddenSize();
    int ff = config.intermediateSize();
    this.wordEmbeddings = source.tensor("embeddings.word_embeddings.weight", config.vocabSize(), h);
    this.positionEmbeddings = source.tensor("embeddings.position_embeddings.weight", config.maxPositions(), h);
    this.typeEmbeddings = source.tensor("embeddings.token_type_embeddings.weight", config.typeVocabSize(), h);
    this.weights = NDManager.newBaseManager(device, DjlRuntime.PYTORCH);
    this.embeddingNormGain = vector(source, "embeddings.LayerNorm.weight", h);
    this.embeddingNormBias = vector(source, "embeddings.LayerNorm.bias", h);
    List<Layer> built = new ArrayList<>();
    for (int l = 0; l < config.layers(); l++) {
      String p = "encoder.layer." + l + ".";
      float[] qkv = new float[h * 3 * h];
      float[] qkvBias = new float[3 * h];
      String[] projections = {"attention.self.query", "attention.self.key", "attention.self.value"};
      for (int j = 0; j < 3; j++) {
        float[] w = source.linear(l, projections[j], h, h);
        for (int i = 0; i < h; i++) {
          System.arraycopy(w, i * h, qkv, i * 3 * h + j * h, h);
        }
        System.arraycopy(source.tensor(p + projections[j] + ".bias", h), 0, qkvBias, j * h, h);
      }
      built.add(new Layer(
          matrix(qkv, h, 3 * h), vector(qkvBias),
          matrix(source.linear(l, "attention.output.dense", h, h), h, h),
          vector(source, p + "attention.output.dense.bias", h),
          vector(source, p + "attention.output.LayerNorm.weight", h),
          vector(source, p + "attention.output.LayerNorm.bias", h),
          matrix(source.linear(l, "intermediate.dense", h, ff), h, ff),
          vector(source, p + "intermediate.dense.bias", ff),
          matrix(source.linear(l, "output.dense", ff, h), ff, h),
          vector(source, p + "output.dense.bias", h),
          vector(source, p + "output.LayerNorm.weight", h),
          vector(source, p + "output.LayerNorm.bias", h)));
    }
    this.layers = List.copyOf(built);
  }

  /** Loads the BERT weights of {@code files} (safetensors first, else the ONNX initialisers) onto {@code device}. */
  static TorchBertEncoder load(EncoderSettings settings, ModelFiles files, Device device) {
    long start = System.nanoTime();
    BertConfig config = files.bertConfig();
    BertWeights source;
    if (files.safetensors() != null) {
      source = BertWeights.safetensors(files.safetensors());
    } else if (files.onnx() != null && !files.quantized()) {
      source = BertWeights.onnx(files.onnx());
    } else {
      throw new InvalidInputException("Model " + settings.model() + " has no weights the PyTorch BERT encoder "
          + "can read (it has " + files.weightFiles() + (files.quantized() ? ", int8-quantised" : "")
          + "): it needs model.safetensors, a float32 model.onnx, or TorchScript model.pt");
    }
    TorchBertEncoder encoder = new TorchBertEncoder(settings, files, config, source, device);
    LOG.info("Loaded {} into the PyTorch BERT encoder on {} ({} layers, hidden {}, {} heads, {}) in {} ms",
        settings.model(), device, config.layers(), config.hiddenSize(), config.heads(), encoder.dtype,
        (System.nanoTime() - start) / 1_000_000);
    return encoder;
  }

  private NDArray matrix(float[] values, int rows, int cols) {
    return weights.create(values, new Shape(rows, cols)).toType(dtype, false);
  }

  private NDArray vector(float[] values) {
    return weights.create(values, new Shape(values.length)).toType(dtype, false);
  }

  private NDArray vector(BertWeights source, String name, int length) {
    return vector(source.tensor(name, length));
  }

  /** Weights are shared and read-only: every batch runs straight on them. */
  @Override
  protected Forward open() {
    return this::forward;
  }

  private float[] forward(long[] ids, long[] mask, long[] types, int b, int seqLen) {
    int h = config.hiddenSize();
    float[] embedded = new float[b * seqLen * h];
    float[] maskBias = new float[b * seqLen];
    float lowest = dtype == DataType.FLOAT16 ? -65504f : -Float.MAX_VALUE;
    for (int r = 0; r < b; r++) {
      for (int t = 0; t < seqLen; t++) {
        int at = r * seqLen + t;
        int id = checkedIndex(ids[at], config.vocabSize(), "token id");
        int type = checkedIndex(types[at], config.typeVocabSize(), "token type");
        int out = at * h;
        int w = id * h;
        int p = t * h;
        int y = type * h;
        for (int k = 0; k < h; k++) {
          embedded[out + k] = wordEmbeddings[w + k] + positionEmbeddings[p + k] + typeEmbeddings[y + k];
        }
        maskBias[at] = mask[at] == 0 ? lowest : 0f;
      }
    }
    int heads = config.heads();
    int dh = config.headSize();
    float scale = (float) (1.0 / Math.sqrt(dh));
    try (NDManager batch = weights.newSubManager()) {
      NDArray x = normalize(batch.create(embedded, new Shape(b, seqLen, h)).toType(dtype, false),
          embeddingNormGain, embeddingNormBias);
      NDArray bias = batch.create(maskBias, new Shape(b, 1, 1, seqLen)).toType(dtype, false);
      for (Layer layer : layers) {
        NDList qkv = x.matMul(layer.qkvWeight()).add(layer.qkvBias()).split(3, 2);
        NDArray q = qkv.get(0).reshape(b, seqLen, heads, dh).transpose(0, 2, 1, 3);
        NDArray k = qkv.get(1).reshape(b, seqLen, heads, dh).transpose(0, 2, 3, 1);
        NDArray v = qkv.get(2).reshape(b, seqLen, heads, dh).transpose(0, 2, 1, 3);
        NDArray probabilities = q.matMul(k).muli(scale).addi(bias).softmax(-1);
        NDArray context = probabilities.matMul(v).transpose(0, 2, 1, 3).reshape(b, seqLen, h);
        x = normalize(context.matMul(layer.attentionOutWeight()).addi(layer.attentionOutBias()).addi(x),
            layer.attentionNormGain(), layer.attentionNormBias());
        NDArray intermediate = Activation.gelu(x.matMul(layer.intermediateWeight()).addi(layer.intermediateBias()));
        x = normalize(intermediate.matMul(layer.outputWeight()).addi(layer.outputBias()).addi(x),
            layer.outputNormGain(), layer.outputNormBias());
      }
      return x.toType(DataType.FLOAT32, false).toFloatArray();
    }
  }

  private NDArray normalize(NDArray x, NDArray gain, NDArray bias) {
    return LayerNorm.layerNorm(x, new Shape(config.hiddenSize()), gain, bias, (float) config.layerNormEps())
        .singletonOrThrow();
  }

  private static int checkedIndex(long value, int size, String what) {
    if (value < 0 || value >= size) {
      throw new InvalidInputException("The tokenizer produced " + what + " " + value + " but the model's table "
          + "has " + size + " rows: tokenizer.json does not belong to these weights");
    }
    return (int) value;
  }

  @Override
  protected void closeModel() {
    weights.close();
  }
}
