package dev.itemsim.embed;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.AdamW;
import ai.djl.training.tracker.Tracker;
import dev.itemsim.InvalidInputException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fine-tunes a BERT sentence encoder ({@link BertModel}) as a bi-encoder on pairs of texts that should be
 * close, on DJL's PyTorch engine: every weight is a parameter under autograd, pooling and L2 normalisation run
 * inside the graph, and each {@link #step} minimises the symmetric multiple-negatives ranking loss
 * ({@link #rankingLoss}) with AdamW (decoupled weight decay, none on biases and LayerNorms), a linear warm-up
 * then linear decay of the learning rate, and clipping of the gradients' global L2 norm.
 *
 * <p>Deterministic on CPU for a fixed seed, batches and thread count: the seed drives PyTorch's dropout RNG;
 * everything else is plain arithmetic.
 */
public final class ContrastiveTrainer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ContrastiveTrainer.class);

  /**
   * @param learningRate peak learning rate, reached after the warm-up
   * @param totalSteps optimiser steps planned (the decay reaches 0 there)
   * @param warmupSteps steps of linear warm-up from 0
   * @param weightDecay AdamW's decoupled weight decay (not applied to biases and LayerNorms)
   * @param maxGradNorm gradients are scaled down when their global L2 norm exceeds this (0: no clipping)
   * @param scale the loss's inverse temperature: cosines are multiplied by it before the softmax
   * @param dropout dropout rate while training (HuggingFace's places); 0 switches it off
   * @param seed PyTorch's RNG seed (dropout)
   */
  public record Options(double learningRate, int totalSteps, int warmupSteps, double weightDecay, double maxGradNorm,
      double scale, double dropout, long seed) {
    public Options {
      if (!(learningRate > 0) || totalSteps < 1 || warmupSteps < 0 || weightDecay < 0 || maxGradNorm < 0
          || !(scale > 0) || dropout < 0 || dropout >= 1) {
        throw new IllegalArgumentException("Invalid training options " + this);
      }
    }
  }

  /**
   * One batch: {@code anchors[i]} should be closest to {@code positives[i]}; every other positive (and every
   * negative) is a negative for it. {@code negatives} is empty, or holds one hard negative per anchor.
   */
  public record Batch(List<String> anchors, List<String> positives, List<String> negatives) {
    public Batch {
      if (anchors.size() != positives.size() || anchors.isEmpty()
          || !negatives.isEmpty() && negatives.size() != anchors.size()) {
        throw new IllegalArgumentException("A batch needs as many positives (and none or as many negatives) as "
            + "anchors: " + anchors.size() + ", " + positives.size() + ", " + negatives.size());
      }
    }

    public int size() {
      return anchors.size();
    }
  }

  /** The weights at one moment, held on the host: to encode with, or to write as a model folder. */
  public static final class Snapshot {
    private final BertWeights weights;

    private Snapshot(BertWeights weights) {
      this.weights = weights;
    }

    BertWeights weights() {
      return weights;
    }
  }

  private final EncoderSettings settings;
  private final ModelFiles files;
  private final Options options;
  private final BertModel model;
  private final HuggingFaceTokenizer tokenizer;
  private final Pooling pooling;
  private final Engine engine;
  private final StatefulAdamW decayed;
  private final StatefulAdamW undecayed;
  private long tokens;
  private int steps;
  private int plannedSteps;
  private int plannedWarmup;

  private ContrastiveTrainer(EncoderSettings settings, ModelFiles files, Options options, BertModel model) {
    this.settings = settings;
    this.files = files;
    this.options = options;
    this.model = model.trainable();
    this.tokenizer = BatchingEncoder.tokenizer(files, settings.maxTokens());
    this.pooling = settings.pooling() != null ? settings.pooling() : files.pooling();
    this.engine = Engine.getEngine(DjlRuntime.PYTORCH);
    this.plannedSteps = options.totalSteps();
    this.plannedWarmup = options.warmupSteps();
    this.decayed = adamW((float) options.weightDecay());
    this.undecayed = adamW(0f);
  }

  /**
   * Loads {@code settings.model()} (a BERT from safetensors or float32 ONNX weights) for training on the
   * device {@code encoder.device} picks, with PyTorch seeded by {@code options.seed()}.
   */
  public static ContrastiveTrainer open(EncoderSettings settings, Options options) {
    DjlRuntime.configureOffline();
    ModelFiles files = settings.model().resolve();
    return open(settings, files, options, BertModel.weightsOf(settings.model(), files), DataType.FLOAT32);
  }

  /** Training from {@code weights} in {@code dtype} (FLOAT64 for gradient checks). */
  static ContrastiveTrainer open(EncoderSettings settings, ModelFiles files, Options options, BertWeights weights,
      DataType dtype) {
    if (settings.fp16()) {
      throw new InvalidInputException("encoder.fp16 = true: fine-tuning runs in float32; unset encoder.fp16");
    }
    if (files.safetensors() == null && files.torchScript() != null) {
      throw new InvalidInputException("Model " + settings.model() + " is a TorchScript module (model.pt): itemsim "
          + "fine-tunes BERT weights from model.safetensors or a float32 model.onnx");
    }
    Device device = DjlRuntime.pytorchDevice(settings.device(), settings.threads());
    Engine.getEngine(DjlRuntime.PYTORCH).setRandomSeed((int) options.seed());
    BertConfig config = files.bertConfig();
    if (settings.maxTokens() > config.maxPositions()) {
      throw new InvalidInputException("encoder.maxTokens = " + settings.maxTokens() + " exceeds the model's "
          + "max_position_embeddings " + config.maxPositions());
    }
    BertModel model = BertModel.load(config, weights, device, dtype);
    LOG.info("Fine-tuning {} on {} ({} layers, hidden {}, {} parameters)", settings.model(), device, config.layers(),
        config.hiddenSize(), model.parameters().values().stream().mapToLong(NDArray::size).sum());
    return BatchingEncoder.owning(model, () -> new ContrastiveTrainer(settings, files, options, model));
  }

  private StatefulAdamW adamW(float weightDecay) {
    Tracker schedule = this::learningRate;
    return new StatefulAdamW(AdamW.builder().optLearningRateTracker(schedule).optWeightDecays(weightDecay));
  }

  /**
   * DJL's AdamW, remembering its moment arrays so that {@link #close} can free them: DJL detaches them from
   * every manager and nothing else frees them (two arrays the size of each parameter, per trainer).
   */
  static final class StatefulAdamW extends AdamW implements AutoCloseable {
    private final Set<NDArray> states = Collections.newSetFromMap(new IdentityHashMap<>());

    StatefulAdamW(AdamW.Builder builder) {
      super(builder);
    }

    @Override
    protected NDArray withDefaultState(Map<String, Map<Device, NDArray>> state, String key, Device device,
        Function<String, NDArray> defaultFunction) {
      NDArray array = super.withDefaultState(state, key, device, defaultFunction);
      synchronized (states) {
        states.add(array);
      }
      return array;
    }

    /** The moment arrays created so far. */
    List<NDArray> states() {
      synchronized (states) {
        return List.copyOf(states);
      }
    }

    @Override
    public void close() {
      synchronized (states) {
        states.forEach(NDArray::close);
        states.clear();
      }
    }
  }

  /**
   * The learning rate of update {@code t} (1-based, as DJL's optimisers count): {@code lr · t / warmup} during
   * the warm-up, then {@code lr · (total − s) / (total − warmup)} for step {@code s = t − 1}, down to 0 after
   * the last planned step.
   */
  float learningRate(int t) {
    return learningRate(options.learningRate(), plannedSteps, plannedWarmup, t);
  }

  static float learningRate(double lr, int total, int warmupSteps, int t) {
    int warmup = Math.min(warmupSteps, total);
    int step = t - 1;
    if (step < warmup) {
      return (float) (lr * (step + 1) / warmup);
    }
    return (float) (lr * Math.max(0, total - step) / Math.max(1, total - warmup));
  }

  /**
   * Re-plans the learning-rate schedule once the number of steps is known exactly (e.g. once the first
   * epoch's batches are packed); only before the first step.
   */
  public void planSteps(int totalSteps, int warmupSteps) {
    if (steps > 0) {
      throw new IllegalStateException("The schedule is fixed once training has started");
    }
    if (totalSteps < 1 || warmupSteps < 0) {
      throw new IllegalArgumentException("Invalid plan: " + totalSteps + " steps, " + warmupSteps + " warm-up");
    }
    plannedSteps = totalSteps;
    plannedWarmup = warmupSteps;
  }

  /** The pooling trained through (the model's own unless {@code encoder.pooling} says otherwise). */
  public Pooling pooling() {
    return pooling;
  }

  /** Real tokens fed through the model by {@link #step} so far (anchors, positives and negatives). */
  public long tokens() {
    return tokens;
  }

  /**
   * One optimiser step on {@code batch}: forward with dropout, the loss, backward, clipping, AdamW.
   *
   * @return the batch's loss before the update
   */
  public double step(Batch batch) {
    double loss;
    try (NDManager arrays = model.newBatchManager(); GradientCollector collector = engine.newGradientCollector()) {
      NDArray value = loss(arrays, batch, (float) options.dropout());
      collector.backward(value);
      loss = value.toType(DataType.FLOAT64, false).getDouble();
    }
    update();
    steps++;
    return loss;
  }

  /** The loss on {@code batch} without dropout and without any update (nothing is learned). */
  public double loss(Batch batch) {
    try (NDManager arrays = model.newBatchManager()) {
      return loss(arrays, batch, 0f).toType(DataType.FLOAT64, false).getDouble();
    }
  }

  /** The loss on {@code batch} without dropout, with each parameter's gradient left in place (for checks). */
  double lossWithGradients(Batch batch) {
    return lossWithGradients(batch, () -> { });
  }

  /** {@link #lossWithGradients(Batch)}, running {@code betweenForwardAndBackward} once the graph is built. */
  double lossWithGradients(Batch batch, Runnable betweenForwardAndBackward) {
    try (NDManager arrays = model.newBatchManager(); GradientCollector collector = engine.newGradientCollector()) {
      NDArray value = loss(arrays, batch, 0f);
      betweenForwardAndBackward.run();
      collector.backward(value);
      return value.toType(DataType.FLOAT64, false).getDouble();
    }
  }

  BertModel model() {
    return model;
  }

  /** The sentence vectors the loss sees (pooled and normalised inside the graph, no dropout), as floats. */
  float[][] vectors(List<String> texts) {
    try (NDManager arrays = model.newBatchManager()) {
      NDArray v = embed(arrays, texts, 0f).toType(DataType.FLOAT32, false);
      int d = Math.toIntExact(v.getShape().get(1));
      float[] flat = v.toFloatArray();
      float[][] out = new float[texts.size()][];
      for (int i = 0; i < out.length; i++) {
        out[i] = java.util.Arrays.copyOfRange(flat, i * d, (i + 1) * d);
      }
      return out;
    }
  }

  private NDArray loss(NDManager arrays, Batch batch, float dropout) {
    NDArray anchors = embed(arrays, batch.anchors(), dropout);
    NDArray positives = embed(arrays, batch.positives(), dropout);
    NDArray candidates = batch.negatives().isEmpty() ? positives
        : positives.concat(embed(arrays, batch.negatives(), dropout), 0);
    return rankingLoss(anchors, positives, candidates, (float) options.scale());
  }

  /**
   * The symmetric multiple-negatives ranking loss of unit vectors: the mean of (1) the cross-entropy of each
   * anchor over all candidates (the batch's positives, then any hard negatives), its own positive being the
   * right answer, and (2) the cross-entropy of each positive over all anchors, its own anchor being the right
   * answer. Similarities are cosines times {@code scale}.
   */
  static NDArray rankingLoss(NDArray anchors, NDArray positives, NDArray candidates, float scale) {
    int b = Math.toIntExact(anchors.getShape().get(0));
    int c = Math.toIntExact(candidates.getShape().get(0));
    NDManager arrays = anchors.getManager();
    DataType type = anchors.getDataType();
    NDArray temperature = BertModel.constant(arrays, scale, type);
    NDArray forward = anchors.matMul(candidates.transpose()).mul(temperature).logSoftmax(1)
        .mul(arrays.eye(b, c, 0, type)).sum();
    NDArray backward = positives.matMul(anchors.transpose()).mul(temperature).logSoftmax(1)
        .mul(arrays.eye(b, b, 0, type)).sum();
    return forward.add(backward).div(BertModel.constant(arrays, -2.0 * b, type));
  }

  /** Unit sentence vectors [n, hidden] of {@code texts}, inside the graph. */
  private NDArray embed(NDManager arrays, List<String> texts, float dropout) {
    Encoding[] encodings = tokenizer.batchEncode(texts);
    int seqLen = 0;
    for (Encoding e : encodings) {
      seqLen = Math.max(seqLen, e.getIds().length);
    }
    int n = encodings.length;
    long[] ids = new long[n * seqLen];
    long[] mask = new long[n * seqLen];
    long[] types = new long[n * seqLen];
    for (int r = 0; r < n; r++) {
      Encoding e = encodings[r];
      System.arraycopy(e.getIds(), 0, ids, r * seqLen, e.getIds().length);
      System.arraycopy(e.getAttentionMask(), 0, mask, r * seqLen, e.getAttentionMask().length);
      System.arraycopy(e.getTypeIds(), 0, types, r * seqLen, e.getTypeIds().length);
      tokens += e.getIds().length;
    }
    model.checkTokens(ids, types);
    Shape shape = new Shape(n, seqLen);
    NDArray maskArray = arrays.create(mask, shape);
    NDArray hidden = model.hiddenStates(arrays.create(ids, shape), maskArray, arrays.create(types, shape), dropout);
    return BertModel.sentenceVectors(hidden, maskArray, pooling);
  }

  /** Clips the gradients' global norm, then lets AdamW update every parameter (which also zeroes its gradient). */
  private void update() {
    Map<String, NDArray> parameters = model.parameters();
    double squares = 0;
    NDArray[] gradients = new NDArray[parameters.size()];
    int i = 0;
    for (NDArray p : parameters.values()) {
      gradients[i] = p.getGradient();
      try (NDArray norm = gradients[i].norm(); NDArray wide = norm.toType(DataType.FLOAT64, false)) {
        squares += wide.getDouble() * wide.getDouble();
      }
      i++;
    }
    double norm = Math.sqrt(squares);
    if (!Double.isFinite(norm)) {
      throw new IllegalStateException("Fine-tuning diverged: the gradient norm is " + norm + "; lower "
          + "finetune.learningRate");
    }
    float clip = options.maxGradNorm() > 0 && norm > options.maxGradNorm()
        ? (float) (options.maxGradNorm() / norm) : 1f;
    i = 0;
    for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
      NDArray gradient = gradients[i++];
      if (clip < 1f) {
        gradient.muli(clip);
      }
      (BertModel.isBiasOrNorm(e.getKey()) ? undecayed : decayed).update(e.getKey(), e.getValue(), gradient);
      gradient.close();
    }
  }

  /** The current weights, copied to the host. */
  public Snapshot snapshot() {
    return new Snapshot(model.weights());
  }

  /**
   * An encoder (tokenizer, length-sorted batches, pooling) over {@code snapshot}'s weights on the training
   * device; the caller closes it.
   */
  public SentenceEncoder encoder(Snapshot snapshot) {
    return TorchBertEncoder.of(settings, files, BertModel.load(model.config(), snapshot.weights, model.device(),
        DataType.FLOAT32));
  }

  /**
   * Writes {@code snapshot} as a model folder in {@code dir} ({@link ModelFolder}): config, safetensors, the
   * base model's tokenizer, sentence-transformers' pooling files, and the base ONNX graph with the new
   * weights when the base model has one.
   */
  public void writeModel(Path dir, Snapshot snapshot) {
    ModelFolder.write(dir, model.config(), snapshot.weights, files, pooling, settings.maxTokens());
  }

  /** The base model's files (tokenizer, graph) training started from. */
  public ModelFiles baseFiles() {
    return files;
  }

  @Override
  public void close() {
    decayed.close();
    undecayed.close();
    model.close();
    tokenizer.close();
  }

  /** The optimisers' moment arrays (freed by {@link #close}). */
  List<NDArray> optimizerStates() {
    List<NDArray> out = new java.util.ArrayList<>(decayed.states());
    out.addAll(undecayed.states());
    return out;
  }
}
