package dev.itemsim.similarity;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/** The obvious O(n²) top-N: every score in double, full sort, ties to the lower index. */
final class BruteForce {
  private BruteForce() {}

  record Neighbor(int index, double score) {}

  static List<List<Neighbor>> topN(List<float[]> vectors, int n) {
    List<List<Neighbor>> all = new ArrayList<>();
    for (int i = 0; i < vectors.size(); i++) {
      List<Neighbor> candidates = new ArrayList<>();
      for (int j = 0; j < vectors.size(); j++) {
        if (i != j) {
          candidates.add(new Neighbor(j, dot(vectors.get(i), vectors.get(j))));
        }
      }
      candidates.sort(Comparator.comparingDouble(Neighbor::score).reversed().thenComparingInt(Neighbor::index));
      all.add(candidates.subList(0, Math.min(n, candidates.size())));
    }
    return all;
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int k = 0; k < a.length; k++) {
      s += (double) a[k] * b[k];
    }
    return s;
  }

  static int[] indexes(List<Neighbor> list) {
    return list.stream().mapToInt(Neighbor::index).toArray();
  }

  static String show(int[] a) {
    return Arrays.toString(a);
  }
}
