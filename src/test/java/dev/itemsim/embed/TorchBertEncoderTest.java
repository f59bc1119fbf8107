package dev.itemsim.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.util.cuda.CudaUtils;
import dev.itemsim.InvalidInputException;
import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIf;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TorchBertEncoderTest {
  @TempDir
  Path dir;

  private static EncoderSettings on(String model, EngineChoice engine) {
    return new EncoderSettings(new ModelSpec(model), 32, 128, 1, engine, DeviceChoice.CPU, false, null);
  }

  @ParameterizedTest
  @CsvSource({"builtin:all-minilm-l6-v2, en", "builtin:bge-small-zh-v15, zh"})
  void pytorchEqualsOnnxRuntimeOnTwoHundredTitles(String model, String language) {
    List<String> titles = language.equals("en") ? SparkTestSupport.sampleTitles(200)
        : SparkTestSupport.chineseTitles(200);
    assertThat(titles).hasSize(200);
    float[][] ort = SharedEncoders.get(on(model, EngineChoice.ONNXRUNTIME)).encode(titles).vectors();
    SentenceEncoder torch = SharedEncoders.get(on(model, EngineChoice.PYTORCH));
    assertThat(SharedEncoders.unwrap(torch)).isInstanceOf(TorchBertEncoder.class);
    float[][] pt = torch.encode(titles).vectors();
    for (int i = 0; i < titles.size(); i++) {
      assertThat(Vectors.cosine(pt[i], ort[i])).as("%s title %d '%s'", model, i, titles.get(i))
          .isGreaterThanOrEqualTo(0.9999);
    }
  }

  /** For JUnit's {@code @EnabledIf}: a CUDA device is visible to DJL. */
  static boolean gpuVisible() {
    return CudaUtils.getGpuCount() > 0;
  }

  @Test
  @EnabledIf("gpuVisible")
  void gpuEqualsCpuInFp32AndNearlySoInFp16() {
    List<String> titles = SparkTestSupport.sampleTitles(100);
    float[][] cpu = SharedEncoders.get(on("builtin:all-minilm-l6-v2", EngineChoice.PYTORCH)).encode(titles).vectors();
    for (boolean fp16 : new boolean[] {false, true}) {
      float[][] gpu = SharedEncoders.get(new EncoderSettings(new ModelSpec("builtin:all-minilm-l6-v2"), 32, 128, 1,
          EngineChoice.PYTORCH, DeviceChoice.GPU, fp16, null)).encode(titles).vectors();
      for (int i = 0; i < titles.size(); i++) {
        assertThat(Vectors.cosine(gpu[i], cpu[i])).as("fp16=%s %s", fp16, titles.get(i))
            .isGreaterThanOrEqualTo(fp16 ? 0.999 : 0.9999);
      }
    }
  }

  @Test
  @DisabledIf("gpuVisible")
  void askingForAGpuWhereThereIsNoneIsAClearError() {
    assertThatThrownBy(() -> Encoders.load(new EncoderSettings(new ModelSpec("builtin:all-minilm-l6-v2"), 32, 128, 1,
        EngineChoice.PYTORCH, DeviceChoice.GPU, false, null)))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("sees no GPU");
  }

  @Test
  void builtinChineseModelUsesClsPooling() {
    BatchingEncoder encoder = (BatchingEncoder) SharedEncoders.unwrap(SharedEncoders.get(on("builtin:bge-small-zh-v15",
        EngineChoice.PYTORCH)));
    assertThat(encoder.pooling()).isEqualTo(Pooling.CLS);
    assertThat(encoder.dimension()).isEqualTo(512);
  }

  @Test
  void tinySafetensorsBertMatchesTheReferenceForwardPass() throws Exception {
    TinyBert bert = new TinyBert(11);
    Path folder = bert.writeFolder(dir.resolve("tiny"), "bert.");
    List<String> texts = List.of("Sony Bravia 46\" LCD TV KDL-46V5100", "a", "usb cable",
        "Canon PowerShot SD1100 IS 8MP digital camera with 3x optical zoom, silver");
    try (SentenceEncoder encoder = Encoders.load(new EncoderSettings(new ModelSpec(folder.toString()), 3, 128, 1));
        HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder().optTokenizerPath(folder.resolve("tokenizer.json"))
            .optPadding(false).optTruncation(true).optMaxLength(128).build()) {
      assertThat(encoder).isInstanceOf(TorchBertEncoder.class);  // auto: no ONNX graph → PyTorch
      float[][] vectors = encoder.encode(texts).vectors();
      for (int i = 0; i < texts.size(); i++) {
        float[] expected = bert.reference(tokenizer, texts.get(i));
        assertThat(Vectors.cosine(vectors[i], expected)).as(texts.get(i)).isGreaterThan(0.99999);
      }
      // Random weights make unrelated texts point in different directions: the check above can fail.
      assertThat(Vectors.cosine(vectors[0], vectors[2])).isLessThan(0.999);
    }
  }

  @Test
  void missingOrMisshapedOrWronglyTypedTensorsFailNamingThem() throws Exception {
    TinyBert bert = new TinyBert(3);
    Path folder = bert.writeFolder(dir.resolve("m"), "");
    Path weights = folder.resolve("model.safetensors");
    EncoderSettings settings = on(folder.toString(), EngineChoice.PYTORCH);

    bert.writeSafetensors(weights, "", Map.of("encoder.layer.1.output.dense.bias", ""));
    assertThatThrownBy(() -> Encoders.load(settings)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("has no tensor 'encoder.layer.1.output.dense.bias'");

    bert.writeSafetensors(weights, "", Map.of("encoder.layer.0.intermediate.dense.weight",
        "{\"dtype\":\"F32\",\"shape\":[16,32],\"data_offsets\":[0,2048]}"));
    assertThatThrownBy(() -> Encoders.load(settings)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'encoder.layer.0.intermediate.dense.weight' has shape [16, 32], expected [32, 16]");

    bert.writeSafetensors(weights, "", Map.of("embeddings.LayerNorm.bias",
        "{\"dtype\":\"I32\",\"shape\":[16],\"data_offsets\":[0,64]}"));
    assertThatThrownBy(() -> Encoders.load(settings)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'embeddings.LayerNorm.bias' has dtype I32");

    byte[] whole = Files.readAllBytes(weights);
    Files.write(weights, java.util.Arrays.copyOf(whole, whole.length / 2));
    assertThatThrownBy(() -> Encoders.load(settings)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("truncated");

    Files.write(weights, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> Encoders.load(settings)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining(weights.toString());
  }

  @Test
  void configOfAnotherArchitectureIsRefused() throws Exception {
    Path folder = new TinyBert(5).writeFolder(dir.resolve("c"), "");
    Files.writeString(folder.resolve("config.json"), TinyBert.configJson().replace("\"gelu\"", "\"relu\""));
    assertThatThrownBy(() -> Encoders.load(on(folder.toString(), EngineChoice.PYTORCH)))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("hidden_act = 'relu' is not supported");
  }

  @Test
  void refusesPickledWeightsSayingWhyAndHowToConvert() throws Exception {
    Path folder = Files.createDirectories(dir.resolve("bin"));
    Files.copy(new ModelSpec("builtin:all-minilm-l6-v2").resolve().tokenizer(), folder.resolve("tokenizer.json"));
    Files.write(folder.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
    assertThatThrownBy(() -> new ModelSpec(folder.toString()).resolve()).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("pytorch_model.bin").hasMessageContaining("can execute arbitrary code")
        .hasMessageContaining("safe_serialization=True");
  }

  @Test
  void quantisedModelOnPytorchAndGpuOnOnnxRuntimeAreClearErrors() {
    assertThatThrownBy(() -> Encoders.load(on("builtin:all-minilm-l6-v2-q", EngineChoice.PYTORCH)))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("int8-quantised");
    assertThatThrownBy(() -> Encoders.load(new EncoderSettings(new ModelSpec("builtin:all-minilm-l6-v2"), 32, 128, 1,
        EngineChoice.ONNXRUNTIME, DeviceChoice.GPU, false, null)))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("CPU build");
    assertThatThrownBy(() -> new EncoderSettings(new ModelSpec("builtin:all-minilm-l6-v2"), 32, 128, 1,
        EngineChoice.PYTORCH, DeviceChoice.CPU, true, null))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("encoder.fp16 = true needs");
  }
}
