package dev.itemsim.job;

import com.typesafe.config.Config;
import dev.itemsim.InvalidInputException;
import dev.itemsim.config.TypedConfig;
import dev.itemsim.similarity.IncrementalLists;
import dev.itemsim.similarity.NeighborSearch;
import dev.itemsim.similarity.Retriever;
import dev.itemsim.similarity.Retrievers;
import java.time.LocalDate;
import java.util.Map;

/**
 * The similar-items job's settings, read from a loaded configuration (keys documented in
 * {@code conf/defaults.conf}) and validated as a whole before any work starts.
 *
 * @param against the second catalogue ({@code search.against}), or null
 * @param retriever the scorer ({@code similarity.scorer}) with its options
 * @param search list length ({@code similarity.topN}), filters, minimum score, collapsing
 * @param full rank and encode everything, ignoring the previous run's tables ({@code run.full})
 * @param incremental how the previous run's lists are updated ({@code run.incremental.*})
 */
public record SimilarItemsConfig(
    CatalogSource input,
    CatalogSource against,
    CorpusSettings corpus,
    Retriever retriever,
    NeighborSearch.Options search,
    OutputLayout output,
    LocalDate runDate,
    boolean full,
    IncrementalLists.Options incremental,
    Map<String, String> spark,
    String digest) {

  public static final String JOB = "similar-items";

  public static SimilarItemsConfig from(Config config) {
    TypedConfig c = JobSettings.forJob(config, JobSettings.SIMILAR_ITEMS);
    return new SimilarItemsConfig(
        JobSettings.input(c),
        JobSettings.against(c),
        JobSettings.corpus(c),
        Retrievers.fromConfig(c),
        JobSettings.search(c, c.intIn("similarity.topN", 1, NeighborSearch.Options.MAX_TOP_N)),
        new OutputLayout(c.requiredString("output.path")),
        JobSettings.runDate(c.string("run.date")),
        c.bool("run.full"),
        new IncrementalLists.Options(c.intIn("run.incremental.spareNeighbors", 0, NeighborSearch.Options.MAX_TOP_N),
            c.doubleIn("run.incremental.maxRecomputedFraction", 0.0, 1.0),
            c.doubleIn("run.incremental.idfDrift", 0.0, 1.0)),
        JobSettings.spark(c),
        JobSettings.digest(config)).checked();
  }

  private SimilarItemsConfig checked() {
    if (search.collapseDuplicateTexts() && against != null) {
      throw new InvalidInputException("similarity.collapseDuplicateTexts works on one catalogue; "
          + "unset search.against or the collapse");
    }
    return this;
  }

  public int topN() {
    return search.topN();
  }
}
