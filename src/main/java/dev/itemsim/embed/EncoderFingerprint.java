package dev.itemsim.embed;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * Names everything that decides the vector an encoder gives a text, so a vector stored by an earlier run can
 * be reused exactly when its text and this fingerprint are unchanged.
 *
 * <p>What counts:
 * <ul>
 *   <li>the model's content: for a built-in model its name and the SHA-256 of its ONNX graph and tokenizer
 *       (the digests the model cache verified when it extracted them) with its architecture; for a folder
 *       the SHA-256 of every file that can shape a vector ({@code tokenizer.json}, {@code model.onnx},
 *       {@code model.safetensors}, {@code model.pt}, {@code config.json}, {@code 1_Pooling/config.json}),
 *       wherever the folder lies;
 *   <li>the pooling in effect ({@code encoder.pooling}, or the model's own for {@code auto});
 *   <li>the truncation length ({@code encoder.maxTokens});
 *   <li>half precision ({@code encoder.fp16}), which moves vectors far more than rounding does;
 *   <li>{@link #VECTOR_FORMAT}: how itemsim turns token vectors into a stored vector, changed by hand when
 *       that code changes what it computes.
 * </ul>
 * What does not count, because it changes a vector only in the last bits of rounding: the engine, the
 * device, the batch size and the threads per task. The text template is not part of it either: stored
 * vectors are keyed by the hash of the text itself, which the template shapes.
 *
 * @param value {@code v1-} followed by 32 hex digits (128 bits of SHA-256 over {@link #description}); the
 *     value stored beside every vector
 * @param description the canonical text the value digests, for logs and error messages
 */
public record EncoderFingerprint(String value, String description) implements Serializable {
  /**
   * Version of the vector computation outside the model: L2-normalised float32 pooled from the last hidden
   * states, tokenizer with special tokens and truncation, no padding in the pooled vector.
   */
  public static final String VECTOR_FORMAT = "itemsim-vectors-1";

  private static final String VERSION = "v1-";

  /** The fingerprint of {@code settings}, resolving (for built-ins: extracting and verifying) the model files. */
  public static EncoderFingerprint of(EncoderSettings settings) {
    return of(settings, settings.model().resolve());
  }

  /** The fingerprint of {@code settings} whose model resolved to {@code files}. */
  public static EncoderFingerprint of(EncoderSettings settings, ModelFiles files) {
    List<String> parts = new ArrayList<>();
    parts.add("format=" + VECTOR_FORMAT);
    if (settings.model().isBuiltin()) {
      parts.add("model=" + settings.model().value());
      parts.add("architecture=" + files.builtinConfig());
      parts.add("quantized=" + files.quantized());
      parts.add("onnx=" + ModelCache.verifiedDigest(files.onnx()));
      parts.add("tokenizer=" + ModelCache.verifiedDigest(files.tokenizer()));
    } else {
      parts.add("model=folder");
      Path dir = files.where();
      for (String name : List.of("tokenizer.json", "model.onnx", "model.safetensors", "model.pt", "config.json",
          "1_Pooling/config.json")) {
        Path file = dir.resolve(name);
        if (Files.isRegularFile(file)) {
          parts.add(name + "=" + digest(file));
        }
      }
    }
    Pooling pooling = settings.pooling() != null ? settings.pooling() : files.pooling();
    parts.add("pooling=" + pooling.name().toLowerCase(Locale.ROOT));
    parts.add("maxTokens=" + settings.maxTokens());
    parts.add("fp16=" + settings.fp16());
    String description = String.join(" ", parts);
    return new EncoderFingerprint(VERSION + sha256(description).substring(0, 32), description);
  }

  private static String digest(Path file) {
    try {
      return ModelCache.sha256(file);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read model file " + file + " to fingerprint the encoder", e);
    }
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return value;
  }
}
