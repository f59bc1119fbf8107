package dev.itemsim.job;

import java.time.LocalDate;
import org.apache.hadoop.fs.Path;

/**
 * Every table and folder under a job's {@code output.path}, defined once: jobs write through it, {@code show}
 * and the tests read through it. Relative names are what {@link OutputPublisher} stages and publishes;
 * {@link #resolve} gives the full path.
 *
 * <p>Folders starting with {@code _} are invisible to Spark's partition discovery, so readers of the tables
 * never see staging data, locks or run summaries.
 */
public record OutputLayout(String root) {
  public static final String SIMILAR_ITEMS = "similar_items";
  public static final String EMBEDDINGS = "embeddings";
  public static final String EMBEDDINGS_AGAINST = "embeddings_against";
  public static final String REJECTED = "rejected";
  public static final String EVALUATION = "evaluation";
  /**
   * What the next run of the similar-items job starts from ({@link NeighborState}): the layout version, the
   * settings the lists were made with, the stored lists and the lexical weights. Internal; replaced by every
   * run together with the tables it belongs to.
   */
  public static final String STATE = "state";
  /** The finetune job's model folder ({@code encoder.model = <output.path>/model}). */
  public static final String MODEL = "model";
  /** The finetune job's record of its data: rejected rows, the pairs trained on. */
  public static final String TRAINING = "training";
  public static final String RUNS = "_runs";
  public static final String STAGING = "_staging";
  public static final String LOCK = "_lock";
  /** Match job: {@code left_id, rank, item_id, score}. */
  public static final String MATCHES = "matches";
  /** Match job: what each left row was matched with ({@code left_id, text, embedding[, history]}). */
  public static final String MATCH_LEFT = "match_left";
  /** Match job: left rows (and users) not matched, with reasons. */
  public static final String MATCH_REJECTED = "match_rejected";

  /** {@code similar_items/run_date=D}: one run date's neighbour lists. */
  public static String similarItems(LocalDate runDate) {
    return partition(SIMILAR_ITEMS, runDate);
  }

  /** {@code rejected/run_date=D}: one run date's rejected input rows. */
  public static String rejected(LocalDate runDate) {
    return partition(REJECTED, runDate);
  }

  /** {@code matches/run_date=D}: one run date's match lists. */
  public static String matches(LocalDate runDate) {
    return partition(MATCHES, runDate);
  }

  /** {@code match_left/run_date=D}: the texts and vectors one run date's left rows were matched with. */
  public static String matchLeft(LocalDate runDate) {
    return partition(MATCH_LEFT, runDate);
  }

  /** {@code match_rejected/run_date=D}: one run date's left rows (or users) not matched. */
  public static String matchRejected(LocalDate runDate) {
    return partition(MATCH_REJECTED, runDate);
  }

  /** Inside {@code evaluation/}: {@code metrics.json}. */
  public static final String METRICS = "metrics.json";
  /** Inside {@code evaluation/}: every true pair whose partner is not ranked first. */
  public static final String MISSES = "misses";
  /** Inside {@code evaluation/}: the ranked lists the metrics were computed from. */
  public static final String RANKED = "ranked";
  /** Inside {@code evaluation/}: input rows of either catalogue that were not encoded. */
  public static final String EVALUATION_REJECTED = "rejected";

  /** Inside {@code training/}: the pairs read or derived ({@code id_a, id_b, sessions, pmi}). */
  public static final String TRAINING_PAIRS = "pairs";
  /** Inside {@code training/}: catalogue rows that were not usable. */
  public static final String TRAINING_REJECTED = "rejected";
  /** Inside {@code training/}: events that were not used ({@code reason, user_id, item_id, ts}). */
  public static final String TRAINING_REJECTED_EVENTS = "rejected_events";

  /** {@code evaluation/NAME}. */
  public static String evaluation(String name) {
    return EVALUATION + "/" + name;
  }

  /** {@code _runs/NAME.json}: one run's summary. */
  public static String runSummary(String name) {
    return RUNS + "/" + name + ".json";
  }

  /** {@code _runs/NAME.rejected}: the rejected rows of a run stopped by the reject limit. */
  public static String stoppedRunRejects(String name) {
    return RUNS + "/" + name + ".rejected";
  }

  private static String partition(String table, LocalDate runDate) {
    return table + "/run_date=" + runDate;
  }

  public Path path() {
    return new Path(root);
  }

  public Path resolve(String relative) {
    return new Path(path(), relative);
  }

  /** The full path of {@code similar_items/run_date=D}. */
  public String similarItemsPath(LocalDate runDate) {
    return resolve(similarItems(runDate)).toString();
  }
}
