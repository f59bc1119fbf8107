package dev.itemsim.bench;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Each item's top-N neighbours (ids and scores, best first) as one benchmarked system found them: written by
 * the child JVM that measured the system, read back and compared by the parent.
 *
 * <p>Two systems agree on an item when, rank by rank, their scores are within a tolerance, and, wherever
 * their ids differ, the difference is a tie: within each run of scores equal up to the tolerance the two
 * lists hold the same ids, except in the last run, which the cut at N may split anywhere.
 */
final class NeighborLists {
  private final int[][] ids;
  private final float[][] scores;

  NeighborLists(int items) {
    ids = new int[items][];
    scores = new float[items][];
  }

  int items() {
    return ids.length;
  }

  void set(int item, int[] neighborIds, float[] neighborScores) {
    if (neighborIds.length != neighborScores.length) {
      throw new IllegalArgumentException("item " + item + ": " + neighborIds.length + " ids but "
          + neighborScores.length + " scores");
    }
    ids[item] = neighborIds.clone();
    scores[item] = neighborScores.clone();
  }

  /** One line per item: {@code item<TAB>id:score<TAB>...}, scores in round-trip float notation. */
  void write(Path file) {
    try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (int item = 0; item < ids.length; item++) {
        if (ids[item] == null) {
          throw new IllegalStateException("item " + item + " has no neighbour list");
        }
        out.write(Integer.toString(item));
        for (int k = 0; k < ids[item].length; k++) {
          out.write('\t');
          out.write(ids[item][k] + ":" + Float.toString(scores[item][k]));
        }
        out.write('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static NeighborLists read(Path file, int items) {
    NeighborLists lists = new NeighborLists(items);
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        String[] fields = line.split("\t");
        int[] neighborIds = new int[fields.length - 1];
        float[] neighborScores = new float[fields.length - 1];
        for (int k = 1; k < fields.length; k++) {
          int colon = fields[k].indexOf(':');
          neighborIds[k - 1] = Integer.parseInt(fields[k].substring(0, colon));
          neighborScores[k - 1] = Float.parseFloat(fields[k].substring(colon + 1));
        }
        lists.set(Integer.parseInt(fields[0]), neighborIds, neighborScores);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (int item = 0; item < items; item++) {
      if (lists.ids[item] == null) {
        throw new IllegalStateException(file + " has no neighbour list for item " + item);
      }
    }
    return lists;
  }

  /** How the lists of two systems compare over all items, {@code expected} being the reference. */
  record Comparison(int items, int identical, int equalUpToTies, List<String> mismatches, double maxScoreDiff) {
    boolean equal() {
      return mismatches.isEmpty();
    }

    String describe() {
      return String.format(Locale.ROOT, "%s: %d of %d items identical in ids and order, %d equal up to tied "
          + "scores, %d differ; largest score difference %.2e", equal() ? "EQUAL" : "NOT EQUAL", identical, items,
          equalUpToTies, mismatches.size(), maxScoreDiff);
    }
  }

  static Comparison compare(NeighborLists expected, NeighborLists actual, double tolerance) {
    if (expected.items() != actual.items()) {
      throw new IllegalArgumentException(expected.items() + " items against " + actual.items());
    }
    int identical = 0;
    int upToTies = 0;
    double maxDiff = 0;
    List<String> mismatches = new ArrayList<>();
    for (int item = 0; item < expected.items(); item++) {
      int[] a = expected.ids[item];
      int[] b = actual.ids[item];
      float[] as = expected.scores[item];
      float[] bs = actual.scores[item];
      String problem = null;
      if (a.length != b.length) {
        problem = a.length + " neighbours against " + b.length;
      } else {
        for (int k = 0; k < a.length; k++) {
          maxDiff = Math.max(maxDiff, Math.abs(as[k] - bs[k]));
          if (Math.abs(as[k] - bs[k]) > tolerance && problem == null) {
            problem = "rank " + (k + 1) + " scores " + as[k] + " against " + bs[k];
          }
        }
        if (problem == null) {
          problem = sameScoresPerId(a, as, b, bs, tolerance);
        }
        if (problem == null && !Arrays.equals(a, b)) {
          problem = tieRunProblem(a, as, b, tolerance);
        }
      }
      if (problem != null) {
        mismatches.add("item " + item + ": " + problem + " (" + Arrays.toString(a) + " against "
            + Arrays.toString(b) + ")");
      } else if (Arrays.equals(a, b)) {
        identical++;
      } else {
        upToTies++;
      }
    }
    return new Comparison(expected.items(), identical, upToTies, mismatches, maxDiff);
  }

  /** An id both lists hold must have the same score in both. */
  private static String sameScoresPerId(int[] a, float[] as, int[] b, float[] bs, double tolerance) {
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < b.length; j++) {
        if (a[i] == b[j] && Math.abs(as[i] - bs[j]) > tolerance) {
          return "neighbour " + a[i] + " scored " + as[i] + " against " + bs[j];
        }
      }
    }
    return null;
  }

  /**
   * Null when every run of ranks whose scores (in {@code a}) are within {@code tolerance} of the run's first
   * holds the same ids in both lists; the last run is exempt, since the cut at N may fall inside a tie.
   */
  private static String tieRunProblem(int[] a, float[] as, int[] b, double tolerance) {
    for (int from = 0; from < a.length; ) {
      int to = from + 1;
      while (to < a.length && as[from] - as[to] <= tolerance) {
        to++;
      }
      if (to < a.length && !sameIds(a, b, from, to)) {
        return "ranks " + (from + 1) + ".." + to + " hold other neighbours";
      }
      from = to;
    }
    return null;
  }

  private static boolean sameIds(int[] a, int[] b, int from, int to) {
    int[] x = Arrays.copyOfRange(a, from, to);
    int[] y = Arrays.copyOfRange(b, from, to);
    Arrays.sort(x);
    Arrays.sort(y);
    return Arrays.equals(x, y);
  }
}
