package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

import dev.itemsim.StrictReads;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Neighbour lists carried from one run to the next: a run that finds its previous run's lists (the
 * <em>state</em>) updates them instead of ranking every item again.
 *
 * <p>The state holds, per ranked item, its text hash, its filter values and its best {@code topN + spare}
 * neighbours ({@link ScoredList}: a prefix of its ranking, or all of it). Against the previous state every
 * current item is <em>unchanged</em> (same id, text hash and filter values, and its vector reused, not
 * encoded again: column {@value #VECTOR_REUSED}) or <em>fresh</em> (new or changed); a previous item that
 * is not unchanged is <em>gone</em> (deleted or changed). Then, for the embedding scorer, exactly:
 * <ul>
 *   <li>an unchanged item's stored list minus gone neighbours is a prefix of its ranking over the unchanged
 *       items (their vectors, and so their scores, did not change); merged with its best items among the
 *       fresh ones ({@link StreamedTopN#againstSmallSet}) it is a prefix over all current items
 *       ({@link ScoredList#merge}), at least {@code topN} long when the stored prefix still was;
 *   <li>every fresh item, and every unchanged item whose stored prefix fell below {@code topN} (it lost
 *       neighbours), is ranked again against all items ({@link StreamedTopN#ofSmallSet}).
 * </ul>
 * The lists are those of a full ranking of the same vectors: the same neighbours in the same order (ties by
 * the lower id) with the same scores. When more than {@link Options#maxRecomputedFraction} of the lists
 * would be ranked again, or there is no state, the full blocked top-N runs instead and says why.
 *
 * <p>For the hybrid scorer the same update runs with the hybrid ranker, lexical weights frozen at the
 * document frequencies of its last full run ({@link IncrementalHybrid}); its lists are then close to, not
 * equal to, a full run's.
 */
public final class IncrementalLists {
  private static final Logger LOG = LoggerFactory.getLogger(IncrementalLists.class);
  /** Optional boolean column of the items: the item's vector is the previous run's (not encoded again). */
  public static final String VECTOR_REUSED = "vector_reused";
  /** Column of the items: hash of the item's text ({@code text_hash} of the embeddings table). */
  public static final String TEXT_HASH = "text_hash";

  /** One row per ranked item: its signature and its stored list ({@link ScoredList}). */
  public static final StructType STATE_SCHEMA = new StructType()
      .add(SearchItems.ID, DataTypes.StringType, false)
      .add(TEXT_HASH, DataTypes.StringType, false)
      .add("attrs", DataTypes.createArrayType(DataTypes.StringType, true), false)
      .add("neighbor_ids", DataTypes.createArrayType(DataTypes.StringType, false), false)
      .add("scores", DataTypes.createArrayType(DataTypes.FloatType, false), false)
      .add("truncated", DataTypes.BooleanType, false);

  private IncrementalLists() {}

  /**
   * @param spare neighbours stored beyond {@code topN} per item, so an item may lose that many before it is
   *     ranked again
   * @param maxRecomputedFraction above this share of lists to rank again, the full top-N runs instead
   * @param idfDrift hybrid: changed, new and deleted items since the lexical weights were fitted, as a share
   *     of the items they were fitted on, above which they are fitted again in a full run
   */
  public record Options(int spare, double maxRecomputedFraction, double idfDrift) {
    public Options {
      if (spare < 0 || !(maxRecomputedFraction >= 0 && maxRecomputedFraction <= 1) || !(idfDrift >= 0)) {
        throw new IllegalArgumentException("spare >= 0, maxRecomputedFraction in 0..1, idfDrift >= 0: " + spare
            + ", " + maxRecomputedFraction + ", " + idfDrift);
      }
    }
  }

  /**
   * A previous run's state: its lists ({@link #STATE_SCHEMA}) and, for the hybrid scorer, its frozen lexical
   * weights.
   */
  public record State(Dataset<Row> lists, LexicalFeatures.Frequencies frequencies) {}

  /**
   * What the update did, over ranked items.
   *
   * @param lists lists written (ranked items)
   * @param unchanged items unchanged since the previous run
   * @param fresh new and changed items
   * @param gone deleted and changed items of the previous run
   * @param updated unchanged items whose stored list was kept and merged with the fresh items
   * @param recomputed items ranked against all items (fresh ones, and unchanged ones that lost too many)
   */
  public record Counts(long lists, long unchanged, long fresh, long gone, long updated, long recomputed) {
    static Counts full(long lists) {
      return new Counts(lists, 0, lists, 0, 0, lists);
    }
  }

  /**
   * @param ranking the lists of {@code topN}, lazily from {@link #state}
   * @param state the next run's state, computed and persisted
   * @param fullReason why every list was ranked again, or null when the lists were updated
   * @param frequencies the lexical weights the lists used (hybrid), or null
   */
  public record Outcome(Ranking ranking, Dataset<Row> state, Counts counts, String fullReason,
      LexicalFeatures.Frequencies frequencies) {}

  /**
   * Ranks {@code items} (one catalogue, searched against itself) with {@code retriever} — embedding or
   * hybrid — updating {@code previous} when given. {@code items} needs {@value #TEXT_HASH}; its filter columns
   * are those of {@code filter}. {@code whyFull} says why there is no previous state (null when there is).
   */
  public static Outcome rank(SparkSession spark, Retriever retriever, Dataset<Row> items, int topN,
      SearchRequest.FilterColumns filter, State previous, String whyFull, Options options, String scratchDir) {
    ListSource source;
    if (retriever instanceof EmbeddingRetriever e) {
      Kernels.checkOnExecutors(org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext()),
          e.options().kernel());
      source = new ExactLists(e);
    } else if (retriever instanceof HybridRetriever h) {
      source = new IncrementalHybrid(h, previous == null ? null : previous.frequencies());
    } else {
      throw new IllegalArgumentException("Scorer " + retriever.name() + " keeps no lists between runs");
    }
    Update update = new Update(spark, source, items, topN, topN + options.spare(), filter, scratchDir);
    try {
      return previous == null ? update.full(whyFull) : update.incremental(previous, options);
    } catch (RuntimeException | Error e) {
      update.release();
      throw e;
    }
  }

  /** Whether {@code retriever}'s lists can be carried between runs. */
  public static boolean supports(Retriever retriever) {
    return retriever instanceof EmbeddingRetriever || retriever instanceof HybridRetriever;
  }

  /** How one scorer's lists are computed, in full and for the update. */
  interface ListSource {
    /** Lists of every item of {@code items} among all others, {@code k} long, as {@link #STATE_SCHEMA} rows. */
    Dataset<Row> full(Update u, Dataset<Row> items, int k);

    /**
     * Every item of {@code queries} with its best {@code k} of {@code corpus}, which holds none of them, as
     * {@link StreamedTopN#LIST_SCHEMA} rows, computed and persisted.
     */
    Dataset<Row> against(Update u, Dataset<Row> queries, Dataset<Row> corpus, int k);

    /** Every item of {@code queries} with its best {@code k} of {@code all} other than itself. */
    Map<String, ScoredList> within(Update u, Dataset<Row> queries, Dataset<Row> all, int k);

    /**
     * Why this update must be a full run (e.g. stale weights), given the {@code changes} (new, changed and
     * deleted items) since the previous run; null when it need not.
     */
    default String whyFull(Update u, State previous, Options options, long changes) {
      return null;
    }

    /** What ran, for the run summary. */
    SearchFacts facts(Update u, boolean incremental);

    /** The pair scores of the finished lists. */
    Dataset<Row> score(Update u, Dataset<Row> pairs);

    /** Lexical weights to keep for the next run (hybrid), or null. */
    default LexicalFeatures.Frequencies frequencies() {
      return null;
    }
  }

  /** The embedding scorer: exact lists from the blocked kernel (full) or streamed products (update). */
  private record ExactLists(EmbeddingRetriever retriever) implements ListSource {
    @Override
    public Dataset<Row> full(Update u, Dataset<Row> items, int k) {
      try (Ranking ranking = retriever.rank(u.spark, new SearchRequest(items, items, k, u.filter, u.scratchDir))) {
        u.fullFacts = ranking.facts();
        return u.detach(statesFromRanks(u, ranking.rows(), k));
      }
    }

    @Override
    public Dataset<Row> against(Update u, Dataset<Row> queries, Dataset<Row> corpus, int k) {
      CollectedItems small = CollectedItems.collect(corpus, retriever.options().blockSize(), false,
          u.filter.columns());
      return StreamedTopN.againstSmallSet(u.spark, queries, small, k, u.filter, retriever.options().kernel(),
          u.kernelUsage(), retriever.options().blockSize(), u.broadcasts);
    }

    @Override
    public Map<String, ScoredList> within(Update u, Dataset<Row> queries, Dataset<Row> all, int k) {
      CollectedItems small = CollectedItems.collect(queries, retriever.options().blockSize(), false,
          u.filter.columns());
      return StreamedTopN.ofSmallSet(u.spark, small, all, k, u.filter, retriever.options().kernel(),
          u.kernelUsage(), retriever.options().blockSize());
    }

    @Override
    public SearchFacts facts(Update u, boolean incremental) {
      if (!incremental) {
        return u.fullFacts;
      }
      return new SearchFacts(EmbeddingRetriever.NAME, Kernels.describe(retriever.options().kernel()),
          ScoreChunks.best().name(), u.dimension(), null, retriever.options().blockSize(),
          "streamed (changed items broadcast)", null).withKernelUsage(u.kernelUsage());
    }

    @Override
    public Dataset<Row> score(Update u, Dataset<Row> pairs) {
      return EmbeddingRetriever.dotProducts(u.spark, pairs, u.items, u.items);
    }
  }

  /**
   * {@link StreamedTopN#LIST_SCHEMA} rows from a ranking's rows: each ranked item's list, truncated when it
   * holds {@code k} entries (items without neighbours have no row).
   */
  static Dataset<Row> listsFromRanks(Dataset<Row> ranks, int k) {
    return ranks.groupBy(col(SearchItems.ID))
        .agg(sort_array(collect_list(struct(col("rank"), col("neighbor_id"), col("score")))).as("_l"))
        .select(col(SearchItems.ID), col("_l.neighbor_id").as("neighbor_ids"), col("_l.score").as("scores"),
            size(col("_l")).geq(k).as("truncated"));
  }

  /** {@link #STATE_SCHEMA} rows from a ranking's rows, one per item of the update (empty lists included). */
  static Dataset<Row> statesFromRanks(Update u, Dataset<Row> ranks, int k) {
    Dataset<Row> lists = ranks.groupBy(col(SearchItems.ID).as("_id"))
        .agg(sort_array(collect_list(struct(col("rank"), col("neighbor_id"), col("score")))).as("_l"));
    Dataset<Row> signatures = u.signatures();
    return signatures.join(lists, signatures.col(SearchItems.ID).equalTo(lists.col("_id")), "left")
        .select(col(SearchItems.ID), col(TEXT_HASH), col("attrs"),
            coalesce(col("_l.neighbor_id"), expr("cast(array() as array<string>)")).as("neighbor_ids"),
            coalesce(col("_l.score"), expr("cast(array() as array<float>)")).as("scores"),
            coalesce(size(col("_l")).geq(k), lit(false)).as("truncated"));
  }

  /** One run's update: the items, the list lengths, and what was persisted on the way. */
  static final class Update {
    final SparkSession spark;
    final ListSource source;
    final Dataset<Row> items;
    final int topN;
    final int kept;
    final SearchRequest.FilterColumns filter;
    final String scratchDir;
    final List<Dataset<Row>> persisted = new ArrayList<>();
    final List<Broadcast<?>> broadcasts = new ArrayList<>();
    /** Rankings whose results were materialised: what they read stays in their lineage, so they close last. */
    final List<Ranking> rankings = new ArrayList<>();
    SearchFacts fullFacts;
    private Integer dimension;
    /** Where the streamed products of the update ran, registered by the first of them. */
    private KernelUsage kernelUsage;

    Update(SparkSession spark, ListSource source, Dataset<Row> items, int topN, int kept,
        SearchRequest.FilterColumns filter, String scratchDir) {
      this.spark = spark;
      this.source = source;
      this.items = items;
      this.topN = topN;
      this.kept = kept;
      this.filter = filter;
      this.scratchDir = scratchDir;
    }

    /** {@code item_id, text_hash, attrs}: what an item is compared by between runs. */
    Dataset<Row> signatures() {
      return items.select(col(SearchItems.ID), col(TEXT_HASH), attrs().as("attrs"));
    }

    /** The filter values of an item, in the order of {@code filter.columns()}. */
    private Column attrs() {
      Column[] values = filter.columns().stream().map(c -> col(c).cast(DataTypes.StringType)).toArray(Column[]::new);
      return values.length == 0 ? expr("cast(array() as array<string>)") : array(values);
    }

    /** {@code ranking}, closed when the update is released (see {@link #rankings}). */
    Ranking keepOpen(Ranking ranking) {
      rankings.add(ranking);
      return ranking;
    }

    /** The accumulator the update's streamed product tasks report their kernel to. */
    KernelUsage kernelUsage() {
      if (kernelUsage == null) {
        kernelUsage = KernelUsage.register(spark.sparkContext());
      }
      return kernelUsage;
    }

    /** Drops what the update persisted, destroys its broadcasts, closes the rankings it kept open. */
    void release() {
      if (kernelUsage != null) {
        kernelUsage.log();
      }
      persisted.forEach(Dataset::unpersist);
      broadcasts.forEach(Broadcast::destroy);
      persisted.clear();
      broadcasts.clear();
      List<Runnable> closing = rankings.stream().<Runnable>map(r -> r::close).toList();
      rankings.clear();
      Cleanups.runAll(closing);
    }

    /**
     * {@code data} written to a Parquet folder under the scratch directory and read back: a result that no longer
     * depends on the ranking it was computed from, so the ranking can be closed (its broadcasts destroyed, its
     * block files deleted) while the result is still read. A persisted copy is not enough: Spark recomputes a
     * cached partition from its lineage whenever the cached block is gone (evicted, or its executor lost).
     */
    Dataset<Row> detach(Dataset<Row> data) {
      String dir = new org.apache.hadoop.fs.Path(scratchDir, "lists-" + java.util.UUID.randomUUID()).toString();
      data.write().parquet(dir);
      return materialize(StrictReads.parquet(spark, dir));
    }

    Dataset<Row> materialize(Dataset<Row> data) {
      Dataset<Row> cached = data.persist(StorageLevel.MEMORY_AND_DISK());
      cached.count();
      persisted.add(cached);
      return cached;
    }

    int dimension() {
      if (dimension == null) {
        dimension = items.selectExpr("size(" + SearchItems.EMBEDDING + ")").first().getInt(0);
      }
      return dimension;
    }

    Outcome full(String reason) {
      Dataset<Row> state = source.full(this, items, kept);
      long n = state.count();
      LOG.info("Ranked all {} items ({}); lists of {} kept for the next run", n, reason, kept);
      return finish(state, Counts.full(n), reason, false);
    }

    Outcome incremental(State previous, Options options) {
      Column reused = Set.of(items.columns()).contains(VECTOR_REUSED) ? col(VECTOR_REUSED) : lit(false);
      Dataset<Row> current = items.select(col(SearchItems.ID), col(TEXT_HASH), attrs().as("attrs"),
          reused.as(VECTOR_REUSED));
      Dataset<Row> before = previous.lists().select(col(SearchItems.ID).as("_pid"), col(TEXT_HASH).as("_phash"),
          col("attrs").as("_pattrs"));
      Column present = col(SearchItems.ID).isNotNull();
      Column wasPresent = col("_pid").isNotNull();
      Column unchanged = present.and(wasPresent).and(col(TEXT_HASH).equalTo(col("_phash")))
          .and(col("attrs").eqNullSafe(col("_pattrs"))).and(col(VECTOR_REUSED));
      Dataset<Row> status = materialize(current.join(before, col(SearchItems.ID).equalTo(col("_pid")), "full_outer")
          .select(coalesce(col(SearchItems.ID), col("_pid")).as("_sid"),
              when(unchanged, lit("unchanged")).when(present, lit("fresh")).otherwise(lit("deleted")).as("_status"),
              wasPresent.and(unchanged.isNull().or(not(unchanged))).as("_gone")));
      Map<String, Long> byStatus = new java.util.HashMap<>();
      long gone = 0;
      for (Row r : status.groupBy("_status", "_gone").count().collectAsList()) {
        byStatus.merge(r.getString(0), r.getLong(2), Long::sum);
        gone += r.getBoolean(1) ? r.getLong(2) : 0;
      }
      long n = byStatus.getOrDefault("unchanged", 0L) + byStatus.getOrDefault("fresh", 0L);
      long fresh = byStatus.getOrDefault("fresh", 0L);
      String why = source.whyFull(this, previous, options, fresh + byStatus.getOrDefault("deleted", 0L));
      if (why != null) {
        return full(why);
      }
      if (fresh > options.maxRecomputedFraction() * n) {
        return full(tooMany(fresh, n, "are new or changed", options));
      }
      long previousItems = byStatus.getOrDefault("unchanged", 0L) + gone;
      if (gone > options.maxRecomputedFraction() * previousItems) {
        return full(tooMany(gone, previousItems, "of the previous run were deleted or changed", options));
      }
      Set<String> goneIds = new HashSet<>(status.filter(col("_gone")).select("_sid").as(Encoders.STRING())
          .collectAsList());
      Broadcast<Set<String>> sharedGone = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(goneIds);
      broadcasts.add(sharedGone);
      int minimum = topN;
      Dataset<Row> unchangedIds = status.filter(col("_status").equalTo("unchanged")).select(col("_sid"));
      Dataset<Row> stored = previous.lists().join(unchangedIds, col(SearchItems.ID).equalTo(col("_sid")), "left_semi");
      Dataset<Row> remaining = materialize(spark.createDataFrame(stored.javaRDD().map(r -> {
        ScoredList list = ScoredList.of(r.getList(r.fieldIndex("neighbor_ids")), r.getList(r.fieldIndex("scores")),
            r.getBoolean(r.fieldIndex("truncated"))).without(sharedGone.value()::contains);
        return RowFactory.create(r.getString(r.fieldIndex(SearchItems.ID)), list.ids(), list.scores(),
            list.truncated(), list.truncated() && list.size() < minimum);
      }), StreamedTopN.LIST_SCHEMA.add("short", DataTypes.BooleanType, false)));
      long shortLists = remaining.filter(col("short")).count();
      long recompute = fresh + shortLists;
      if (recompute > options.maxRecomputedFraction() * n) {
        return full(tooMany(recompute, n, "must be ranked again (new, changed or short of neighbours)", options));
      }
      Dataset<Row> recomputeIds = status.filter(col("_status").equalTo("fresh")).select(col("_sid"))
          .union(remaining.filter(col("short")).select(col(SearchItems.ID).as("_sid")));
      Dataset<Row> toRecompute = items.join(recomputeIds, col(SearchItems.ID).equalTo(col("_sid")), "left_semi");
      Dataset<Row> freshItems = items.join(status.filter(col("_status").equalTo("fresh")),
          col(SearchItems.ID).equalTo(col("_sid")), "left_semi");
      Dataset<Row> updatedItems = items.join(remaining.filter(not(col("short"))),
          items.col(SearchItems.ID).equalTo(remaining.col(SearchItems.ID)), "left_semi");

      Dataset<Row> additions = fresh == 0 ? null : source.against(this, updatedItems, freshItems, kept);
      if (additions != null) {
        persisted.add(additions);
      }
      Dataset<Row> updated = mergeUpdated(remaining.filter(not(col("short"))), additions);
      Map<String, ScoredList> recomputed = source.within(this, toRecompute, items, kept);
      List<Row> recomputedRows = new ArrayList<>(recomputed.size());
      recomputed.forEach((id, list) -> recomputedRows.add(RowFactory.create(id, list.ids(), list.scores(),
          list.truncated())));
      Dataset<Row> lists = updated.union(spark.createDataFrame(recomputedRows, StreamedTopN.LIST_SCHEMA));
      Dataset<Row> signatures = signatures();
      Dataset<Row> state = materialize(signatures.join(lists.withColumnRenamed(SearchItems.ID, "_lid"),
              col(SearchItems.ID).equalTo(col("_lid")))
          .select(col(SearchItems.ID), col(TEXT_HASH), col("attrs"), col("neighbor_ids"), col("scores"),
              col("truncated")));
      long written = state.count();
      if (written != n) {
        throw new IllegalStateException("Incremental update produced " + written + " lists for " + n + " items");
      }
      Counts counts = new Counts(n, n - fresh, fresh, gone, n - recompute, recompute);
      LOG.info("Updated the lists of {} items: {} unchanged, {} new or changed, {} gone since the previous run; {}"
          + " lists kept and merged with the new items, {} ranked again ({} of them short of neighbours)", n,
          n - fresh, fresh, gone, n - recompute, recompute, shortLists);
      return finish(state, counts, null, true);
    }

    /** Stored lists merged with the fresh items' ({@link ScoredList#merge}). */
    private Dataset<Row> mergeUpdated(Dataset<Row> stored, Dataset<Row> additions) {
      int limit = kept;
      int minimum = topN;
      Dataset<Row> joined = additions == null
          ? stored.select(col(SearchItems.ID), col("neighbor_ids"), col("scores"), col("truncated"),
              lit(null).cast("array<string>").as("_aids"), lit(null).cast("array<float>").as("_ascores"),
              lit(false).as("_atruncated"))
          : stored.join(additions.select(col(SearchItems.ID).as("_aid"), col("neighbor_ids").as("_aids"),
              col("scores").as("_ascores"), col("truncated").as("_atruncated")),
              col(SearchItems.ID).equalTo(col("_aid")), "left");
      return spark.createDataFrame(joined.javaRDD().map(r -> {
        ScoredList before = ScoredList.of(r.getList(r.fieldIndex("neighbor_ids")), r.getList(r.fieldIndex("scores")),
            r.getBoolean(r.fieldIndex("truncated")));
        int a = r.fieldIndex("_aids");
        ScoredList added = r.isNullAt(a) ? ScoredList.EMPTY : ScoredList.of(r.getList(a),
            r.getList(r.fieldIndex("_ascores")), r.getBoolean(r.fieldIndex("_atruncated")));
        ScoredList merged = ScoredList.merge(before, added, limit);
        String id = r.getString(r.fieldIndex(SearchItems.ID));
        if (merged.truncated() && merged.size() < minimum) {
          throw new IllegalStateException("The updated list of item " + id + " holds " + merged.size()
              + " certain neighbours, fewer than " + minimum + " (stored " + before.size() + ", added "
              + added.size() + ")");
        }
        return RowFactory.create(id, merged.ids(), merged.scores(), merged.truncated());
      }), StreamedTopN.LIST_SCHEMA);
    }

    private String tooMany(long count, long n, String what, Options options) {
      return String.format(Locale.ROOT, "%d items (%.1f%% of %d) %s, above run.incremental.maxRecomputedFraction"
          + " = %s: ranking all of them is cheaper", count, 100.0 * count / Math.max(1, n), n, what,
          options.maxRecomputedFraction());
    }

    private Outcome finish(Dataset<Row> state, Counts counts, String reason, boolean incremental) {
      Dataset<Row> rows = state.select(col(SearchItems.ID), expr("posexplode(arrays_zip(neighbor_ids, scores))"))
          .filter(col("pos").lt(topN))
          .select(col(SearchItems.ID), col("pos").plus(1).cast(DataTypes.IntegerType).as("rank"),
              col("col.neighbor_ids").as("neighbor_id"), col("col.scores").as("score"));
      SearchFacts facts = source.facts(this, incremental);
      return new Outcome(new StateRanking(this, rows, facts), state, counts, reason, source.frequencies());
    }
  }

  /** The lists of {@code topN} from the state; closing drops what the update persisted. */
  private record StateRanking(Update update, Dataset<Row> rows, SearchFacts facts) implements Ranking {
    @Override
    public Dataset<Row> score(Dataset<Row> pairs) {
      return update.source.score(update, pairs);
    }

    @Override
    public void close() {
      update.release();
    }
  }
}
