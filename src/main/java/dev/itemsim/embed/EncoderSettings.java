package dev.itemsim.embed;

import dev.itemsim.InvalidInputException;
import java.io.Serializable;

/**
 * Everything that determines an encoder instance; the key under which one encoder is shared per JVM.
 *
 * @param model which model ({@code encoder.model})
 * @param batchSize texts per forward pass ({@code encoder.batchSize})
 * @param maxTokens truncation length in tokens, special tokens included ({@code encoder.maxTokens})
 * @param threads ONNX Runtime intra-op threads per forward pass ({@code encoder.threadsPerTask})
 */
public record EncoderSettings(ModelSpec model, int batchSize, int maxTokens, int threads) implements Serializable {
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
  }

  public static EncoderSettings defaults(String model) {
    return new EncoderSettings(new ModelSpec(model), 32, 128, 1);
  }
}
