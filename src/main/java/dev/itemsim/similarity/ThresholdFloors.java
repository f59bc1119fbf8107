package dev.itemsim.similarity;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What this JVM's tasks have learnt about each row's final top-N threshold, shared with its later tasks.
 *
 * <p>A partial top-N list's thresholds (its N-th best scores over a subset of a row's candidates) are lower
 * bounds of the row's final N-th best score. A task that starts a partial list of the same rows raises its
 * thresholds to them ({@link TopNBuffer#raiseFloors}), so its scan skips candidates that are already known to
 * be out: without this every block pair starts its column lists from −∞ and offers some 70 candidates per
 * column on the way up. Results are exact either way; only the work changes.
 *
 * <p>Bounds are kept per computation (an id the driver draws per top-N run), for the last
 * {@value #COMPUTATIONS} computations, about 4 bytes per row each.
 */
final class ThresholdFloors {
  private static final int COMPUTATIONS = 4;

  /** computation → block → bounds, least recently used computation first. */
  private static final LinkedHashMap<String, Map<Integer, float[]>> FLOORS =
      new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Map<Integer, float[]>> eldest) {
          return size() > COMPUTATIONS;
        }
      };

  private ThresholdFloors() {}

  /** Raises {@code buffer}'s thresholds to what is known of {@code block}'s rows in {@code computation}. */
  static void seed(String computation, int block, TopNBuffer buffer) {
    float[] known;
    synchronized (FLOORS) {
      Map<Integer, float[]> blocks = FLOORS.get(computation);
      float[] bounds = blocks == null ? null : blocks.get(block);
      known = bounds == null ? null : bounds.clone();
    }
    if (known != null) {
      buffer.raiseFloors(known);
    }
  }

  /** Records {@code buffer}'s thresholds as lower bounds of {@code block}'s rows in {@code computation}. */
  static void learn(String computation, int block, TopNBuffer buffer) {
    float[] thresholds = buffer.thresholds;
    synchronized (FLOORS) {
      Map<Integer, float[]> blocks = FLOORS.computeIfAbsent(computation, c -> new HashMap<>());
      float[] bounds = blocks.get(block);
      if (bounds == null) {
        blocks.put(block, thresholds.clone());
        return;
      }
      if (bounds.length != thresholds.length) {
        throw new IllegalStateException("block " + block + " has " + thresholds.length + " rows, bounds for "
            + bounds.length + " were recorded in the same computation");
      }
      for (int row = 0; row < bounds.length; row++) {
        bounds[row] = Math.max(bounds[row], thresholds[row]);
      }
    }
  }
}
