package dev.itemsim.similarity;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Which block products each task computes. Every unordered pair {i, j} (i = j included) belongs to
 * exactly one task; task i owns row block i paired with the next ⌊(b−1)/2⌋ blocks cyclically (plus the
 * opposite block when b is even and i < b/2), so tasks hold about b/2 products each instead of the b − i
 * of a plain upper triangle.
 */
public final class BlockPairPlan {
  private BlockPairPlan() {}

  /** One task: row block {@code rowBlock} times itself and each of {@code otherBlocks}. */
  public record Task(int rowBlock, int[] otherBlocks) implements Serializable {}

  public static List<Task> tasks(int numBlocks) {
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
      tasks.add(new Task(i, others));
    }
    return tasks;
  }
}
