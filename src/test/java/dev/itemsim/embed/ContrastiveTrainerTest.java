package dev.itemsim.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContrastiveTrainerTest {
  @TempDir
  Path dir;

  private static final ContrastiveTrainer.Batch BATCH = new ContrastiveTrainer.Batch(
      List.of("Sony Bravia 40\" LCD TV KDL-40V4100", "Canon PowerShot SD1100 IS camera", "Belkin USB 2.0 cable 6 ft"),
      List.of("Sony KDL40V4100 Bravia television", "Canon SD1100IS digital camera silver", "Belkin 6' USB cable"),
      List.of("Samsung LCD TV LN40A550", "Nikon Coolpix S550 camera", "Monster HDMI cable"));

  private static ContrastiveTrainer.Options options(double learningRate, int steps, double dropout, long seed) {
    return new ContrastiveTrainer.Options(learningRate, steps, 0, 0.01, 1.0, 20, dropout, seed);
  }

  private static EncoderSettings settings(Path folder) {
    return new EncoderSettings(new ModelSpec(folder.toString()), 8, 64, 1, EngineChoice.PYTORCH, DeviceChoice.CPU,
        false, null);
  }

  private Path tinyBert(long seed) throws Exception {
    return new TinyBert(seed).writeFolder(dir.resolve("tiny-" + seed), "");
  }

  /** One coordinate of the weights, addressed as {@link BertWeights} addresses it, and the parameter holding it. */
  private record Coordinate(String tensor, int layer, String linear, int index, String parameter, int parameterIndex) {}

  /** {@code base} with {@code delta} added to one coordinate. */
  private static BertWeights perturbed(BertWeights base, Coordinate c, float delta) {
    return new BertWeights() {
      @Override
      public float[] tensor(String name, long... shape) {
        float[] v = base.tensor(name, shape).clone();
        if (name.equals(c.tensor())) {
          v[c.index()] += delta;
        }
        return v;
      }

      @Override
      public float[] linear(int layer, String module, int in, int out) {
        float[] v = base.linear(layer, module, in, out).clone();
        if (layer == c.layer() && module.equals(c.linear())) {
          v[c.index()] += delta;
        }
        return v;
      }
    };
  }

  private static float valueAt(BertWeights w, Coordinate c, int h, int ff) {
    if (c.tensor() != null) {
      long[] shape = c.tensor().startsWith("embeddings.word") ? new long[] {TinyBert.VOCAB, h}
          : c.tensor().startsWith("embeddings.position") ? new long[] {TinyBert.POSITIONS, h} : new long[] {h};
      return w.tensor(c.tensor(), shape)[c.index()];
    }
    int in = c.linear().equals("output.dense") ? ff : h;
    int out = c.linear().equals("intermediate.dense") ? ff : h;
    return w.linear(c.layer(), c.linear(), in, out)[c.index()];
  }

  @Test
  void gradientOfTheLossMatchesFiniteDifferencesOnATinyRandomBert() throws Exception {
    Path folder = tinyBert(7);
    EncoderSettings settings = settings(folder);
    ModelFiles files = settings.model().resolve();
    BertWeights base = BertWeights.safetensors(files.safetensors());
    int h = TinyBert.HIDDEN;
    int ff = TinyBert.FF;
    long sony;
    try (var tokenizer = BatchingEncoder.tokenizer(files, 64)) {
      sony = tokenizer.encode("Sony").getIds()[1];
    }
    List<Coordinate> coordinates = List.of(
        new Coordinate("embeddings.word_embeddings.weight", -1, null, (int) sony * h + 3,
            "embeddings.word_embeddings.weight", (int) sony * h + 3),
        new Coordinate("embeddings.position_embeddings.weight", -1, null, 2 * h + 5,
            "embeddings.position_embeddings.weight", 2 * h + 5),
        new Coordinate("embeddings.LayerNorm.weight", -1, null, 7, "embeddings.LayerNorm.weight", 7),
        // query weight [in 4, out 9] of layer 0: the fused [h, 3h] parameter holds it at column 0 * h + 9
        new Coordinate(null, 0, "attention.self.query", 4 * h + 9, "encoder.layer.0." + BertModel.QKV + ".weight",
            4 * 3 * h + 9),
        // value bias 2 of layer 1: the fused bias holds the value biases after query and key
        new Coordinate("encoder.layer.1.attention.self.value.bias", -1, null, 2,
            "encoder.layer.1." + BertModel.QKV + ".bias", 2 * h + 2),
        new Coordinate(null, 1, "output.dense", 11 * h + 6, "encoder.layer.1.output.dense.weight", 11 * h + 6),
        new Coordinate("encoder.layer.1.output.LayerNorm.bias", -1, null, 1, "encoder.layer.1.output.LayerNorm.bias",
            1));
    ContrastiveTrainer.Options noDropout = options(1e-3, 1, 0, 1);
    double[] gradients = new double[coordinates.size()];
    try (ContrastiveTrainer trainer = ContrastiveTrainer.open(settings, files, noDropout, base, DataType.FLOAT64)) {
      double loss = trainer.lossWithGradients(BATCH);
      assertThat(loss).isPositive();
      Map<String, NDArray> parameters = trainer.model().parameters();
      for (int i = 0; i < coordinates.size(); i++) {
        Coordinate c = coordinates.get(i);
        try (NDArray g = parameters.get(c.parameter()).getGradient()) {
          gradients[i] = g.toDoubleArray()[c.parameterIndex()];
        }
      }
    }
    for (int i = 0; i < coordinates.size(); i++) {
      Coordinate c = coordinates.get(i);
      float delta = 1f / 1024;
      double[] losses = new double[2];
      float[] values = new float[2];
      for (int s = 0; s < 2; s++) {
        BertWeights moved = perturbed(base, c, s == 0 ? delta : -delta);
        values[s] = valueAt(moved, c, h, ff);
        try (ContrastiveTrainer t = ContrastiveTrainer.open(settings, files, noDropout, moved, DataType.FLOAT64)) {
          losses[s] = t.loss(BATCH);
        }
      }
      double finite = (losses[0] - losses[1]) / ((double) values[0] - values[1]);
      assertThat(Math.abs(gradients[i])).as("gradient of %s is not negligible", c).isGreaterThan(1e-4);
      assertThat(gradients[i]).as("%s: autograd %s vs finite difference %s", c, gradients[i], finite)
          .isCloseTo(finite, org.assertj.core.data.Offset.offset(2e-3 * Math.abs(finite) + 1e-7));
    }
  }

  /**
   * DJL's PyTorch engine wraps an array made from host numbers (a scalar operand such as {@code x.mul(20)}) around
   * a Java direct buffer, and autograd keeps such an operand for the backward pass. If the graph held one whose
   * Java side was closed, a garbage collection between forward and backward would free its memory, and the
   * backward would read whatever the allocator wrote there (a failure seen once in CI as an infinite gradient).
   */
  @Test
  void gradientsAreTheSameWhenTheGarbageCollectorRunsBetweenForwardAndBackward() throws Exception {
    Path folder = tinyBert(11);
    ContrastiveTrainer.Options noDropout = options(1e-3, 1, 0, 1);
    Map<String, float[]> quiet = gradients(folder, noDropout, () -> { });
    Map<String, float[]> collected = gradients(folder, noDropout, ContrastiveTrainerTest::collectGarbage);
    assertThat(collected.keySet()).isEqualTo(quiet.keySet());
    quiet.forEach((name, g) -> assertThat(collected.get(name)).as(name).containsExactly(g));
  }

  private static Map<String, float[]> gradients(Path folder, ContrastiveTrainer.Options options, Runnable between) {
    try (ContrastiveTrainer trainer = ContrastiveTrainer.open(settings(folder), options)) {
      trainer.lossWithGradients(BATCH, between);
      Map<String, float[]> out = new java.util.LinkedHashMap<>();
      trainer.model().parameters().forEach((name, p) -> {
        try (NDArray g = p.getGradient()) {
          out.put(name, g.toFloatArray());
        }
      });
      return out;
    }
  }

  /** Collects garbage until the JVM's count of direct buffers stops falling (their memory is freed by then). */
  private static void collectGarbage() {
    java.lang.management.BufferPoolMXBean direct = java.lang.management.ManagementFactory
        .getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class).stream()
        .filter(pool -> pool.getName().equals("direct")).findFirst().orElseThrow();
    long before = Long.MAX_VALUE;
    for (int round = 0; round < 20 && direct.getCount() < before; round++) {
      before = direct.getCount();
      System.gc();
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Test
  void closingTheTrainerFreesTheOptimisersMoments() throws Exception {
    Path folder = tinyBert(12);
    List<NDArray> states;
    int parameters;
    try (ContrastiveTrainer trainer = ContrastiveTrainer.open(settings(folder), options(1e-3, 2, 0, 1))) {
      trainer.step(BATCH);
      trainer.step(BATCH);
      parameters = trainer.model().parameters().size();
      states = trainer.optimizerStates();
      assertThat(states).hasSize(2 * parameters).noneMatch(NDArray::isReleased);
    }
    assertThat(states).allMatch(NDArray::isReleased);
  }

  @Test
  void aTrainerThatFailsToOpenLeavesNoArraysBehind() throws Exception {
    Path folder = tinyBert(13);
    EncoderSettings settings = settings(folder);
    ModelFiles files = settings.model().resolve();
    BertWeights good = BertWeights.safetensors(files.safetensors());
    BertWeights failing = new BertWeights() {
      @Override
      public float[] tensor(String name, long... shape) {
        if (name.startsWith("encoder.layer.1.")) {
          throw new IllegalStateException("planted: no " + name);
        }
        return good.tensor(name, shape);
      }

      @Override
      public float[] linear(int layer, String module, int in, int out) {
        return good.linear(layer, module, in, out);
      }
    };
    int before = systemArrays();
    assertThatThrownBy(() -> ContrastiveTrainer.open(settings, files, options(1e-3, 1, 0, 1), failing,
        DataType.FLOAT32)).hasMessageContaining("planted");
    assertThat(systemArrays()).as("arrays of the half-loaded model").isEqualTo(before);

    Files.writeString(folder.resolve("tokenizer.json"), "{ not json");
    ModelFiles broken = settings.model().resolve();
    assertThatThrownBy(() -> ContrastiveTrainer.open(settings, broken, options(1e-3, 1, 0, 1), good,
        DataType.FLOAT32)).hasMessageContaining("Cannot load tokenizer");
    assertThat(systemArrays()).as("arrays of a model whose tokenizer failed").isEqualTo(before);
  }

  /** The arrays of every PyTorch manager (base managers hang off the engine's system manager). */
  private static int systemArrays() {
    try (ai.djl.ndarray.NDManager probe = ai.djl.ndarray.NDManager.newBaseManager(ai.djl.Device.cpu(),
        DjlRuntime.PYTORCH)) {
      return probe.getParentManager().getManagedArrays().size();
    }
  }

  @Test
  void theLearningRateWarmsUpLinearlyThenDecaysToZero() {
    float[] expected = {0.5f, 1f, 1f, 0.875f, 0.75f, 0.625f, 0.5f, 0.375f, 0.25f, 0.125f, 0f};
    for (int t = 1; t <= expected.length; t++) {
      assertThat(ContrastiveTrainer.learningRate(1e-3, 10, 2, t)).as("update %d", t)
          .isCloseTo(expected[t - 1] * 1e-3f, org.assertj.core.data.Offset.offset(1e-9f));
    }
    assertThat(ContrastiveTrainer.learningRate(1e-3, 4, 0, 1)).isEqualTo(1e-3f);
  }

  @Test
  void oneOptimiserStepLowersTheLossOnAFixedBatch() throws Exception {
    Path folder = tinyBert(9);
    try (ContrastiveTrainer trainer = ContrastiveTrainer.open(settings(folder), options(1e-3, 10, 0, 1))) {
      double before = trainer.loss(BATCH);
      double stepLoss = trainer.step(BATCH);
      double after = trainer.loss(BATCH);
      assertThat(stepLoss).isCloseTo(before, org.assertj.core.data.Offset.offset(1e-5));
      assertThat(after).isLessThan(before - 1e-3);
    }
  }

  private static float[][] trainThreeSteps(Path folder, long seed) {
    try (ContrastiveTrainer trainer = ContrastiveTrainer.open(settings(folder), options(1e-3, 3, 0.1, seed))) {
      for (int i = 0; i < 3; i++) {
        trainer.step(BATCH);
      }
      ContrastiveTrainer.Snapshot snapshot = trainer.snapshot();
      List<float[]> all = new ArrayList<>();
      BertWeights w = snapshot.weights();
      all.add(w.tensor("embeddings.word_embeddings.weight", TinyBert.VOCAB, TinyBert.HIDDEN));
      for (int l = 0; l < TinyBert.LAYERS; l++) {
        all.add(w.linear(l, "attention.self.key", TinyBert.HIDDEN, TinyBert.HIDDEN));
        all.add(w.linear(l, "output.dense", TinyBert.FF, TinyBert.HIDDEN));
        all.add(w.tensor("encoder.layer." + l + ".output.LayerNorm.weight", TinyBert.HIDDEN));
      }
      return all.toArray(float[][]::new);
    }
  }

  @Test
  void theSameSeedGivesIdenticalWeightsAndAnotherSeedDoesNot() throws Exception {
    Path folder = tinyBert(13);
    float[][] first = trainThreeSteps(folder, 5);
    float[][] second = trainThreeSteps(folder, 5);
    float[][] otherSeed = trainThreeSteps(folder, 6);
    for (int i = 0; i < first.length; i++) {
      // bit for bit (AssertJ's element-wise comparison is too slow for the 488k word-embedding values)
      assertThat(java.util.Arrays.equals(second[i], first[i])).as("tensor %d is identical", i).isTrue();
    }
    // dropout draws from the seeded RNG: another seed trains differently
    boolean differs = false;
    for (int i = 0; i < first.length; i++) {
      differs |= !java.util.Arrays.equals(first[i], otherSeed[i]);
    }
    assertThat(differs).isTrue();
  }

  @Test
  void savedFolderReloadsToTheTrainedVectorsOnBothEngines() throws Exception {
    EncoderSettings base = new EncoderSettings(new ModelSpec("builtin:all-minilm-l6-v2"), 16, 64, 1,
        EngineChoice.PYTORCH, DeviceChoice.CPU, false, null);
    List<String> titles = SparkTestSupport.sampleTitles(40);
    Path folder = dir.resolve("tuned");
    float[][] trained;
    float[][] inGraph;
    try (ContrastiveTrainer trainer = ContrastiveTrainer.open(base, options(1e-4, 2, 0.1, 3))) {
      trainer.step(new ContrastiveTrainer.Batch(titles.subList(0, 8), titles.subList(8, 16), List.of()));
      ContrastiveTrainer.Snapshot snapshot = trainer.snapshot();
      try (SentenceEncoder encoder = trainer.encoder(snapshot)) {
        trained = encoder.encode(titles).vectors();
      }
      inGraph = trainer.vectors(titles);
      trainer.writeModel(folder, snapshot);
    }
    for (String file : List.of("config.json", "model.safetensors", "model.onnx", "tokenizer.json", "modules.json",
        "sentence_bert_config.json", "1_Pooling/config.json")) {
      assertThat(folder.resolve(file)).as(file).isRegularFile();
    }
    float[][] baseVectors = SharedEncoders.get(base).encode(titles).vectors();
    EncoderSettings tunedTorch = base.withModel(folder.toString());
    ModelFiles files = tunedTorch.model().resolve();
    assertThat(files.pooling()).isEqualTo(Pooling.MEAN);
    float[][] torch;
    float[][] ort;
    try (SentenceEncoder e = Encoders.load(tunedTorch)) {
      assertThat(e).isInstanceOf(TorchBertEncoder.class);
      torch = e.encode(titles).vectors();
    }
    try (SentenceEncoder e = Encoders.load(tunedTorch.withEngine(EngineChoice.ONNXRUNTIME))) {
      assertThat(e).isInstanceOf(GraphEncoder.class);
      ort = e.encode(titles).vectors();
    }
    double smallestChange = 1;
    try (OrtReference reference = new OrtReference(files, 64)) {
      for (int i = 0; i < titles.size(); i++) {
        String t = titles.get(i);
        assertThat(Vectors.cosine(inGraph[i], trained[i])).as("in-graph pooling: %s", t).isGreaterThan(0.99999);
        assertThat(Vectors.cosine(torch[i], trained[i])).as("reloaded on PyTorch: %s", t).isGreaterThan(0.999999);
        assertThat(Vectors.cosine(ort[i], trained[i])).as("reloaded on ONNX Runtime: %s", t).isGreaterThan(0.9999);
        assertThat(Vectors.cosine(reference.embed(t), trained[i])).as("plain ORT session: %s", t)
            .isGreaterThan(0.9999);
        smallestChange = Math.min(smallestChange, Vectors.cosine(trained[i], baseVectors[i]));
      }
    }
    // the step moved the vectors: a folder of unchanged base weights would pass the checks above too
    assertThat(smallestChange).isLessThan(0.9999);
    assertThat(Files.readString(folder.resolve("1_Pooling/config.json"))).contains("\"pooling_mode_mean_tokens\" : true");
  }
}
