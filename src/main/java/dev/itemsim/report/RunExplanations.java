package dev.itemsim.report;

import static org.apache.spark.sql.functions.col;

import dev.itemsim.similarity.Retriever;
import dev.itemsim.similarity.Retrievers;
import dev.itemsim.similarity.ScoreExplainer;
import dev.itemsim.similarity.ScoreExplainer.Explanation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Lists of a published run with a reason for every pair: the one path by which the HTML report and
 * {@code itemsim show --explain} explain scores. The scorer and its weights come from the run summary
 * ({@code scorer}, {@code scorer_settings}); the vectors and texts from the run's tables.
 */
public final class RunExplanations {
  /** One neighbour with its text and the explanation of its score (null when it cannot be explained). */
  public record Neighbor(int rank, String itemId, String text, float score, Explanation explanation) {}

  /** A query (an item, or a match job's left row) with its text and explained list. */
  public record ExplainedList(String queryId, String queryText, List<Neighbor> neighbors) {}

  /**
   * @param scorer the scorer the explanations follow
   * @param note a caveat about the explanations ("" when none)
   */
  public record Explained(String scorer, String note, List<ExplainedList> lists) {}

  private RunExplanations() {}

  /** The lists of {@code queryIds} (in that order; unknown ids get empty lists), explained. */
  @SuppressWarnings("unchecked")
  public static Explained explain(SparkSession spark, RunOutput run, Map<String, Object> summary,
      List<String> queryIds) {
    String scorer = String.valueOf(summary.getOrDefault("scorer", "embedding"));
    Map<String, Object> settings = (Map<String, Object>) summary.get("scorer_settings");
    String note = settings == null ? "The run summary does not record the scorer's weights; the defaults of "
        + "conf/defaults.conf are assumed." : "";
    Retriever retriever = Retrievers.fromSettings(scorer, settings);
    if (retriever instanceof dev.itemsim.similarity.HybridRetriever h && h.options().learned() != null) {
      note = "This run's hybrid scores come from a learned blend (similarity.hybrid.learned = "
          + h.options().learned().source() + "): a logistic model of the embedding cosine, the lexical parts, a "
          + "shared model number and the candidate's ranks. The terms shown are the hand-tuned linear blend's "
          + "and do not add up to the listed score.";
    }
    List<Row> rows = run.lists(spark).filter(col("query_id").isin(queryIds.toArray())).orderBy("query_id", "rank")
        .collectAsList();
    Set<String> itemIds = new HashSet<>();
    List<Object[]> pairs = new ArrayList<>();
    for (Row r : rows) {
      itemIds.add(r.getString(2));
      pairs.add(new Object[] {r.getString(0), r.getString(2), r.getFloat(3)});
    }
    Map<String, String> queryTexts = texts(run.queries(spark).filter(col("item_id").isin(queryIds.toArray())));
    Map<String, String> itemTexts = texts(run.listedItems(spark).filter(col("item_id").isin(itemIds.toArray())));
    ScoreExplainer explainer = ScoreExplainer.of(spark, retriever, run.queries(spark), run.corpus(spark));
    Map<String, Explanation> explanations = ScoreExplainer.byPair(explainer.explain(pairs));
    List<ExplainedList> lists = new ArrayList<>();
    for (String id : queryIds) {
      List<Neighbor> neighbors = new ArrayList<>();
      for (Row r : rows) {
        if (r.getString(0).equals(id)) {
          neighbors.add(new Neighbor(r.getInt(1), r.getString(2), itemTexts.getOrDefault(r.getString(2), ""),
              r.getFloat(3), explanations.get(id + "\u0000" + r.getString(2))));
        }
      }
      lists.add(new ExplainedList(id, queryTexts.getOrDefault(id, ""), neighbors));
    }
    return new Explained(scorer, note, lists);
  }

  private static Map<String, String> texts(org.apache.spark.sql.Dataset<Row> items) {
    Map<String, String> out = new HashMap<>();
    for (Row r : items.select("item_id", "text").collectAsList()) {
      out.put(r.getString(0), r.getString(1));
    }
    return out;
  }
}
