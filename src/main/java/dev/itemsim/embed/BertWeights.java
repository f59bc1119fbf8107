package dev.itemsim.embed;

import dev.itemsim.InvalidInputException;
import java.nio.file.Path;

/**
 * BERT weights addressed by HuggingFace {@code BertModel} names, whatever file they come from. Linear
 * weights are returned as [in, out] (the layout {@code x · W} needs); everything else in its natural shape.
 * Every read checks the shape and fails naming the tensor, the file and both shapes.
 */
interface BertWeights {

  /** An embedding table, bias or LayerNorm parameter, e.g. {@code embeddings.LayerNorm.weight}. */
  float[] tensor(String name, long... shape);

  /**
   * The weight of linear {@code module} of encoder layer {@code layer} (e.g. {@code attention.self.query},
   * {@code intermediate.dense}) as [in, out].
   */
  float[] linear(int layer, String module, int in, int out);

  /** A HuggingFace {@code model.safetensors} (names optionally prefixed {@code bert.}; linears stored [out, in]). */
  static BertWeights safetensors(Path file) {
    Safetensors st = Safetensors.open(file);
    String prefix = !st.tensors().containsKey("embeddings.word_embeddings.weight")
        && st.tensors().containsKey("bert.embeddings.word_embeddings.weight") ? "bert." : "";
    return new BertWeights() {
      @Override
      public float[] tensor(String name, long... shape) {
        return st.floats(prefix + name, shape);
      }

      @Override
      public float[] linear(int layer, String module, int in, int out) {
        float[] outIn = st.floats(prefix + "encoder.layer." + layer + "." + module + ".weight", out, in);
        float[] inOut = new float[outIn.length];
        for (int o = 0; o < out; o++) {
          for (int i = 0; i < in; i++) {
            inOut[i * out + o] = outIn[o * in + i];
          }
        }
        return inOut;
      }
    };
  }

  /**
   * The float32 initialisers of an ONNX BERT export: biases and LayerNorms by name, MatMul weights (stored
   * [in, out] under generated names) through their nodes, e.g. {@code /encoder/layer.0/attention/self/query/MatMul}.
   */
  static BertWeights onnx(Path file) {
    OnnxWeights w = OnnxWeights.read(file);
    return new BertWeights() {
      @Override
      public float[] tensor(String name, long... shape) {
        return w.get(name, shape).values();
      }

      @Override
      public float[] linear(int layer, String module, int in, int out) {
        String node = "/encoder/layer." + layer + "/" + module.replace('.', '/') + "/MatMul";
        try {
          return w.get(w.matMulWeightOf(node), in, out).values();
        } catch (InvalidInputException e) {
          throw new InvalidInputException(e.getMessage() + " (the PyTorch engine reads float32 BERT exports"
              + " whose MatMul nodes keep HuggingFace module paths; quantised int8 models run on onnxruntime only)");
        }
      }
    };
  }
}
