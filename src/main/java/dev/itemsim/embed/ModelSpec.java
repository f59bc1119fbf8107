package dev.itemsim.embed;

import dev.itemsim.InvalidInputException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code encoder.model} names: a built-in model ({@code builtin:NAME}, shipped inside a Maven jar on the
 * classpath) or a local folder holding {@code tokenizer.json} and weights as {@code model.onnx},
 * {@code model.safetensors} (with {@code config.json}) or TorchScript {@code model.pt}. A folder with only
 * {@code pytorch_model.bin} is refused: loading a pickle can execute code. A folder with a
 * {@value ModelChecksums#FILE} is verified against it ({@link ModelChecksums}). Resolution to files
 * happens on whichever JVM encodes (driver or executor), so a spec is just its string.
 */
public record ModelSpec(String value) implements Serializable {
  public static final String BUILTIN_PREFIX = "builtin:";

  public ModelSpec {
    if (value == null || value.isBlank()) {
      throw new InvalidInputException("encoder.model is empty: use builtin:all-minilm-l6-v2 or a model folder");
    }
    value = value.trim();
    if (value.startsWith(BUILTIN_PREFIX)) {
      BuiltinModel.named(value.substring(BUILTIN_PREFIX.length()));
    }
  }

  public boolean isBuiltin() {
    return value.startsWith(BUILTIN_PREFIX);
  }

  /** Locates (and for built-ins, extracts and verifies) the model files. */
  public ModelFiles resolve() {
    if (isBuiltin()) {
      return BuiltinModel.named(value.substring(BUILTIN_PREFIX.length())).extract(ModelCache.defaultDir());
    }
    Path dir = Path.of(value);
    if (!Files.isDirectory(dir)) {
      throw new InvalidInputException("encoder.model '" + value + "' is neither builtin:NAME (one of "
          + BuiltinModel.names() + ") nor an existing folder (on a cluster a model folder must exist at this path "
          + "on the driver and on every executor: a shared mount, or ship it with --archives)");
    }
    Path tokenizer = dir.resolve("tokenizer.json");
    if (!Files.isRegularFile(tokenizer)) {
      throw new InvalidInputException("Model folder " + dir + " has no tokenizer.json (a model folder needs "
          + "tokenizer.json and model.onnx, model.safetensors or model.pt)");
    }
    Path onnx = existing(dir.resolve("model.onnx"));
    Path safetensors = existing(dir.resolve("model.safetensors"));
    Path torchScript = existing(dir.resolve("model.pt"));
    if (onnx == null && safetensors == null && torchScript == null) {
      if (Files.exists(dir.resolve("pytorch_model.bin"))) {
        throw new InvalidInputException(PICKLE_REFUSED.formatted(dir));
      }
      throw new InvalidInputException("Model folder " + dir + " has no model.onnx, model.safetensors or model.pt"
          + " (a model folder needs tokenizer.json and one of them)");
    }
    Path config = existing(dir.resolve("config.json"));
    Path poolingConfig = existing(dir.resolve("1_Pooling/config.json"));
    List<Path> read = new ArrayList<>();
    for (Path p : new Path[] {tokenizer, onnx, safetensors, torchScript, config, poolingConfig}) {
      if (p != null) {
        read.add(p);
      }
    }
    ModelChecksums.verify(dir, read);
    return new ModelFiles(tokenizer, onnx, safetensors, torchScript, config, null, folderPooling(dir), false);
  }

  static final String PICKLE_REFUSED = "Model folder %s holds its weights only as pytorch_model.bin, which "
      + "itemsim does not load: it is a Python pickle, and unpickling can execute arbitrary code. Convert it "
      + "once to safetensors (python -c \"from transformers import AutoModel; AutoModel.from_pretrained('DIR')"
      + ".save_pretrained('DIR', safe_serialization=True)\") or export ONNX (optimum-cli export onnx --model "
      + "DIR OUT), then point encoder.model at the result.";

  private static Path existing(Path p) {
    return Files.isRegularFile(p) ? p : null;
  }

  /** sentence-transformers' {@code 1_Pooling/config.json} when present (CLS or mean), else mean. */
  private static Pooling folderPooling(Path dir) {
    Path pooling = dir.resolve("1_Pooling/config.json");
    if (!Files.isRegularFile(pooling)) {
      return Pooling.MEAN;
    }
    try {
      var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(pooling.toFile());
      if (root.path("pooling_mode_cls_token").asBoolean(false)) {
        return Pooling.CLS;
      }
      if (root.path("pooling_mode_mean_tokens").asBoolean(false)) {
        return Pooling.MEAN;
      }
      throw new InvalidInputException(pooling + " asks for a pooling other than CLS or mean tokens; set "
          + "encoder.pooling = mean or cls explicitly");
    } catch (java.io.IOException e) {
      throw new InvalidInputException("Cannot read " + pooling + ": " + e.getMessage());
    }
  }

  @Override
  public String toString() {
    return value;
  }
}
