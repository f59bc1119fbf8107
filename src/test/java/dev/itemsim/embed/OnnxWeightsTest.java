package dev.itemsim.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxWeightsTest {
  @Test
  void findsEveryBertWeightOfTheBuiltInModel() {
    OnnxWeights w = OnnxWeights.read(new ModelSpec("builtin:all-minilm-l6-v2").resolve().onnx());
    assertThat(w.get("embeddings.word_embeddings.weight", 30522, 384).values()).hasSize(30522 * 384);
    w.get("embeddings.position_embeddings.weight", 512, 384);
    w.get("embeddings.token_type_embeddings.weight", 2, 384);
    float[] gamma = w.get("embeddings.LayerNorm.weight", 384).values();
    double mean = 0;
    for (float g : gamma) {
      mean += g / 384.0;
    }
    assertThat(mean).isBetween(0.2, 2.0);  // LayerNorm scales, not noise
    for (int layer = 0; layer < 6; layer++) {
      String prefix = "/encoder/layer." + layer;
      for (String node : new String[] {"/attention/self/query/MatMul", "/attention/self/key/MatMul",
          "/attention/self/value/MatMul", "/attention/output/dense/MatMul"}) {
        w.get(w.matMulWeightOf(prefix + node), 384, 384);
      }
      w.get(w.matMulWeightOf(prefix + "/intermediate/dense/MatMul"), 384, 1536);
      w.get(w.matMulWeightOf(prefix + "/output/dense/MatMul"), 1536, 384);
      w.get("encoder.layer." + layer + ".attention.self.query.bias", 384);
      w.get("encoder.layer." + layer + ".output.LayerNorm.weight", 384);
    }
    assertThatThrownBy(() -> w.get("embeddings.word_embeddings.weight", 384, 30522))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("has shape [30522, 384], expected [384, 30522]");
    assertThatThrownBy(() -> w.matMulWeightOf("/encoder/layer.9/attention/self/query/MatMul"))
        .hasMessageContaining("has no node");
  }

  @Test
  void truncatedModelIsAClearError(@TempDir Path dir) throws Exception {
    Path source = new ModelSpec("builtin:all-minilm-l6-v2").resolve().onnx();
    Path cut = dir.resolve("cut.onnx");
    try (var in = Files.newInputStream(source)) {
      Files.write(cut, in.readNBytes(1_000_000));
    }
    assertThatThrownBy(() -> OnnxWeights.read(cut)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("is corrupt: truncated message");
  }
}
