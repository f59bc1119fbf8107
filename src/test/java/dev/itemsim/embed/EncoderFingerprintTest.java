package dev.itemsim.embed;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fingerprint changes with everything that changes a vector (model content, pooling, truncation, half
 * precision) and with nothing that only changes how fast vectors are made (engine, device, batch, threads).
 * Model folders here hold placeholder weights: fingerprinting reads files, it never loads a model.
 */
class EncoderFingerprintTest {
  private static final String BUILTIN = "builtin:all-minilm-l6-v2";

  private static EncoderSettings settings(String model) {
    return EncoderSettings.defaults(model);
  }

  @Test
  void builtinModelIsStableAndIgnoresEngineDeviceBatchAndThreads() {
    EncoderSettings base = settings(BUILTIN);
    EncoderFingerprint f = EncoderFingerprint.of(base);
    assertThat(f.value()).matches("v1-[0-9a-f]{32}");
    assertThat(f.description()).contains("model=builtin:all-minilm-l6-v2").contains("pooling=mean")
        .contains("maxTokens=128");
    assertThat(EncoderFingerprint.of(base)).isEqualTo(f);
    EncoderSettings other = new EncoderSettings(base.model(), 7, 128, 3, EngineChoice.PYTORCH, DeviceChoice.CPU,
        false, null);
    assertThat(EncoderFingerprint.of(other).value()).isEqualTo(f.value());
    assertThat(EncoderFingerprint.of(base.withEngine(EngineChoice.ONNXRUNTIME)).value()).isEqualTo(f.value());
  }

  @Test
  void builtinDigestIsTheVerifiedContentDigest() throws Exception {
    ModelFiles files = new ModelSpec(BUILTIN).resolve();
    assertThat(EncoderFingerprint.of(settings(BUILTIN), files).description())
        .contains("onnx=" + ModelCache.sha256(files.onnx()))
        .contains("tokenizer=" + ModelCache.sha256(files.tokenizer()));
  }

  @Test
  void whatChangesAVectorChangesTheFingerprint() {
    EncoderSettings base = settings(BUILTIN);
    String f = EncoderFingerprint.of(base).value();
    assertThat(EncoderFingerprint.of(settings("builtin:all-minilm-l6-v2-q")).value()).isNotEqualTo(f);
    assertThat(EncoderFingerprint.of(new EncoderSettings(base.model(), 32, 64, 1)).value()).isNotEqualTo(f);
    EncoderSettings cls = new EncoderSettings(base.model(), 32, 128, 1, EngineChoice.AUTO, DeviceChoice.AUTO, false,
        Pooling.CLS);
    assertThat(EncoderFingerprint.of(cls).value()).isNotEqualTo(f);
    // naming the model's own pooling explicitly is the same computation
    EncoderSettings mean = new EncoderSettings(base.model(), 32, 128, 1, EngineChoice.AUTO, DeviceChoice.AUTO, false,
        Pooling.MEAN);
    assertThat(EncoderFingerprint.of(mean).value()).isEqualTo(f);
    EncoderSettings half = new EncoderSettings(base.model(), 32, 128, 1, EngineChoice.PYTORCH, DeviceChoice.AUTO,
        true, null);
    assertThat(EncoderFingerprint.of(half).value()).isNotEqualTo(f);
  }

  @Test
  void folderModelFollowsItsContentNotItsLocation(@TempDir Path dir) throws Exception {
    Path a = folder(dir.resolve("a"), "weights-1");
    Path b = folder(dir.resolve("elsewhere/b"), "weights-1");
    String fa = EncoderFingerprint.of(settings(a.toString())).value();
    assertThat(EncoderFingerprint.of(settings(b.toString())).value()).isEqualTo(fa);

    Files.writeString(b.resolve("model.onnx"), "weights-2");
    assertThat(EncoderFingerprint.of(settings(b.toString())).value()).isNotEqualTo(fa);

    Files.writeString(b.resolve("model.onnx"), "weights-1");
    assertThat(EncoderFingerprint.of(settings(b.toString())).value()).isEqualTo(fa);
    Files.createDirectories(b.resolve("1_Pooling"));
    Files.writeString(b.resolve("1_Pooling/config.json"), "{\"pooling_mode_mean_tokens\": true}");
    assertThat(EncoderFingerprint.of(settings(b.toString())).description()).contains("1_Pooling/config.json=");
    assertThat(EncoderFingerprint.of(settings(b.toString())).value()).isNotEqualTo(fa);

    Files.writeString(a.resolve("tokenizer.json"), "{\"other\": true}");
    assertThat(EncoderFingerprint.of(settings(a.toString())).value()).isNotEqualTo(fa);
  }

  private static Path folder(Path dir, String weights) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("tokenizer.json"), "{\"placeholder\": true}");
    Files.writeString(dir.resolve("model.onnx"), weights);
    return dir;
  }
}
