package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.min;

import dev.itemsim.InvalidInputException;
import dev.itemsim.ItemsimKryoRegistrator;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.storage.StorageLevel;

/**
 * The retrieval stage every job and the public API run: a {@link Retriever} wrapped with what all
 * retrievers share — list length, neighbour filters, a minimum score and duplicate collapsing — so a
 * ranking is the same whichever job asks for it.
 *
 * <p>Collapsing ({@link Options#collapseDuplicateTexts}, one catalogue only): items with the same text and
 * filter values form a group represented by its lowest id; only representatives are ranked, so copies never
 * list each other and other lists name the representative; every item gets its group's list.
 */
public final class NeighborSearch {

  /**
   * @param topN neighbours per item
   * @param minScore neighbours scoring below this are dropped ({@code <= -1} keeps all)
   * @param filter neighbour rules over item columns
   * @param collapseDuplicateTexts rank identical texts once (one catalogue only)
   */
  public record Options(int topN, float minScore, SearchRequest.FilterColumns filter, boolean collapseDuplicateTexts) {
    public static final int MAX_TOP_N = 1000;

    public Options {
      if (topN < 1 || topN > MAX_TOP_N) {
        throw new InvalidInputException("similarity.topN = " + topN + " is out of range 1.." + MAX_TOP_N);
      }
      if (!(minScore >= -1 && minScore <= 1)) {
        throw new InvalidInputException("similarity.minScore = " + minScore + " is out of range -1..1");
      }
      filter = filter == null ? SearchRequest.FilterColumns.NONE : filter;
    }

    public Options withTopN(int n) {
      return new Options(n, minScore, filter, collapseDuplicateTexts);
    }
  }

  private NeighborSearch() {}

  /**
   * Ranks {@code corpus} for every item of {@code queries} ({@code corpus} null or the same object: one
   * catalogue). Close the ranking once its rows are written.
   */
  public static Ranking search(SparkSession spark, Retriever retriever, Options options, Dataset<Row> queries,
      Dataset<Row> corpus, String scratchDir) {
    ItemsimKryoRegistrator.requireUsable(spark.sparkContext().getConf());
    boolean self = corpus == null || corpus == queries;
    if (options.collapseDuplicateTexts() && !self) {
      throw new InvalidInputException("similarity.collapseDuplicateTexts works on one catalogue; unset "
          + "search.against or the collapse");
    }
    Ranking ranking;
    if (options.collapseDuplicateTexts()) {
      ranking = collapsed(spark, retriever, options, queries, scratchDir);
    } else {
      ranking = retriever.rank(spark, new SearchRequest(queries, self ? queries : corpus, options.topN(),
          options.filter(), scratchDir));
    }
    return options.minScore() <= -1f ? ranking : new Filtered(ranking, options.minScore());
  }

  /**
   * Ranks {@code items} (one catalogue) like {@link #search}, updating the lists of a previous run's
   * {@code previous} state instead of ranking every item again where it can ({@link IncrementalLists}): the
   * same filters, duplicate collapsing (the state then holds the representatives' lists) and minimum score.
   * {@code whyFull} says why there is no previous state (null when there is). Close the outcome's ranking
   * once its rows and state are written.
   */
  public static IncrementalLists.Outcome searchIncrementally(SparkSession spark, Retriever retriever,
      Options options, Dataset<Row> items, IncrementalLists.State previous, String whyFull,
      IncrementalLists.Options incremental, String scratchDir) {
    ItemsimKryoRegistrator.requireUsable(spark.sparkContext().getConf());
    Groups groups = options.collapseDuplicateTexts() ? groups(items, options) : null;
    IncrementalLists.Outcome outcome = IncrementalLists.rank(spark, retriever,
        groups == null ? items : groups.representatives(), options.topN(), options.filter(), previous, whyFull,
        incremental, scratchDir);
    Ranking ranking = groups == null ? outcome.ranking() : groups.expand(outcome.ranking());
    ranking = options.minScore() <= -1f ? ranking : new Filtered(ranking, options.minScore());
    return new IncrementalLists.Outcome(ranking, outcome.state(), outcome.counts(), outcome.fullReason(),
        outcome.frequencies());
  }

