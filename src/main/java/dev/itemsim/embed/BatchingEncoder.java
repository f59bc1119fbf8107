package dev.itemsim.embed;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * The engine-independent half of a sentence encoder: texts are tokenised once with the model's HuggingFace
 * tokenizer, ordered by token length, cut into batches of {@code batchSize} and padded only to the longest
 * text of their batch (dynamic padding); a subclass runs the model on each batch ({@link #open}); token
 * vectors are pooled (mean over the attention mask, or CLS), L2-normalised and returned in input order.
 */
abstract class BatchingEncoder implements SentenceEncoder {
  protected final EncoderSettings settings;
  private final HuggingFaceTokenizer tokenizer;
  private final Pooling pooling;
  private volatile int dimension = -1;

  protected BatchingEncoder(EncoderSettings settings, ModelFiles files) {
    this.settings = settings;
    this.pooling = settings.pooling() != null ? settings.pooling() : files.pooling();
    this.tokenizer = tokenizer(files, settings.maxTokens());
  }

  /**
   * {@code build.get()}, closing {@code model} when it fails: for factories whose result would own the model
   * (its constructor builds the tokenizer, which can fail on a malformed tokenizer.json).
   */
  static <T> T owning(AutoCloseable model, Supplier<T> build) {
    try {
      return build.get();
    } catch (RuntimeException | Error e) {
      try {
        model.close();
      } catch (Exception cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  /**
   * The model's tokenizer as every itemsim encoder uses it: special tokens added, truncated to
   * {@code maxTokens}, no padding (the shipped tokenizer.json files pad to 128 by themselves; batches are
   * padded to their longest text instead).
   */
  static HuggingFaceTokenizer tokenizer(ModelFiles files, int maxTokens) {
    try {
      return HuggingFaceTokenizer.builder()
          .optTokenizerPath(files.tokenizer())
          .optAddSpecialTokens(true)
          .optTruncation(true)
          .optMaxLength(maxTokens)
          .optPadding(false)
          .build();
    } catch (IOException | RuntimeException e) {
      // the tokenizers library reports a malformed tokenizer.json as a runtime exception
      throw new dev.itemsim.InvalidInputException("Cannot load tokenizer " + files.tokenizer() + ": "
          + e.getMessage(), e);
    }
  }

  /** The model's forward pass for the batches of one {@link #encode} call. */
  protected interface Forward extends AutoCloseable {
    /**
     * Runs the model on one batch of {@code b} texts padded to {@code seqLen} tokens (row-major [b, seqLen]
     * ids, attention mask and token types) and returns the last hidden states, row-major [b, seqLen, hidden].
     */
    float[] run(long[] ids, long[] mask, long[] types, int b, int seqLen);

    @Override
    default void close() {}
  }

  /** Opens a forward pass for the batches of one {@link #encode} call (e.g. one predictor for all of them). */
  protected abstract Forward open();

  /** Releases the model (the tokenizer is closed by {@link #close()}). */
  protected abstract void closeModel();

  /** The pooling this encoder applies. */
  public Pooling pooling() {
    return pooling;
  }

  @Override
  public Encoded encode(List<String> texts) {
    int n = texts.size();
    float[][] out = new float[n][];
    if (n == 0) {
      return new Encoded(out, 0, 0);
    }
    Encoding[] encodings = tokenizer.batchEncode(texts);
    Integer[] byLength = new Integer[n];
    for (int i = 0; i < n; i++) {
      byLength[i] = i;
    }
    Arrays.sort(byLength, (a, b) -> Integer.compare(encodings[a].getIds().length, encodings[b].getIds().length));
    long tokens = 0;
    long padded = 0;
    try (Forward forward = open()) {
      for (int from = 0; from < n; from += settings.batchSize()) {
        int to = Math.min(n, from + settings.batchSize());
        int[] batch = new int[to - from];
        for (int i = from; i < to; i++) {
          batch[i - from] = byLength[i];
          tokens += encodings[byLength[i]].getIds().length;
        }
        int seqLen = encodings[batch[batch.length - 1]].getIds().length;
        padded += (long) seqLen * batch.length;
        runBatch(forward, encodings, batch, seqLen, out);
      }
    }
    return new Encoded(out, tokens, padded);
  }

  private void runBatch(Forward forward, Encoding[] encodings, int[] batch, int seqLen, float[][] out) {
    int b = batch.length;
    long[] ids = new long[b * seqLen];
    long[] mask = new long[b * seqLen];
    long[] types = new long[b * seqLen];
    for (int r = 0; r < b; r++) {
      Encoding e = encodings[batch[r]];
      System.arraycopy(e.getIds(), 0, ids, r * seqLen, e.getIds().length);
      System.arraycopy(e.getAttentionMask(), 0, mask, r * seqLen, e.getAttentionMask().length);
      System.arraycopy(e.getTypeIds(), 0, types, r * seqLen, e.getTypeIds().length);
    }
    float[] hidden = forward.run(ids, mask, types, b, seqLen);
    int h = hidden.length / (b * seqLen);
    dimension = h;
    for (int r = 0; r < b; r++) {
      out[batch[r]] = pool(hidden, r, seqLen, h, mask);
    }
  }

  /** Pools row {@code r} of {@code hidden} ([b, seqLen, h], row-major) and L2-normalises it. */
  private float[] pool(float[] hidden, int r, int seqLen, int h, long[] mask) {
    float[] v = new float[h];
    int base = r * seqLen * h;
    if (pooling == Pooling.CLS) {
      System.arraycopy(hidden, base, v, 0, h);
    } else {
      double[] sum = new double[h];
      int count = 0;
      for (int t = 0; t < seqLen; t++) {
        if (mask[r * seqLen + t] == 0) {
          continue;
        }
        count++;
        int off = base + t * h;
        for (int k = 0; k < h; k++) {
          sum[k] += hidden[off + k];
        }
      }
      for (int k = 0; k < h; k++) {
        v[k] = (float) (sum[k] / Math.max(count, 1));
      }
    }
    return Vectors.normalize(v);
  }

  @Override
  public int dimension() {
    if (dimension < 0) {
      encode(List.of("dimension probe"));
    }
    return dimension;
  }

  @Override
  public void close() {
    closeModel();
    tokenizer.close();
  }
}
