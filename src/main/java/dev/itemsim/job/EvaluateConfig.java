package dev.itemsim.job;

import com.typesafe.config.Config;
import dev.itemsim.config.TypedConfig;
import dev.itemsim.similarity.NeighborSearch;
import dev.itemsim.similarity.Retriever;
import dev.itemsim.similarity.Retrievers;
import java.util.Map;

/**
 * The evaluate job's settings (keys in {@code conf/defaults.conf}): catalogue A ({@code input.*}), catalogue
 * B ({@code search.against}, or A itself), the true-match pairs ({@code eval.matches}) and how to encode and
 * search — read exactly as the similar-items job reads them, except that lists have {@code eval.listSize}
 * neighbours.
 */
public record EvaluateConfig(
    CatalogSource input,
    CatalogSource against,
    CorpusSettings corpus,
    Retriever retriever,
    NeighborSearch.Options search,
    String matchesPath,
    int missContext,
    OutputLayout output,
    Map<String, String> spark,
    String digest) {

  public static final String JOB = "evaluate";

  public static EvaluateConfig from(Config config) {
    TypedConfig c = JobSettings.forJob(config, JobSettings.EVALUATE);
    return new EvaluateConfig(
        JobSettings.input(c),
        JobSettings.against(c),
        JobSettings.corpus(c),
        Retrievers.fromConfig(c),
        JobSettings.search(c, c.intIn("eval.listSize", 1, NeighborSearch.Options.MAX_TOP_N)),
        c.requiredString("eval.matches"),
        c.intIn("eval.missContext", 0, 100),
        new OutputLayout(c.requiredString("output.path")),
        JobSettings.spark(c),
        JobSettings.digest(config));
  }

  public int listSize() {
    return search.topN();
  }
}
