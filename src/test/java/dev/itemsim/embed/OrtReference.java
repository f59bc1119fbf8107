package dev.itemsim.embed;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.LongBuffer;
import java.util.Map;

/**
 * The reference the encoder is checked against: a plain ONNX Runtime Java session run on one text at a time
 * (no batching, no padding), mean-pooled and normalised here, independently of itemsim's code.
 */
final class OrtReference implements AutoCloseable {
  // DJL's engine creates the process-wide OrtEnvironment with its own options: let it go first.
  private final OrtEnvironment env = initAfterDjl();
  private final OrtSession session;
  private final HuggingFaceTokenizer tokenizer;

  OrtReference(ModelFiles files, int maxTokens) throws Exception {
    session = env.createSession(files.onnx().toString(), new OrtSession.SessionOptions());
    tokenizer = HuggingFaceTokenizer.builder().optTokenizerPath(files.tokenizer()).optTruncation(true)
        .optMaxLength(maxTokens).optPadding(false).build();
  }

  private static OrtEnvironment initAfterDjl() {
    ai.djl.engine.Engine.getEngine("OnnxRuntime");
    return OrtEnvironment.getEnvironment();
  }

  float[] embed(String text) throws Exception {
    Encoding e = tokenizer.encode(text);
    long[] shape = {1, e.getIds().length};
    try (OnnxTensor ids = OnnxTensor.createTensor(env, LongBuffer.wrap(e.getIds()), shape);
        OnnxTensor mask = OnnxTensor.createTensor(env, LongBuffer.wrap(e.getAttentionMask()), shape);
        OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(e.getTypeIds()), shape);
        OrtSession.Result result = session.run(Map.of("input_ids", ids, "attention_mask", mask,
            "token_type_ids", types))) {
      float[][][] hidden = (float[][][]) result.get(0).getValue();
      int h = hidden[0][0].length;
      double[] sum = new double[h];
      for (float[] token : hidden[0]) {
        for (int k = 0; k < h; k++) {
          sum[k] += token[k];
        }
      }
      double norm = 0;
      for (double s : sum) {
        norm += s * s;
      }
      float[] v = new float[h];
      for (int k = 0; k < h; k++) {
        v[k] = (float) (sum[k] / Math.sqrt(norm));
      }
      return v;
    }
  }

  int tokenCount(String text) {
    return tokenizer.encode(text).getIds().length;
  }

  @Override
  public void close() throws Exception {
    session.close();
    tokenizer.close();
  }
}
