package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The hybrid scorer's lists carried between runs ({@link IncrementalLists}). Lexical weights depend on the
 * whole catalogue, so the rule is: <b>the document frequencies are frozen at the last full run</b> and stored
 * with the lists; incremental runs weigh every text with them, so an unchanged pair keeps its exact score
 * and stored lists stay valid. New, changed and deleted items are counted against the catalogue size the
 * frequencies were counted on; once they pass {@link IncrementalLists.Options#idfDrift} of it, the run is a
 * full run that counts them again and ranks every item.
 *
 * <p>Between full runs an update ranks the fresh items (and items short of neighbours) against all items,
 * and unchanged items against the fresh ones, both through the hybrid's own candidate re-ranking
 * ({@link CandidateReranking}) with the frozen weights. Lists then differ from a full recomputation where the
 * weights moved and where the candidate pools differ (a full run gathers lexical candidates through a pruned
 * index over the whole catalogue); docs/BENCHMARKS.md measures how much.
 */
final class IncrementalHybrid implements IncrementalLists.ListSource {
  private final HybridRetriever retriever;
  private final LexicalFeatures.Frequencies stored;
  private LexicalFeatures.Frequencies frequencies;
  private SearchFacts facts;

  /** {@code stored}: the previous run's frequencies, or null. */
  IncrementalHybrid(HybridRetriever retriever, LexicalFeatures.Frequencies stored) {
    this.retriever = retriever;
    this.stored = stored;
  }

  @Override
  public String whyFull(IncrementalLists.Update u, IncrementalLists.State previous, IncrementalLists.Options options,
      long changes) {
    if (stored == null) {
      return "the previous run kept no lexical weights";
    }
    LexicalFeatures.Frequencies next = stored.withChanges(changes);
    if (next.drift() > options.idfDrift()) {
      return String.format(Locale.ROOT, "lexical weights refitted: %d items new, changed or deleted since they were"
          + " fitted on %d (%.1f%%, above run.incremental.idfDrift = %s)", next.changesSinceFit(), next.documents(),
          100 * next.drift(), options.idfDrift());
    }
    frequencies = next;
    return null;
  }

  @Override
  public Dataset<Row> full(IncrementalLists.Update u, Dataset<Row> items, int k) {
    // weights fitted once on these texts, kept for later runs; ranking with them is the hybrid retriever's
    // ranking (frequencies of the texts ranked weigh them as fitting on them does, to the bit)
    frequencies = LexicalFeatures.frequencies(items, retriever.options().lexical().lexical());
    try (Ranking ranking = CandidateReranking.rank(u.spark, new SearchRequest(items, items, k, u.filter,
        u.scratchDir), HybridRetriever.NAME, retriever.options().lexical(), retriever.options().blend(),
        exactCandidates(), frequencies)) {
      facts = ranking.facts();
      return u.detach(IncrementalLists.statesFromRanks(u, ranking.rows(), k));
    }
  }

  @Override
  public Dataset<Row> against(IncrementalLists.Update u, Dataset<Row> queries, Dataset<Row> corpus, int k) {
    try (Ranking ranking = ranked(u, queries, corpus, k, 0)) {
      facts = ranking.facts();
      return u.detach(IncrementalLists.listsFromRanks(ranking.rows(), k));
    }
  }

  @Override
  public Map<String, ScoredList> within(IncrementalLists.Update u, Dataset<Row> queries, Dataset<Row> all, int k) {
    if (queries.isEmpty()) {
      return Map.of();
    }
    // the queries are among the corpus: one more candidate and one more neighbour each, then the item is dropped
    try (Ranking ranking = ranked(u, queries, all, k + 1, 1)) {
      return lists(ranking.rows(), k, k + 1);
    }
  }

  /** Cross-catalogue hybrid ranking of {@code queries} against {@code corpus} with the frozen weights. */
  private Ranking ranked(IncrementalLists.Update u, Dataset<Row> queries, Dataset<Row> corpus, int k, int extra) {
    LexicalRetriever.Options lexical = retriever.options().lexical();
    return CandidateReranking.rank(u.spark, new SearchRequest(queries, corpus, k, u.filter, u.scratchDir),
        HybridRetriever.NAME, lexical.withCandidates(lexical.candidates() + extra), retriever.options().blend(),
        exactCandidates(), frequencies);
  }

  /**
   * Ranked rows gathered into lists of at most {@code k}, on the driver (few items); with {@code withSelf} (the
   * length asked for, one more than k) an item is dropped from its own list.
   */
  private static Map<String, ScoredList> lists(Dataset<Row> rows, int k, Integer withSelf) {
    Map<String, List<Row>> byItem = new HashMap<>();
    for (Row r : rows.orderBy(col(SearchItems.ID), col("rank")).collectAsList()) {
      byItem.computeIfAbsent(r.getString(0), x -> new java.util.ArrayList<>()).add(r);
    }
    Map<String, ScoredList> out = new HashMap<>(2 * byItem.size());
    byItem.forEach((id, list) -> {
      String[] ids = list.stream().map(r -> r.getString(2)).toArray(String[]::new);
      float[] scores = new float[ids.length];
      for (int i = 0; i < ids.length; i++) {
        scores[i] = list.get(i).getFloat(3);
      }
      int asked = withSelf == null ? k : withSelf;
      ScoredList all = new ScoredList(ids, scores, ids.length >= asked);
      ScoredList others = withSelf == null ? all : all.without(id::equals);
      out.put(id, others.size() > k ? others.first(k) : others);
    });
    return out;
  }

  @Override
  public SearchFacts facts(IncrementalLists.Update u, boolean incremental) {
    if (facts != null) {
      return facts;
    }
    EmbeddingRetriever.Options embedding = retriever.options().embedding();
    return new SearchFacts(HybridRetriever.NAME, Kernels.describe(embedding.kernel()), ScoreChunks.best().name(),
        u.dimension(), null, embedding.blockSize(), "broadcast", null);
  }

  @Override
  public Dataset<Row> score(IncrementalLists.Update u, Dataset<Row> pairs) {
    // frozen weights do not depend on which texts are given: rank the pairs' items once and score the pairs
    Dataset<Row> queries = u.items.join(pairs.select(col("item_id").as("_q")).distinct(),
        col(SearchItems.ID).equalTo(col("_q")), "left_semi");
    Dataset<Row> corpus = u.items.join(pairs.select(col("neighbor_id").as("_c")).distinct(),
        col(SearchItems.ID).equalTo(col("_c")), "left_semi");
    Ranking ranking = u.keepOpen(CandidateReranking.rank(u.spark, new SearchRequest(queries, corpus, 1,
        SearchRequest.FilterColumns.NONE, u.scratchDir), HybridRetriever.NAME, retriever.options().lexical(),
        retriever.options().blend(), exactCandidates(), frequencies));
    // the pair scores are read lazily from the ranking's shard files: it closes with the update
    return ranking.score(pairs);
  }

  @Override
  public LexicalFeatures.Frequencies frequencies() {
    return frequencies;
  }

  /**
   * The embedding candidates of an update: always exact, as the stored lists it updates are exact (an
   * approximate method keeps no lists between runs).
   */
  private EmbeddingRetriever exactCandidates() {
    return new EmbeddingRetriever(retriever.options().embedding());
  }
}
