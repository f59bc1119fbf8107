package dev.itemsim.embed;

import dev.itemsim.InvalidInputException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code encoder.model} names: a built-in model ({@code builtin:NAME}, shipped inside a Maven jar on the
 * classpath) or a local folder holding {@code model.onnx} and {@code tokenizer.json}. Resolution to files
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
          + BuiltinModel.names() + ") nor an existing folder");
    }
    Path onnx = dir.resolve("model.onnx");
    Path tokenizer = dir.resolve("tokenizer.json");
    for (Path p : new Path[] {onnx, tokenizer}) {
      if (!Files.isRegularFile(p)) {
        throw new InvalidInputException("Model folder " + dir + " has no " + p.getFileName()
            + " (a model folder needs model.onnx and tokenizer.json)");
      }
    }
    return new ModelFiles(onnx, tokenizer, Pooling.MEAN);
  }

  @Override
  public String toString() {
    return value;
  }
}
