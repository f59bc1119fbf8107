package dev.itemsim.embed;

/** {@code encoder.engine}: which DJL engine runs the model. */
public enum EngineChoice {
  /**
   * ONNX Runtime when the model has an ONNX graph and runs on CPU (faster here: docs/BENCHMARKS.md),
   * PyTorch when it runs on a GPU or has only safetensors / TorchScript weights.
   */
  AUTO,
  /** DJL's ONNX Runtime engine (CPU build) running the model's ONNX graph. */
  ONNXRUNTIME,
  /** DJL's PyTorch engine: TorchScript as is, or itemsim's BERT on NDArray ops from safetensors / ONNX weights. */
  PYTORCH;

  public static EngineChoice parse(String value) {
    return Choices.parse(EngineChoice.class, "encoder.engine", value);
  }
}
