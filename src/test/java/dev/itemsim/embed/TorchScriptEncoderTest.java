package dev.itemsim.embed;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchScriptEncoderTest {
  private static final int VOCAB = 30522;
  private static final int HIDDEN = 8;

  @Test
  void runsATorchScriptModuleOnPytorchAndPoolsItsTokenVectors(@TempDir Path dir) throws Exception {
    float[] table = new float[VOCAB * HIDDEN];
    Random random = new Random(5);
    for (int i = 0; i < table.length; i++) {
      table[i] = (float) random.nextGaussian();
    }
    Files.copy(new ModelSpec("builtin:all-minilm-l6-v2").resolve().tokenizer(), dir.resolve("tokenizer.json"));
    TorchScriptFixture.write(dir.resolve("model.pt"), table, VOCAB, HIDDEN);
    List<String> texts = List.of("usb cable", "Sony Bravia 46\" LCD TV KDL-46V5100", "a");
    try (SentenceEncoder encoder = Encoders.load(new EncoderSettings(new ModelSpec(dir.toString()), 2, 128, 1));
        HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder()
            .optTokenizerPath(dir.resolve("tokenizer.json")).optPadding(false).build()) {
      assertThat(encoder).isInstanceOf(GraphEncoder.class);  // auto: only model.pt → PyTorch, module as is
      float[][] vectors = encoder.encode(texts).vectors();
      for (int i = 0; i < texts.size(); i++) {
        Encoding e = tokenizer.encode(texts.get(i));
        float[] mean = new float[HIDDEN];
        for (long id : e.getIds()) {
          for (int k = 0; k < HIDDEN; k++) {
            mean[k] += table[(int) id * HIDDEN + k] / e.getIds().length;
          }
        }
        assertThat(Vectors.cosine(vectors[i], Vectors.normalize(mean))).as(texts.get(i)).isGreaterThan(0.99999);
      }
    }
  }
}
