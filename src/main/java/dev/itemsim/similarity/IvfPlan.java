package dev.itemsim.similarity;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Which products the tasks of an IVF search compute. A unit multiplies the query rows of one query segment
 * that probe a list by one segment of that list; its cost is the scores it computes (those rows × the
 * segment's rows). Lists are cut into segments of at most a block's rows on both sides, so no unit exceeds
 * {@code blockSize²} scores however unevenly k-means filled the lists. Units are packed in order (query
 * segment, list, corpus segment) into tasks of at most {@link #budget()} = total cost / minimum task count
 * (a unit above the budget is a task of its own), and tasks are ordered largest first, so every task gets
 * at most its share and no core idles through the last round.
 */
public final class IvfPlan implements Serializable {

  /** The query rows of {@code querySegment} that probe {@code list}, times segment {@code corpusSegment}. */
  public record Unit(int querySegment, int list, int corpusSegment, long cost) implements Serializable {}

  /** Units computed by one Spark task, in order. */
  public record Task(Unit[] units, long cost) implements Serializable {}

  private final List<Task> tasks;
  private final long budget;
  private final long totalCost;
  private final long largestUnit;

  private IvfPlan(List<Task> tasks, long budget, long totalCost, long largestUnit) {
    this.tasks = tasks;
    this.budget = budget;
    this.totalCost = totalCost;
    this.largestUnit = largestUnit;
  }

  /**
   * The plan for {@code queries} (written query segments, with the lists their query rows probe) against the
   * segments of {@code corpusByList} (segment numbers and rows of every list), in about {@code minTasks} tasks.
   */
  static IvfPlan of(List<ListSegments.Written> queries, Map<Integer, int[]> corpusByList, int[] corpusRows,
      int minTasks) {
    List<Unit> units = new ArrayList<>();
    long total = 0;
    long largest = 0;
    for (int q = 0; q < queries.size(); q++) {
      ListSegments.Written written = queries.get(q);
      for (int k = 0; k < written.probedLists().length; k++) {
        int[] segments = corpusByList.get(written.probedLists()[k]);
        if (segments == null) {
          continue;  // an empty list: its centroid kept no item
        }
        for (int s : segments) {
          long cost = (long) written.probedCounts()[k] * corpusRows[s];
          units.add(new Unit(q, written.probedLists()[k], s, cost));
          total += cost;
          largest = Math.max(largest, cost);
        }
      }
    }
    long budget = Math.max(1, (total + Math.max(1, minTasks) - 1) / Math.max(1, minTasks));
    List<Task> tasks = new ArrayList<>();
    List<Unit> current = new ArrayList<>();
    long cost = 0;
    for (Unit u : units) {
      if (!current.isEmpty() && cost + u.cost() > budget) {
        tasks.add(new Task(current.toArray(Unit[]::new), cost));
        current.clear();
        cost = 0;
      }
      current.add(u);
      cost += u.cost();
    }
    if (!current.isEmpty()) {
      tasks.add(new Task(current.toArray(Unit[]::new), cost));
    }
    // Spark launches a stage's tasks in partition order: largest first is longest-processing-time-first
    tasks.sort(Comparator.comparingLong(Task::cost).reversed());
    return new IvfPlan(List.copyOf(tasks), budget, total, largest);
  }

  public List<Task> tasks() {
    return tasks;
  }

  /** Most scores a task packs units up to: the total over the minimum task count. */
  public long budget() {
    return budget;
  }

  /** Scores all tasks compute. */
  public long totalCost() {
    return totalCost;
  }

  /** Scores of the largest unit: at most one query segment's rows times one corpus segment's. */
  public long largestUnit() {
    return largestUnit;
  }

  /** Scores of the largest task: at most {@code max(budget, largestUnit)}. */
  public long largestTask() {
    return tasks.isEmpty() ? 0 : tasks.get(0).cost();
  }
}
