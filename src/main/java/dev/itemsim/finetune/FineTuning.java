package dev.itemsim.finetune;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.itemsim.InvalidInputException;
import dev.itemsim.embed.ContrastiveTrainer;
import dev.itemsim.embed.EncoderSettings;
import dev.itemsim.embed.SentenceEncoder;
import dev.itemsim.eval.Evaluation;
import dev.itemsim.eval.MatchGraph;
import dev.itemsim.eval.RankedLists;
import dev.itemsim.similarity.Blend;
import dev.itemsim.similarity.EmbeddingRetriever;
import dev.itemsim.similarity.LexicalRetriever;
import dev.itemsim.similarity.NeighborSearch;
import dev.itemsim.similarity.Ranking;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fine-tuning procedure: split a validation slice off the training pairs (by match-graph component for
 * labelled pairs, so no validation item or partner of one is trained on; pair by pair for co-engagement),
 * measure it, then train epoch by epoch ({@link ContrastiveTrainer}: symmetric multiple-negatives ranking
 * loss), optionally with one hard negative per anchor mined with the current model through itemsim's own
 * exact top-N and never related to the anchor. After each epoch the validation slice is ranked with the same
 * top-N and scored with the evaluate job's metric code ({@link Evaluation#metrics}); the best epoch (by
 * validation MRR) is kept and training stops after {@code patience} epochs without improvement. The kept
 * weights are written as a model folder with {@value #TRAINING_JSON} (data digest, split, hyper-parameters,
 * loss per step, validation metrics before and after) and, optionally, the hybrid blend fitted with the kept
 * model ({@value #BLEND_JSON}).
 */
public final class FineTuning {
  public static final String TRAINING_JSON = "training.json";
  /** The learned hybrid blend, beside the model: {@code similarity.hybrid.learned = <model>/hybrid-blend.json}. */
  public static final String BLEND_JSON = "hybrid-blend.json";
  private static final Logger LOG = LoggerFactory.getLogger(FineTuning.class);
  private static final int LIST_SIZE = 50;
  private static final String SELECTION_METRIC = "mrr";
  private static final StructType ITEMS = new StructType().add("item_id", DataTypes.StringType, false)
      .add("text", DataTypes.StringType, false)
      .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false);

  /**
   * The {@code finetune.*} hyper-parameters.
   *
   * @param epochs passes over the training pairs (at most; see patience)
   * @param batchSize pairs per step: each anchor's in-batch negatives are the other pairs' positives
   * @param learningRate AdamW's peak learning rate
   * @param warmupFraction share of the planned steps spent warming the learning rate up from 0
   * @param weightDecay AdamW's decoupled weight decay
   * @param maxGradNorm global gradient-norm clipping threshold (0: none)
   * @param scale the loss's inverse temperature
   * @param dropout dropout while training
   * @param hardNegatives add one mined hard negative per anchor, re-mined before every epoch
   * @param validationFraction share of the training pairs held out to choose the epoch (0: none, keep the last)
   * @param patience epochs without a better validation MRR before stopping
   * @param seed shuffling, splitting and dropout seed
   * @param learnBlend fit the hybrid blend and write {@value #BLEND_JSON}
   * @param blendFolds 0: fit the blend with the kept model on the validation slice; k ≥ 2: cross-fit it on the
   *     training pairs' queries, each fold's candidates gathered with a model trained (as the kept one, for its
   *     number of epochs) on the other folds, so that the blend sees the tuned embedding as it scores unseen
   *     items; the validation slice then compares the fitted blend with the hand-tuned one
   * @param blendObjective what the blend's logistic regression classifies: {@code pointwise}, each candidate as a
   *     partner or not; {@code pairwise}, which of a partner and another candidate of the same query ranks first
   *     (the difference of their features, no intercept), so that only the order within a query is fitted
   */
  public record Options(int epochs, int batchSize, double learningRate, double warmupFraction, double weightDecay,
      double maxGradNorm, double scale, double dropout, boolean hardNegatives, double validationFraction,
      int patience, long seed, boolean learnBlend, int blendFolds, String blendObjective) {
    public static final Set<String> BLEND_OBJECTIVES = Set.of("pointwise", "pairwise");

    public Options {
      if (!BLEND_OBJECTIVES.contains(blendObjective)) {
        throw new InvalidInputException("finetune.blendObjective = '" + blendObjective + "' is not one of pointwise, "
            + "pairwise");
      }
      if (blendFolds == 1 || blendFolds < 0) {
        throw new InvalidInputException("finetune.blendFolds = " + blendFolds + ": use 0 (fit on the validation "
            + "slice) or at least 2 folds");
      }
    }

    public Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("epochs", epochs);
      m.put("batch_size", batchSize);
      m.put("learning_rate", learningRate);
      m.put("warmup_fraction", warmupFraction);
      m.put("weight_decay", weightDecay);
      m.put("max_grad_norm", maxGradNorm);
      m.put("scale", scale);
      m.put("dropout", dropout);
      m.put("hard_negatives", hardNegatives);
      m.put("validation_fraction", validationFraction);
      m.put("patience", patience);
      m.put("seed", seed);
      m.put("learn_blend", learnBlend);
      m.put("blend_folds", blendFolds);
      m.put("blend_objective", blendObjective);
      m.put("loss", "multiple-negatives ranking, symmetric, in-batch negatives");
      m.put("optimizer", "AdamW (no decay on biases and LayerNorms), linear warm-up then linear decay, "
          + "global-norm clipping");
      m.put("selection_metric", "validation a_to_b " + SELECTION_METRIC);
      return m;
    }
  }

  /** What a run produced, for the run summary and the console. */
  public record Outcome(Map<String, Object> report, int bestEpoch, int epochsRun, Map<String, Object> before,
      Map<String, Object> after, int trainPairs, int validationPairs, double trainingSeconds) {}

  private final SparkSession spark;
  private final EncoderSettings encoder;
  private final EmbeddingRetriever retriever;
  private final LexicalRetriever.Options lexical;
  private final double embeddingWeight;
  private final String scratchDir;
  private final Options options;

  /**
   * @param encoder the base model and how to encode (PyTorch engine, device, pooling, token limit)
   * @param search the top-N kernel and blocks for validation and mining
   * @param lexical the hybrid's lexical side, for fitting the blend
   * @param embeddingWeight the hand-tuned blend's weight, which a cross-fitted blend is compared with
   * @param scratchDir where the top-N may write vector block files
   */
  public FineTuning(SparkSession spark, EncoderSettings encoder, EmbeddingRetriever.Options search,
      LexicalRetriever.Options lexical, double embeddingWeight, String scratchDir, Options options) {
    this.spark = spark;
    this.encoder = encoder;
    this.retriever = new EmbeddingRetriever(search);
    this.lexical = lexical;
    this.embeddingWeight = embeddingWeight;
    this.scratchDir = scratchDir;
    this.options = options;
  }

  /**
   * Trains on {@code pairs} and writes the model folder into {@code modelDir} (a local folder the caller
   * publishes).
   *
   * @param textsA texts of catalogue A's valid items; {@code textsB} those of B, or null for one catalogue
   * @param data facts about the data for {@value #TRAINING_JSON} (paths, counts)
   */
  public Outcome run(TrainingPairs pairs, Map<String, String> textsA, Map<String, String> textsB,
      Map<String, Object> data, Path modelDir) {
    Sides sides = new Sides(textsA, textsB == null ? textsA : textsB, textsB == null);
    Split split = split(pairs);
    if (split.train().positives().isEmpty()) {
      throw new InvalidInputException("No training pairs are left after holding out the validation slice "
          + "(finetune.validationFraction = " + options.validationFraction() + ")");
    }
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("created", Instant.now().toString());
    report.put("base_model", encoder.model().value());
    Map<String, Object> dataReport = new LinkedHashMap<>(data);
    dataReport.put("digest", pairs.digest(sides.a(), sides.b()));
    dataReport.put("positive_pairs", pairs.positives().size());
    dataReport.put("explicit_negatives", pairs.negatives().values().stream().mapToInt(List::size).sum());
    report.put("data", dataReport);
    report.put("split", split.facts());
    report.put("hyper_parameters", options.asMap());

    try (ContrastiveTrainer trainer = ContrastiveTrainer.open(encoder, trainerOptions(split))) {
      report.put("pooling", trainer.pooling().name().toLowerCase(Locale.ROOT));
      report.put("max_tokens", encoder.maxTokens());
      Trained t = train(trainer, split, sides, options.epochs(), "");
      report.put("validation_before", t.before());
      report.put("validation_after", t.after());
      report.put("epochs", t.epochs());
      Map<String, Object> time = new LinkedHashMap<>();
      time.put("training_s", Math.round(t.trainingSeconds() * 100) / 100.0);
      time.put("evaluation_s", Math.round(t.evaluationSeconds() * 100) / 100.0);
      time.put("steps", t.losses().size());
      time.put("pairs_per_s", Math.round(t.examples() / Math.max(t.trainingSeconds(), 1e-9) * 10) / 10.0);
      time.put("tokens_per_s", Math.round(t.tokens() / Math.max(t.trainingSeconds(), 1e-9)));
      report.put("time", time);
      report.put("loss_per_step", t.losses());
      report.put("best_epoch", t.bestEpoch());
      report.put("epochs_run", t.epochsRun());
      report.put("stopped_early", t.epochsRun() < options.epochs());
      trainer.writeModel(modelDir, t.best());
      if (options.learnBlend()) {
        report.put("blend", fitBlend(trainer, t, sides, split, modelDir));
      }
      writeJson(modelDir.resolve(TRAINING_JSON), report);
      if (t.bestEpoch() == 0 && !split.validation().isEmpty()) {
        LOG.warn("finetune: no epoch improved validation {} over the base model ({}); the folder holds the base "
            + "weights", SELECTION_METRIC, t.before().get(SELECTION_METRIC));
      }
      return new Outcome(report, t.bestEpoch(), t.epochsRun(), t.before(), t.after(),
          split.train().positives().size(), ((Number) split.facts().get("validation_pairs")).intValue(),
          t.trainingSeconds());
    }
  }

  private ContrastiveTrainer.Options trainerOptions(Split split) {
    int stepsPerEpoch = (split.train().positives().size() + options.batchSize() - 1) / options.batchSize();
    int totalSteps = Math.max(1, stepsPerEpoch * options.epochs());
    return new ContrastiveTrainer.Options(options.learningRate(), totalSteps,
        (int) Math.round(options.warmupFraction() * totalSteps), options.weightDecay(), options.maxGradNorm(),
        options.scale(), options.dropout(), options.seed());
  }

  /**
   * What the epoch loop produced: the kept weights and epoch, the validation metrics before training and of
   * the kept epoch, each epoch's report, and the time and work spent in optimiser steps.
   */
  private record Trained(ContrastiveTrainer.Snapshot best, int bestEpoch, int epochsRun, Map<String, Object> before,
      Map<String, Object> after, List<Map<String, Object>> epochs, List<Double> losses, double trainingSeconds,
      double evaluationSeconds, long examples, long tokens) {}

  /**
   * Trains {@code trainer} epoch by epoch on {@code split}'s training pairs, at most {@code maxEpochs} of the
   * {@code finetune.epochs} the learning-rate schedule is planned for. With a validation slice the best epoch
   * (by validation MRR) is kept and training stops after {@code patience} epochs without improvement; without
   * one, the last epoch is kept. {@code label} prefixes the log lines.
   */
  private Trained train(ContrastiveTrainer trainer, Split split, Sides sides, int maxEpochs, String label) {
    List<Double> losses = new ArrayList<>();
    List<Map<String, Object>> epochs = new ArrayList<>();
    ContrastiveTrainer.Snapshot current = trainer.snapshot();
    long evalStart = System.nanoTime();
    Epoch state = evaluate(trainer, current, sides, split);
    double evaluationSeconds = (System.nanoTime() - evalStart) / 1e9;
    Map<String, Object> before = state.metrics();
    LOG.info("finetune{}: {} training pairs, {} validation queries; validation before training {}", label,
        split.train().positives().size(), split.validation().size(), before);
    ContrastiveTrainer.Snapshot best = current;
    double bestScore = state.score();
    int bestEpoch = 0;
    int sinceBest = 0;
    int epochsRun = 0;
    long trainingNanos = 0;
    long examples = 0;
    long tokensStart = trainer.tokens();
    int step = 0;
    int totalSteps = 0;
    for (int epoch = 1; epoch <= maxEpochs; epoch++) {
      Random random = new Random(options.seed() * 1_000_003L + epoch);
      List<Batches.Example> list = examples(split.train(), state.lists(), sides, random);
      List<List<Batches.Example>> batches = Batches.pack(list, options.batchSize(), split.train()::relatedTo);
      if (epoch == 1 && batches.stream().allMatch(b -> b.size() == 1 && b.get(0).negative() == null)) {
        // one candidate per example: the in-batch loss is 0 whatever the model, so training would teach nothing
        throw new dev.itemsim.InvalidInputException("Fine-tuning: the " + list.size() + " training examples pack "
            + "only into batches of one (their pairs share items or match-graph components, so no example can be "
            + "another's negative) and none has a hard negative: the loss would be 0. Add pairs of unrelated "
            + "items, or non-matches (label 0)");
      }
      if (epoch == 1) {
        // the packing decides the number of steps: the schedule decays to 0 at the last planned one
        totalSteps = batches.size() * options.epochs();
        trainer.planSteps(totalSteps, (int) Math.round(options.warmupFraction() * totalSteps));
      }
      long epochStart = System.nanoTime();
      long tokensBefore = trainer.tokens();
      double lossSum = 0;
      Progress progress = new Progress(label, epoch, batches.size(), list.size());
      for (List<Batches.Example> batch : batches) {
        double loss = trainer.step(batch(batch, sides));
        losses.add(Math.round(loss * 1e6) / 1e6);
        lossSum += loss;
        step++;
        examples += batch.size();
        progress.stepDone(batch.size(), loss, trainer.tokens() - tokensBefore, totalSteps - step);
      }
      long nanos = System.nanoTime() - epochStart;
      trainingNanos += nanos;
      epochsRun = epoch;
      current = trainer.snapshot();
      long t0 = System.nanoTime();
      state = evaluate(trainer, current, sides, split);
      evaluationSeconds += (System.nanoTime() - t0) / 1e9;
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("epoch", epoch);
      e.put("steps", batches.size());
      e.put("pairs", list.size());
      e.put("mean_loss", Math.round(lossSum / Math.max(1, batches.size()) * 1e6) / 1e6);
      e.put("seconds", Math.round(nanos / 1e7) / 100.0);
      e.put("pairs_per_s", Math.round(list.size() / (nanos / 1e9) * 10) / 10.0);
      e.put("tokens_per_s", Math.round((trainer.tokens() - tokensBefore) / (nanos / 1e9)));
      e.put("validation", state.metrics());
      epochs.add(e);
      LOG.info("finetune{} epoch {}/{} done: mean loss {}, validation {}", label, epoch, options.epochs(),
          e.get("mean_loss"), state.metrics());
      if (split.validation().isEmpty() || state.score() > bestScore) {
        best = current;
        bestScore = state.score();
        bestEpoch = epoch;
        sinceBest = 0;
      } else if (++sinceBest >= options.patience()) {
        LOG.info("finetune{}: stopping early after epoch {}: validation {} has not improved on epoch {} for {} "
            + "epoch(s)", label, epoch, SELECTION_METRIC, bestEpoch, sinceBest);
        break;
      }
    }
    Map<String, Object> after = bestEpoch == 0 ? before : metricsOf(epochs.get(bestEpoch - 1));
    return new Trained(best, bestEpoch, epochsRun, before, after, epochs, losses, trainingNanos / 1e9,
        evaluationSeconds, examples, trainer.tokens() - tokensStart);
  }

  /**
   * Fits the hybrid blend and writes {@value #BLEND_JSON}: with {@code blendFolds} ≥ 2 cross-fitted on the
   * training pairs ({@link #crossFitted}) and compared with the hand-tuned blend on the validation slice;
   * otherwise with the kept model on the validation pairs (never trained on), or on the training pairs when
   * there is no validation slice.
   */
  private Map<String, Object> fitBlend(ContrastiveTrainer trainer, Trained trained, Sides sides, Split split,
      Path modelDir) {
    long start = System.nanoTime();
    BlendFitting.Corpus corpus = new BlendFitting.Corpus(spark, sides.a(), sides.b(), sides.self(), lexical);
    String kernel = retriever.options().kernel();
    boolean crossFit = options.blendFolds() >= 2;
    boolean onValidation = !crossFit && !split.validation().isEmpty();
    List<BlendFitting.QueryCandidates> validation = List.of();
    if (!split.validation().isEmpty()) {
      try (SentenceEncoder model = trainer.encoder(trained.best())) {
        validation = corpus.candidates(model, split.validation(), kernel);
      }
    }
    Map<String, Set<String>> truth;
    List<BlendFitting.QueryCandidates> fitOn;
    List<Map<String, Object>> folds = new ArrayList<>();
    if (crossFit) {
      truth = truthOf(split.train().positives());
      fitOn = crossFitted(corpus, split, sides, Math.max(1, trained.bestEpoch()), kernel, folds);
    } else {
      truth = onValidation ? split.validation() : truthOf(split.train().positives());
      if (onValidation) {
        fitOn = validation;
      } else {
        try (SentenceEncoder model = trainer.encoder(trained.best())) {
          fitOn = corpus.candidates(model, truth, kernel);
        }
      }
    }
    BlendFitting.Result result = BlendFitting.fit(spark, fitOn, truth, lexical, options.blendObjective().equals(
        "pairwise"), BLEND_JSON);
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("file", BLEND_JSON);
    facts.put("fitted_on", crossFit ? "training pairs, cross-fitted in " + options.blendFolds() + " folds"
        : onValidation ? "validation pairs" : "training pairs (no validation slice)");
    facts.putAll(result.facts());
    if (crossFit) {
      facts.put("folds", folds);
    }
    if (crossFit && !validation.isEmpty()) {
      Map<String, Object> compared = new LinkedHashMap<>();
      compared.put("hand_tuned", BlendFitting.metrics(validation, Blend.linear(embeddingWeight), split.validation()));
      compared.put("learned", BlendFitting.metrics(validation, result.blend(), split.validation()));
      facts.put("validation", compared);
      LOG.info("finetune: on the validation slice the hand-tuned blend (embeddingWeight {}) gives {}, the learned "
          + "one {}", embeddingWeight, compared.get("hand_tuned"), compared.get("learned"));
    }
    facts.put("seconds", Math.round((System.nanoTime() - start) / 1e7) / 100.0);
    result.blend().write(modelDir.resolve(BLEND_JSON), facts);
    Map<String, Object> out = new LinkedHashMap<>(facts);
    out.put("coefficients", result.blend().namedCoefficients());
    LOG.info("finetune: fitted the hybrid blend on {} queries: {}", fitOn.size(), out.get("coefficients"));
    return out;
  }

  /**
   * Every training query's hybrid candidates gathered out of fold: the training pairs are cut into
   * {@code blendFolds} folds (by match-graph component for labelled pairs, so no fold's item or partner is
   * trained on by its model; pair by pair for co-engagement), and for each fold a model is trained from the
   * base weights on the other folds, as the kept model was (same settings, schedule and seed) for
   * {@code epochs} epochs, then gathers that fold's candidates. Each fold's facts are added to {@code facts}.
   */
  private List<BlendFitting.QueryCandidates> crossFitted(BlendFitting.Corpus corpus, Split split, Sides sides,
      int epochs, String kernel, List<Map<String, Object>> facts) {
    List<List<TrainingPairs.Pair>> folds = folds(split.train());
    List<BlendFitting.QueryCandidates> out = new ArrayList<>();
    for (int f = 0; f < folds.size(); f++) {
      List<TrainingPairs.Pair> rest = new ArrayList<>();
      for (int g = 0; g < folds.size(); g++) {
        if (g != f) {
          rest.addAll(folds.get(g));
        }
      }
      if (folds.get(f).isEmpty() || rest.isEmpty()) {
        continue;
      }
      Split foldSplit = new Split(split.train().subset(rest), Map.of(), Map.of());
      String label = " (blend fold " + (f + 1) + "/" + folds.size() + ")";
      try (ContrastiveTrainer trainer = ContrastiveTrainer.open(encoder, trainerOptions(foldSplit))) {
        Trained t = train(trainer, foldSplit, sides, epochs, label);
        List<BlendFitting.QueryCandidates> gathered;
        try (SentenceEncoder model = trainer.encoder(t.best())) {
          gathered = corpus.candidates(model, truthOf(folds.get(f)), kernel);
        }
        out.addAll(gathered);
        Map<String, Object> fold = new LinkedHashMap<>();
        fold.put("fold", f + 1);
        fold.put("train_pairs", rest.size());
        fold.put("epochs", t.epochsRun());
        fold.put("training_s", Math.round(t.trainingSeconds() * 100) / 100.0);
        fold.put("queries", gathered.size());
        facts.add(fold);
      }
    }
    if (out.isEmpty()) {
      throw new InvalidInputException("finetune.blendFolds = " + options.blendFolds() + ": the training pairs do "
          + "not fill two folds; lower it, or set it to 0 to fit the blend on the validation slice");
    }
    return out;
  }

  private List<List<TrainingPairs.Pair>> folds(TrainingPairs train) {
    int k = options.blendFolds();
    List<List<TrainingPairs.Pair>> out = new ArrayList<>();
    if (train.byComponent()) {
      for (List<String[]> fold : new MatchGraph(train.rows()).folds(k, options.seed())) {
        out.add(fold.stream().map(r -> new TrainingPairs.Pair(r[0], r[1])).toList());
      }
      return out;
    }
    List<TrainingPairs.Pair> shuffled = new ArrayList<>(train.positives());
    Collections.shuffle(shuffled, new Random(options.seed()));
    for (int f = 0; f < k; f++) {
      out.add(new ArrayList<>());
    }
    for (int i = 0; i < shuffled.size(); i++) {
      out.get(i % k).add(shuffled.get(i));
    }
    return out;
  }

  /** Query (anchor) → partners of {@code pairs}. */
  private static Map<String, Set<String>> truthOf(List<TrainingPairs.Pair> pairs) {
    Map<String, Set<String>> truth = new TreeMap<>();
    for (TrainingPairs.Pair p : pairs) {
      truth.computeIfAbsent(p.a(), k -> new HashSet<>()).add(p.b());
    }
    return truth;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> metricsOf(Map<String, Object> epoch) {
    return (Map<String, Object>) epoch.get("validation");
  }

  /** Both catalogues' texts ({@code b == a} for one catalogue). */
  private record Sides(Map<String, String> a, Map<String, String> b, boolean self) {}

  /** The training pairs and the validation truth (query → partners). */
  private record Split(TrainingPairs train, Map<String, Set<String>> validation, Map<String, Object> facts) {}

  private Split split(TrainingPairs pairs) {
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("by", pairs.byComponent() ? "match-graph component" : "pair");
    facts.put("validation_fraction", options.validationFraction());
    facts.put("seed", options.seed());
    List<TrainingPairs.Pair> train = new ArrayList<>();
    List<TrainingPairs.Pair> held = new ArrayList<>();
    if (options.validationFraction() <= 0) {
      train.addAll(pairs.positives());
    } else if (pairs.byComponent()) {
      MatchGraph.Split s = new MatchGraph(pairs.rows()).split(options.validationFraction(), options.seed());
      s.train().forEach(r -> train.add(new TrainingPairs.Pair(r[0], r[1])));
      s.test().forEach(r -> held.add(new TrainingPairs.Pair(r[0], r[1])));
      facts.put("train_components", s.trainComponents());
      facts.put("validation_components", s.testComponents());
    } else {
      List<TrainingPairs.Pair> shuffled = new ArrayList<>(pairs.positives());
      Collections.shuffle(shuffled, new Random(options.seed()));
      int n = (int) Math.round(options.validationFraction() * shuffled.size());
      held.addAll(shuffled.subList(0, n));
      train.addAll(shuffled.subList(n, shuffled.size()));
    }
    facts.put("train_pairs", train.size());
    facts.put("validation_pairs", held.size());
    Map<String, Set<String>> truth = new TreeMap<>();
    for (TrainingPairs.Pair p : held) {
      truth.computeIfAbsent(p.a(), k -> new HashSet<>()).add(p.b());
      if (!pairs.byComponent()) {
        truth.computeIfAbsent(p.b(), k -> new HashSet<>()).add(p.a());
      }
    }
    return new Split(pairs.subset(train), truth, facts);
  }

  /** The model's state after an epoch: validation metrics and the lists mining reads. */
  private record Epoch(Map<String, Object> metrics, double score, RankedLists lists) {}

  /**
   * Encodes what validation and mining need with {@code snapshot}, ranks it with itemsim's top-N and scores
   * the validation queries' lists.
   */
  private Epoch evaluate(ContrastiveTrainer trainer, ContrastiveTrainer.Snapshot snapshot, Sides sides,
      Split split) {
    Set<String> queries = new LinkedHashSet<>(split.validation().keySet());
    if (options.hardNegatives()) {
      split.train().positives().forEach(p -> queries.add(p.a()));
    }
    if (queries.isEmpty()) {
      return new Epoch(Map.of(), 0, new RankedLists(Map.of()));
    }
    RankedLists lists;
    try (SentenceEncoder model = trainer.encoder(snapshot)) {
      lists = rank(model, sides, queries.stream().sorted().toList());
    }
    if (split.validation().isEmpty()) {
      return new Epoch(Map.of(), 0, lists);
    }
    Map<String, Object> metrics = Evaluation.metrics(lists, split.validation());
    return new Epoch(metrics, ((Number) metrics.get(SELECTION_METRIC)).doubleValue(), lists);
  }

  private RankedLists rank(SentenceEncoder model, Sides sides, List<String> queryIds) {
    Dataset<Row> corpus = items(model, sides.b(), new ArrayList<>(new TreeMap<>(sides.b()).keySet()));
    Dataset<Row> queries = sides.self() ? corpus : items(model, sides.a(), queryIds);
    try (Ranking ranking = NeighborSearch.search(spark, retriever, new NeighborSearch.Options(LIST_SIZE, -1f, null,
        false), queries, corpus, scratchDir)) {
      return RankedLists.collect(ranking.rows());
    }
  }

  private Dataset<Row> items(SentenceEncoder model, Map<String, String> texts, List<String> ids) {
    List<String> list = ids.stream().map(texts::get).toList();
    float[][] vectors = model.encode(list).vectors();
    List<Row> rows = new ArrayList<>(ids.size());
    for (int i = 0; i < ids.size(); i++) {
      rows.add(RowFactory.create(ids.get(i), list.get(i), vectors[i]));
    }
    return spark.createDataFrame(rows, ITEMS);
  }

  /**
   * This epoch's examples in a seeded random order, each with its hard negative: an explicit negative of the
   * anchor when the pairs have one, else (with {@code hardNegatives}) the anchor's best-ranked item that is
   * related neither to it nor to its positive; anchors left without one in a run that uses negatives get a
   * random unrelated item, so every batch has one negative per anchor or none.
   */
  private List<Batches.Example> examples(TrainingPairs train, RankedLists lists, Sides sides, Random random) {
    List<TrainingPairs.Pair> order = new ArrayList<>(train.positives());
    Collections.shuffle(order, random);
    boolean withNegatives = options.hardNegatives() || !train.negatives().isEmpty();
    List<String> corpusIds = withNegatives ? new ArrayList<>(new TreeMap<>(sides.b()).keySet()) : List.of();
    List<Batches.Example> out = new ArrayList<>(order.size());
    for (TrainingPairs.Pair p : order) {
      String negative = null;
      if (withNegatives) {
        List<String> explicit = train.negatives().get(p.a());
        if (explicit != null && !explicit.isEmpty()) {
          negative = explicit.get(random.nextInt(explicit.size()));
        } else if (options.hardNegatives()) {
          negative = mined(p, lists, train);
        }
        for (int tries = 0; negative == null && tries < 100; tries++) {
          String candidate = corpusIds.get(random.nextInt(corpusIds.size()));
          if (unrelated(candidate, p, train)) {
            negative = candidate;
          }
        }
        if (negative == null) {
          throw new InvalidInputException("Cannot find a negative unrelated to training pair " + p + ": the "
              + "catalogue is too small for hard negatives");
        }
      }
      out.add(new Batches.Example(p.a(), p.b(), negative));
    }
    return out;
  }

  /**
   * The hard negative mined for {@code p}: the best-ranked item of the anchor's list (itemsim's top-N with the
   * current model) that is neither the anchor, nor its positive, nor in either's match-graph component (or
   * co-engagement partners); null when the list has none.
   */
  static String mined(TrainingPairs.Pair p, RankedLists lists, TrainingPairs train) {
    for (RankedLists.Neighbor n : lists.of(p.a())) {
      if (unrelated(n.id(), p, train)) {
        return n.id();
      }
    }
    return null;
  }

  private static boolean unrelated(String candidate, TrainingPairs.Pair p, TrainingPairs train) {
    return !candidate.equals(p.a()) && !candidate.equals(p.b()) && !train.relatedTo(p.a()).contains(candidate)
        && !train.relatedTo(p.b()).contains(candidate);
  }

  private static ContrastiveTrainer.Batch batch(List<Batches.Example> examples, Sides sides) {
    List<String> anchors = new ArrayList<>();
    List<String> positives = new ArrayList<>();
    List<String> negatives = new ArrayList<>();
    for (Batches.Example e : examples) {
      anchors.add(sides.a().get(e.anchor()));
      positives.add(sides.b().get(e.positive()));
      if (e.negative() != null) {
        negatives.add(sides.b().get(e.negative()));
      }
    }
    return new ContrastiveTrainer.Batch(anchors, positives, negatives);
  }

  /** The progress line: step, loss, pairs/s, tokens/s, ETA; logged every 10 s and at the end of an epoch. */
  private final class Progress {
    private final String label;
    private final int epoch;
    private final int steps;
    private final int pairs;
    private final long start = System.nanoTime();
    private long lastLog = start;
    private int step;
    private int done;
    private double recentLoss = Double.NaN;

    Progress(String label, int epoch, int steps, int pairs) {
      this.label = label;
      this.epoch = epoch;
      this.steps = steps;
      this.pairs = pairs;
    }

    void stepDone(int size, double loss, long tokens, int stepsLeft) {
      step++;
      done += size;
      recentLoss = Double.isNaN(recentLoss) ? loss : 0.9 * recentLoss + 0.1 * loss;
      long now = System.nanoTime();
      if (now - lastLog < 10_000_000_000L && step < steps) {
        return;
      }
      lastLog = now;
      double seconds = (now - start) / 1e9;
      double perStep = seconds / step;
      LOG.info(String.format(Locale.ROOT, "finetune%s epoch %d/%d step %d/%d loss %.4f (smoothed %.4f) %.1f pairs/s "
              + "%.0f tokens/s, epoch %d/%d pairs, ETA %s", label, epoch, options.epochs(), step, steps, loss, recentLoss,
          done / seconds, tokens / seconds, done, pairs, duration(perStep * stepsLeft)));
    }
  }

  private static String duration(double seconds) {
    long s = Math.round(seconds);
    return s >= 60 ? (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s" : s + "s";
  }

  private static void writeJson(Path file, Object value) {
    try {
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), value);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + file, e);
    }
  }
}
