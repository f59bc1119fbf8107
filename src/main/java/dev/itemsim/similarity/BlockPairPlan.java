package dev.itemsim.similarity;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which block products each task computes. Every unordered pair {i, j} (i = j included) belongs to
 * exactly one task. Row block i is paired with itself and the next ⌊(b−1)/2⌋ blocks cyclically (plus the
 * opposite block when b is even and i &lt; b/2), so every row block owns about b/2 products instead of the
 * b − i of a plain upper triangle; a row block's products are then cut into tasks of at most
 * {@code maxPairsPerTask} products, so there are enough tasks to keep every core busy to the end.
 */
public final class BlockPairPlan {
  private BlockPairPlan() {}

  /**
   * One task: row block {@code rowBlock} times itself (when {@code withDiagonal}) and times each of
   * {@code otherBlocks}.
   */
  public record Task(int rowBlock, boolean withDiagonal, int[] otherBlocks) implements Serializable {
    int products() {
      return otherBlocks.length + (withDiagonal ? 1 : 0);
    }
  }

  /** One task per row block. */
  public static List<Task> tasks(int numBlocks) {
    return tasks(numBlocks, Integer.MAX_VALUE);
  }

  /** At most {@code maxPairsPerTask} (≥ 1) block products per task. */
  public static List<Task> tasks(int numBlocks, int maxPairsPerTask) {
    if (maxPairsPerTask < 1) {
      throw new IllegalArgumentException("maxPairsPerTask must be >= 1, got " + maxPairsPerTask);
    }
    List<Task> tasks = new ArrayList<>(numBlocks);
    int half = (numBlocks - 1) / 2;
    for (int i = 0; i < numBlocks; i++) {
      boolean takesOpposite = numBlocks % 2 == 0 && numBlocks > 1 && i < numBlocks / 2;
      int[] others = new int[half + (takesOpposite ? 1 : 0)];
      for (int k = 1; k <= half; k++) {
        others[k - 1] = (i + k) % numBlocks;
      }
      if (takesOpposite) {
        others[half] = i + numBlocks / 2;
      }
      int firstChunk = Math.min(others.length, maxPairsPerTask - 1);
      tasks.add(new Task(i, true, Arrays.copyOfRange(others, 0, firstChunk)));
      for (int from = firstChunk; from < others.length; from += maxPairsPerTask) {
        tasks.add(new Task(i, false, Arrays.copyOfRange(others, from, Math.min(others.length, from + maxPairsPerTask))));
      }
    }
    return tasks;
  }

  /**
   * {@code tasks} ordered by their number of multiply-adds, largest first (ties keep their order). Spark
   * launches a stage's tasks in partition order, so this is longest-processing-time-first scheduling: the
   * small tasks fill the gaps at the end instead of a large one starting last while the other cores idle.
   */
  public static List<Task> largestFirst(List<Task> tasks, BlockSource blocks) {
    List<Task> sorted = new ArrayList<>(tasks);
    sorted.sort(java.util.Comparator.comparingLong((Task t) -> scores(t, blocks)).reversed());
    return sorted;
  }

  /** Scores a task computes: its diagonal block's upper triangle and its full block pairs. */
  static long scores(Task task, BlockSource blocks) {
    long rows = blocks.rowsIn(task.rowBlock());
    long total = task.withDiagonal() ? rows * (rows - 1) / 2 : 0;
    for (int j : task.otherBlocks()) {
      total += rows * blocks.rowsIn(j);
    }
    return total;
  }

  /** Products per task so that there are about {@code minTasks} tasks (never fewer than one per row block). */
  public static int pairsPerTask(int numBlocks, int minTasks) {
    long pairs = (long) numBlocks * (numBlocks + 1) / 2;
    return (int) Math.max(1, (pairs + minTasks - 1) / Math.max(1, minTasks));
  }
}
