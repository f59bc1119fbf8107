package dev.itemsim.embed;

import dev.itemsim.InvalidInputException;
import java.io.Serializable;

/**
 * Everything that determines an encoder instance; the key under which one encoder is shared per JVM.
 *
 * @param model which model ({@code encoder.model})
 * @param batchSize texts per forward pass ({@code encoder.batchSize})
 * @param maxTokens truncation length in tokens, special tokens included ({@code encoder.maxTokens})
 * @param threads intra-op threads per forward pass ({@code encoder.threadsPerTask})
 * @param engine which DJL engine runs the model ({@code encoder.engine})
 * @param device CPU or GPU ({@code encoder.device})
 * @param fp16 half-precision weights and activations on a GPU ({@code encoder.fp16}; refused on CPU)
 * @param pooling the pooling to use, or null for the model's own ({@code encoder.pooling = auto})
 */
public record EncoderSettings(ModelSpec model, int batchSize, int maxTokens, int threads, EngineChoice engine,
    DeviceChoice device, boolean fp16, Pooling pooling) implements Serializable {
  public EncoderSettings {
    if (batchSize < 1 || batchSize > 4096) {
      throw new InvalidInputException("encoder.batchSize must be in 1..4096, got " + batchSize);
    }
    if (maxTokens < 8 || maxTokens > 512) {
      throw new InvalidInputException("encoder.maxTokens must be in 8..512, got " + maxTokens);
    }
    if (threads < 1 || threads > 256) {
      throw new InvalidInputException("encoder.threadsPerTask must be in 1..256, got " + threads);
    }
    if (fp16 && (device == DeviceChoice.CPU || engine == EngineChoice.ONNXRUNTIME)) {
      throw new InvalidInputException("encoder.fp16 = true needs the PyTorch engine on a GPU (encoder.engine ="
          + " pytorch or auto, encoder.device = gpu or auto); got engine " + engine + ", device " + device);
    }
  }

  /** Default engine and device (auto), fp32, the model's own pooling. */
  public EncoderSettings(ModelSpec model, int batchSize, int maxTokens, int threads) {
    this(model, batchSize, maxTokens, threads, EngineChoice.AUTO, DeviceChoice.AUTO, false, null);
  }

  public static EncoderSettings defaults(String model) {
    return new EncoderSettings(new ModelSpec(model), 32, 128, 1);
  }

  /** The same settings with another model. */
  public EncoderSettings withModel(String other) {
    return new EncoderSettings(new ModelSpec(other), batchSize, maxTokens, threads, engine, device, fp16, pooling);
  }

  /** The same settings on another engine. */
  public EncoderSettings withEngine(EngineChoice other) {
    return new EncoderSettings(model, batchSize, maxTokens, threads, other, device, fp16, pooling);
  }
}
