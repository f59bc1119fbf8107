package dev.itemsim.embed;

import dev.itemsim.InvalidInputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A model's files on local disk, ready to load. At least one of the weight files is present; which engines
 * can run the model follows from which ({@link #onnx()} for ONNX Runtime; {@link #safetensors()},
 * {@link #torchScript()} or a float32 {@link #onnx()} for PyTorch).
 *
 * @param tokenizer HuggingFace {@code tokenizer.json}
 * @param onnx ONNX graph with weights, or null
 * @param safetensors HuggingFace {@code model.safetensors}, or null
 * @param torchScript TorchScript module ({@code model.pt}), or null
 * @param config HuggingFace {@code config.json}, or null
 * @param builtinConfig the architecture of a built-in model (instead of {@code config}), or null
 * @param pooling the model's own pooling (sentence-transformers' {@code 1_Pooling/config.json}, else mean)
 * @param quantized whether the ONNX weights are int8 (ONNX Runtime only)
 */
public record ModelFiles(Path tokenizer, Path onnx, Path safetensors, Path torchScript, Path config,
    BertConfig builtinConfig, Pooling pooling, boolean quantized) {

  /** The BERT architecture: the built-in's, else the folder's {@code config.json}. */
  public BertConfig bertConfig() {
    if (builtinConfig != null) {
      return builtinConfig;
    }
    if (config == null) {
      throw new InvalidInputException("Model " + where() + " has no config.json: the PyTorch BERT encoder needs "
          + "it for the number of attention heads and layers (HuggingFace folders ship one)");
    }
    return BertConfig.fromJson(config);
  }

  /** The folder (or cache folder) holding the files, for messages. */
  public Path where() {
    return tokenizer.getParent();
  }

  /** The weight files present, for messages. */
  public List<String> weightFiles() {
    List<String> names = new ArrayList<>();
    for (Path p : new Path[] {onnx, safetensors, torchScript}) {
      if (p != null) {
        names.add(p.getFileName().toString());
      }
    }
    return names;
  }
}