  private static Ranking collapsed(SparkSession spark, Retriever retriever, Options options, Dataset<Row> items,
      String scratchDir) {
    Groups groups = groups(items, options);
    return groups.expand(retriever.rank(spark, new SearchRequest(groups.representatives(), groups.representatives(),
        options.topN(), options.filter(), scratchDir)));
  }

  /** Items grouped by text and filter values, each group represented by its lowest id. */
  private record Groups(Dataset<Row> withRep, Dataset<Row> representatives, Dataset<Row> mapping, long collapsed) {
    Ranking expand(Ranking inner) {
      return new Collapsed(inner, mapping, withRep, collapsed);
    }
  }

  private static Groups groups(Dataset<Row> items, Options options) {
    SearchItems.check(items, "items", false, true, options.filter().columns());
    List<Column> key = new ArrayList<>(List.of(col(SearchItems.TEXT)));
    options.filter().columns().forEach(c -> key.add(col(c)));
    // Spark's string order is UTF-8 byte order, the order of CollectedItems.compareIds: min is the lowest id
    Dataset<Row> withRep = items.withColumn("_rep_id", min(col(SearchItems.ID))
        .over(Window.partitionBy(key.toArray(Column[]::new)))).persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> representatives = withRep.filter(col(SearchItems.ID).equalTo(col("_rep_id"))).drop("_rep_id");
    Dataset<Row> mapping = withRep.select(col(SearchItems.ID).as("_item_id"), col("_rep_id"));
    long collapsed = withRep.count() - representatives.count();
    return new Groups(withRep, representatives, mapping, collapsed);
  }

  /** Representatives' lists given to every member of their group. */
  private record Collapsed(Ranking inner, Dataset<Row> mapping, Dataset<Row> cached, long collapsed)
      implements Ranking {
    @Override
    public Dataset<Row> rows() {
      Dataset<Row> lists = inner.rows();
      return mapping.join(lists, mapping.col("_rep_id").equalTo(lists.col(SearchItems.ID)))
          .select(col("_item_id").as(SearchItems.ID), col("rank"), col("neighbor_id"), col("score"));
    }

    @Override
    public SearchFacts facts() {
      return inner.facts().withCollapsed(collapsed);
    }

    @Override
    public Dataset<Row> score(Dataset<Row> pairs) {
      Dataset<Row> q = mapping.select(col("_item_id").as("_q"), col("_rep_id").as("_q_rep"));
      Dataset<Row> c = mapping.select(col("_item_id").as("_c"), col("_rep_id").as("_c_rep"));
      Dataset<Row> mapped = pairs.select("item_id", "neighbor_id")
          .join(q, col("item_id").equalTo(col("_q"))).join(c, col("neighbor_id").equalTo(col("_c")));
      Dataset<Row> scored = inner.score(mapped.select(col("_q_rep").as("item_id"), col("_c_rep").as("neighbor_id"))
          .distinct());
      return mapped.join(scored, mapped.col("_q_rep").equalTo(scored.col("item_id"))
              .and(mapped.col("_c_rep").equalTo(scored.col("neighbor_id"))))
          .select(col("_q").as("item_id"), col("_c").as("neighbor_id"), scored.col("score"));
    }

    @Override
    public void close() {
      inner.close();
      cached.unpersist();
    }
  }

  /** Lists cut where scores fall below a minimum. */
  private record Filtered(Ranking inner, float minScore) implements Ranking {
    @Override
    public Dataset<Row> rows() {
      return inner.rows().filter(col("score").geq(minScore));
    }

    @Override
    public SearchFacts facts() {
      return inner.facts();
    }

    @Override
    public Dataset<Row> score(Dataset<Row> pairs) {
      return inner.score(pairs);
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
