package dev.itemsim.job;

import com.typesafe.config.Config;
import dev.itemsim.InvalidInputException;
import dev.itemsim.config.TypedConfig;
import dev.itemsim.embed.EncoderSettings;
import dev.itemsim.embed.EngineChoice;
import dev.itemsim.finetune.CoEngagement;
import dev.itemsim.finetune.FineTuning;
import dev.itemsim.similarity.EmbeddingRetriever;
import dev.itemsim.similarity.LexicalRetriever;
import java.util.Map;

/**
 * The finetune job's settings (keys in {@code conf/defaults.conf}, section {@code finetune}): the catalogues
 * and their texts, read as every job reads them; the training pairs, from a labelled file
 * ({@code finetune.pairs}) or co-engagement events ({@code finetune.events}); the hyper-parameters; and the
 * base model ({@code encoder.model}), trained on the PyTorch engine on {@code encoder.device}.
 *
 * @param against the second catalogue ({@code search.against}; labelled pairs only), or null
 * @param pairsPath labelled pairs, or "" when training from events
 * @param eventsPath co-engagement events, or "" when training from labelled pairs
 * @param threads PyTorch threads for training ({@code finetune.threads}; 0 = every core of the driver)
 */
public record FinetuneConfig(
    CatalogSource input,
    CatalogSource against,
    CorpusSettings corpus,
    EmbeddingRetriever.Options search,
    LexicalRetriever.Options lexical,
    double embeddingWeight,
    String pairsPath,
    String eventsPath,
    CoEngagement.Settings events,
    FineTuning.Options training,
    int threads,
    OutputLayout output,
    Map<String, String> spark,
    String digest) {

  public static final String JOB = "finetune";

  public static FinetuneConfig from(Config config) {
    TypedConfig c = JobSettings.forJob(config, JobSettings.FINETUNE);
    return new FinetuneConfig(
        JobSettings.input(c),
        JobSettings.against(c),
        JobSettings.corpus(c),
        EmbeddingRetriever.Options.from(c),
        LexicalRetriever.Options.from(c),
        c.doubleIn("similarity.hybrid.embeddingWeight", 0, 1),
        c.string("finetune.pairs").trim(),
        c.string("finetune.events").trim(),
        new CoEngagement.Settings(c.intIn("finetune.sessionMinutes", 1, 10_000_000),
            c.intIn("finetune.minCount", 1, 1_000_000), c.intIn("finetune.maxPairsPerItem", 1, 1000),
            c.intIn("finetune.maxSessionItems", 2, 10_000)),
        new FineTuning.Options(
            c.intIn("finetune.epochs", 1, 1000),
            c.intIn("finetune.batchSize", 2, 4096),
            c.doubleIn("finetune.learningRate", 1e-8, 1),
            c.doubleIn("finetune.warmupFraction", 0, 1),
            c.doubleIn("finetune.weightDecay", 0, 1),
            c.doubleIn("finetune.maxGradNorm", 0, 1e6),
            c.doubleIn("finetune.scale", 0.1, 1000),
            c.doubleIn("finetune.dropout", 0, 0.9),
            c.bool("finetune.hardNegatives"),
            c.doubleIn("finetune.validationFraction", 0, 0.9),
            c.intIn("finetune.patience", 1, 1000),
            c.intIn("finetune.seed", 0, Integer.MAX_VALUE),
            c.bool("finetune.learnBlend"),
            c.intIn("finetune.blendFolds", 0, 20),
            c.oneOf("finetune.blendObjective", FineTuning.Options.BLEND_OBJECTIVES)),
        c.intIn("finetune.threads", 0, 256),
        new OutputLayout(c.requiredString("output.path")),
        JobSettings.spark(c),
        JobSettings.digest(config)).checked();
  }

  private FinetuneConfig checked() {
    if (pairsPath.isEmpty() == eventsPath.isEmpty()) {
      throw new InvalidInputException("The finetune job trains on finetune.pairs (labelled pairs) or finetune.events"
          + " (co-engagement events): set exactly one of them");
    }
    if (!eventsPath.isEmpty() && against != null) {
      throw new InvalidInputException("finetune.events pairs items of one catalogue: unset search.against");
    }
    EngineChoice engine = corpus.encoder().engine();
    if (engine != EngineChoice.AUTO && engine != EngineChoice.PYTORCH) {
      throw new InvalidInputException("encoder.engine = " + engine.name().toLowerCase(java.util.Locale.ROOT)
          + ": fine-tuning runs on the PyTorch engine; use auto or pytorch (the tuned folder runs on both)");
    }
    return this;
  }

  /** The encoder settings training runs with: the job's, on PyTorch, with the training thread count. */
  public EncoderSettings trainingEncoder() {
    EncoderSettings e = corpus.encoder();
    int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    return new EncoderSettings(e.model(), e.batchSize(), e.maxTokens(), Math.min(256, n), EngineChoice.PYTORCH,
        e.device(), e.fp16(), e.pooling());
  }

  /** The pairs file or events file this run trains from. */
  public String trainingSource() {
    return pairsPath.isEmpty() ? eventsPath : pairsPath;
  }
}
