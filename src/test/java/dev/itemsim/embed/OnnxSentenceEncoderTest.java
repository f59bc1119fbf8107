package dev.itemsim.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OnnxSentenceEncoderTest {
  private static final String MODEL = "builtin:all-minilm-l6-v2";
  private static List<String> titles;
  private static List<float[]> reference;

  @BeforeAll
  static void computeReference() throws Exception {
    titles = SparkTestSupport.sampleTitles(50);
    reference = new ArrayList<>();
    try (OrtReference ort = new OrtReference(new ModelSpec(MODEL).resolve(), 128)) {
      for (String t : titles) {
        reference.add(ort.embed(t));
      }
    }
  }

  @AfterAll
  static void nothing() {}

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 32, 64})
  void matchesPlainOnnxRuntimeWhateverTheBatchSize(int batchSize) {
    SentenceEncoder encoder = SharedEncoders.get(new EncoderSettings(new ModelSpec(MODEL), batchSize, 128, 1));
    SentenceEncoder.Encoded encoded = encoder.encode(titles);
    for (int i = 0; i < titles.size(); i++) {
      assertThat(Vectors.cosine(encoded.vectors()[i], reference.get(i)))
          .as("title %d '%s'", i, titles.get(i)).isGreaterThanOrEqualTo(0.99999);
    }
    assertThat(encoded.paddedTokens()).isGreaterThanOrEqualTo(encoded.tokens());
  }

  @Test
  void keepsInputOrderWhenTextsArriveShuffled() {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < titles.size(); i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(7));
    List<String> shuffled = order.stream().map(titles::get).toList();
    float[][] vectors = SharedEncoders.get(EncoderSettings.defaults(MODEL)).encode(shuffled).vectors();
    for (int i = 0; i < shuffled.size(); i++) {
      assertThat(Vectors.cosine(vectors[i], reference.get(order.get(i)))).isGreaterThanOrEqualTo(0.99999);
    }
  }

  @Test
  void vectorsAreUnitLengthAndLengthSortingPadsLessThanArrivalOrder() throws Exception {
    SentenceEncoder.Encoded encoded = SharedEncoders.get(EncoderSettings.defaults(MODEL)).encode(titles);
    long arrivalOrderSlots = 0;
    try (OrtReference ort = new OrtReference(new ModelSpec(MODEL).resolve(), 128)) {
      for (int from = 0; from < titles.size(); from += 32) {
        int longest = 0;
        int to = Math.min(titles.size(), from + 32);
        for (int i = from; i < to; i++) {
          longest = Math.max(longest, ort.tokenCount(titles.get(i)));
        }
        arrivalOrderSlots += (long) longest * (to - from);
      }
    }
    assertThat(encoded.paddedTokens()).isLessThan(arrivalOrderSlots);
    for (float[] v : encoded.vectors()) {
      assertThat(v).hasSize(384);
      assertThat(Vectors.cosine(v, v)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
      double norm = 0;
      for (float x : v) {
        norm += x * x;
      }
      assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
    }
  }

  @Test
  void truncatesAtMaxTokens() throws Exception {
    String longText = String.join(" ", Collections.nCopies(300, "turntable"));
    EncoderSettings settings = new EncoderSettings(new ModelSpec(MODEL), 32, 16, 1);
    SentenceEncoder.Encoded encoded = SharedEncoders.get(settings).encode(List.of(longText, "short"));
    assertThat(encoded.tokens()).isEqualTo(16 + 3);
    try (OrtReference ort = new OrtReference(new ModelSpec(MODEL).resolve(), 16)) {
      assertThat(ort.tokenCount(longText)).isEqualTo(16);
      assertThat(Vectors.cosine(encoded.vectors()[0], ort.embed(longText))).isGreaterThanOrEqualTo(0.99999);
    }
  }

  @Test
  void encodesNothingWithoutFailing() {
    assertThat(SharedEncoders.get(EncoderSettings.defaults(MODEL)).encode(List.of()).vectors()).isEmpty();
  }

  @Test
  void sharesOneEncoderPerSettings() {
    EncoderSettings a = EncoderSettings.defaults(MODEL);
    EncoderSettings b = EncoderSettings.defaults(MODEL);
    assertThat(SharedEncoders.get(a)).isSameAs(SharedEncoders.get(b));
  }

  @Test
  void loadsALocalModelFolder(@TempDir Path dir) throws Exception {
    ModelFiles builtin = new ModelSpec(MODEL).resolve();
    Files.createSymbolicLink(dir.resolve("model.onnx"), builtin.onnx());
    Files.copy(builtin.tokenizer(), dir.resolve("tokenizer.json"));
    try (SentenceEncoder local = Encoders.load(EncoderSettings.defaults(dir.toString()))) {
      float[] v = local.encode(List.of(titles.get(0))).vectors()[0];
      assertThat(Vectors.cosine(v, reference.get(0))).isGreaterThanOrEqualTo(0.99999);
    }
  }

  @Test
  void rejectsUnknownModelsWithTheChoices(@TempDir Path dir) {
    assertThatThrownBy(() -> new ModelSpec("builtin:bert-huge"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("builtin:all-minilm-l6-v2");
    assertThatThrownBy(() -> new ModelSpec(dir.resolve("nope").toString()).resolve())
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("neither builtin:NAME");
    assertThatThrownBy(() -> new ModelSpec(dir.toString()).resolve())
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("has no tokenizer.json");
  }

  @Test
  void reExtractsACorruptedCachedModelFile(@TempDir Path cache) throws Exception {
    Path first = ModelCache.extractVerified("all-minilm-l6-v2-tokenizer.json", cache);
    String digest = ModelCache.sha256(first);
    Files.writeString(first, "{}");
    Path again = ModelCache.extractVerified("all-minilm-l6-v2-tokenizer.json", cache);
    assertThat(ModelCache.sha256(again)).isEqualTo(digest);
  }
}
