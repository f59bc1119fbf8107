package dev.itemsim.embed;

import ai.djl.MalformedModelException;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * BERT-family sentence encoder on DJL's ONNX Runtime engine with a HuggingFace tokenizer.
 *
 * <p>Texts are tokenised once, ordered by token length, cut into batches of {@code batchSize} and padded only
 * to the longest text of their batch (dynamic padding); the model's {@code last_hidden_state} is pooled
 * (mean over the attention mask, or CLS) and L2-normalised, and vectors are returned in input order.
 */
public final class OnnxSentenceEncoder implements SentenceEncoder {
  private static final Logger LOG = LoggerFactory.getLogger(OnnxSentenceEncoder.class);

  private final EncoderSettings settings;
  private final HuggingFaceTokenizer tokenizer;
  private final ZooModel<NDList, NDList> model;
  private final Pooling pooling;
  private volatile int dimension = -1;

  private OnnxSentenceEncoder(EncoderSettings settings, HuggingFaceTokenizer tokenizer,
      ZooModel<NDList, NDList> model, Pooling pooling) {
    this.settings = settings;
    this.tokenizer = tokenizer;
    this.model = model;
    this.pooling = pooling;
  }

  /** Resolves the model's files and loads tokenizer and ONNX session. */
  public static OnnxSentenceEncoder load(EncoderSettings settings) {
    DjlRuntime.configureOffline();
    long start = System.nanoTime();
    ModelFiles files = settings.model().resolve();
    try {
      HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder()
          .optTokenizerPath(files.tokenizer())
          .optAddSpecialTokens(true)
          .optTruncation(true)
          .optMaxLength(settings.maxTokens())
          .optPadding(false)
          .build();
      Criteria<NDList, NDList> criteria = Criteria.builder()
          .setTypes(NDList.class, NDList.class)
          .optEngine("OnnxRuntime")
          .optModelPath(files.onnx())
          .optTranslator(new NoopTranslator())
          .optOption("intraOpNumThreads", Integer.toString(settings.threads()))
          .optOption("interOpNumThreads", "1")
          .build();
      ZooModel<NDList, NDList> model = criteria.loadModel();
      LOG.info("Loaded {} ({}) in {} ms", settings.model(), files.onnx().getFileName(),
          (System.nanoTime() - start) / 1_000_000);
      return new OnnxSentenceEncoder(settings, tokenizer, model, files.pooling());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot load model " + settings.model() + " from " + files, e);
    } catch (ModelNotFoundException | MalformedModelException e) {
      throw new IllegalStateException("Cannot load model " + settings.model() + " from " + files + ": "
          + e.getMessage(), e);
    }
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
    try (Predictor<NDList, NDList> predictor = model.newPredictor()) {
      for (int from = 0; from < n; from += settings.batchSize()) {
        int to = Math.min(n, from + settings.batchSize());
        int[] batch = new int[to - from];
        for (int i = from; i < to; i++) {
          batch[i - from] = byLength[i];
          tokens += encodings[byLength[i]].getIds().length;
        }
        int seqLen = encodings[batch[batch.length - 1]].getIds().length;
        padded += (long) seqLen * batch.length;
        runBatch(predictor, encodings, batch, seqLen, out);
      }
    } catch (TranslateException e) {
      throw new IllegalStateException("Model " + settings.model() + " failed on a batch: " + e.getMessage(), e);
    }
    return new Encoded(out, tokens, padded);
  }

  private void runBatch(Predictor<NDList, NDList> predictor, Encoding[] encodings, int[] batch, int seqLen,
      float[][] out) throws TranslateException {
    int b = batch.length;
    long[] ids = new long[b * seqLen];
    long[] mask = new long[b * seqLen];
    long[] types = new long[b * seqLen];
    for (int r = 0; r < b; r++) {
      Encoding e = encodings[batch[r]];
      long[] eIds = e.getIds();
      long[] eMask = e.getAttentionMask();
      long[] eTypes = e.getTypeIds();
      System.arraycopy(eIds, 0, ids, r * seqLen, eIds.length);
      System.arraycopy(eMask, 0, mask, r * seqLen, eMask.length);
      System.arraycopy(eTypes, 0, types, r * seqLen, eTypes.length);
    }
    try (NDManager manager = model.getNDManager().newSubManager()) {
      Shape shape = new Shape(b, seqLen);
      NDArray idsArray = manager.create(ids, shape);
      idsArray.setName("input_ids");
      NDArray maskArray = manager.create(mask, shape);
      maskArray.setName("attention_mask");
      NDArray typesArray = manager.create(types, shape);
      typesArray.setName("token_type_ids");
      NDList result = predictor.predict(new NDList(idsArray, maskArray, typesArray));
      NDArray hidden = lastHiddenState(result);
      int h = (int) hidden.getShape().get(2);
      float[] values = hidden.toFloatArray();
      dimension = h;
      for (int r = 0; r < b; r++) {
        out[batch[r]] = pool(values, r, seqLen, h, mask);
      }
      result.close();
    }
  }

  private static NDArray lastHiddenState(NDList result) {
    NDArray named = result.get("last_hidden_state");
    if (named != null) {
      return named;
    }
    for (NDArray a : result) {
      if (a.getShape().dimension() == 3) {
        return a;
      }
    }
    throw new IllegalStateException("Model output has no [batch, tokens, hidden] tensor: " + result);
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
    model.close();
    tokenizer.close();
  }
}
