package dev.itemsim.embed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.itemsim.InvalidInputException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Encodes with itemsim's BERT ({@link BertModel}) on the PyTorch engine (CPU or GPU), from weights in
 * safetensors or an ONNX export; the returned last hidden states are pooled by {@link BatchingEncoder}. The
 * model's weights are read-only here, so one instance serves every task thread of an executor.
 */
final class TorchBertEncoder extends BatchingEncoder {
  private static final Logger LOG = LoggerFactory.getLogger(TorchBertEncoder.class);

  private final BertModel model;

  private TorchBertEncoder(EncoderSettings settings, ModelFiles files, BertModel model) {
    super(settings, files);
    this.model = model;
  }

  /** Loads the BERT weights of {@code files} (safetensors first, else the ONNX initialisers) onto {@code device}. */
  static TorchBertEncoder load(EncoderSettings settings, ModelFiles files, Device device) {
    long start = System.nanoTime();
    BertConfig config = files.bertConfig();
    checkLength(settings, config);
    DataType dtype = settings.fp16() && device.isGpu() ? DataType.FLOAT16 : DataType.FLOAT32;
    BertModel model = BertModel.load(config, BertModel.weightsOf(settings.model(), files), device, dtype);
    LOG.info("Loaded {} into the PyTorch BERT encoder on {} ({} layers, hidden {}, {} heads, {}) in {} ms",
        settings.model(), device, config.layers(), config.hiddenSize(), config.heads(), dtype,
        (System.nanoTime() - start) / 1_000_000);
    return owning(model, () -> new TorchBertEncoder(settings, files, model));
  }

  /** An encoder over weights held in memory (e.g. a snapshot taken while fine-tuning); it owns {@code model}. */
  static TorchBertEncoder of(EncoderSettings settings, ModelFiles files, BertModel model) {
    return owning(model, () -> {
      checkLength(settings, model.config());
      return new TorchBertEncoder(settings, files, model);
    });
  }

  private static void checkLength(EncoderSettings settings, BertConfig config) {
    if (settings.maxTokens() > config.maxPositions()) {
      throw new InvalidInputException("encoder.maxTokens = " + settings.maxTokens() + " exceeds the model's "
          + "max_position_embeddings " + config.maxPositions());
    }
  }

  /** Weights are shared and read-only: every batch runs straight on them. */
  @Override
  protected Forward open() {
    return this::forward;
  }

  private float[] forward(long[] ids, long[] mask, long[] types, int b, int seqLen) {
    model.checkTokens(ids, types);
    try (NDManager batch = model.newBatchManager()) {
      Shape shape = new Shape(b, seqLen);
      NDArray hidden = model.hiddenStates(batch.create(ids, shape), batch.create(mask, shape),
          batch.create(types, shape), 0f);
      return hidden.toType(DataType.FLOAT32, false).toFloatArray();
    }
  }

  @Override
  protected void closeModel() {
    model.close();
  }
}
