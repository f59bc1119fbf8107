package dev.itemsim.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The bench's synthetic vectors have the cosine structure docs/BENCHMARKS.md states. */
class ClusteredVectorsTest {
  @Test
  void cosinesGrowFromUnrelatedItemsToTypeToBrandToLine() {
    int n = 20_000;
    ClusteredVectors.Generator generator = new ClusteredVectors(n, 384, 42).generator();
    List<float[]> vectors = new ArrayList<>();
    List<int[]> labels = new ArrayList<>();
    for (int g = 0; g < n; g++) {
      vectors.add(generator.vector(g));
      labels.add(generator.labels(g));
    }
    Map<String, double[]> sums = new HashMap<>();
    java.util.Random random = new java.util.Random(1);
    for (int k = 0; k < 400_000; k++) {
      int a = random.nextInt(n);
      int b = random.nextInt(n);
      if (a == b) {
        continue;
      }
      int[] la = labels.get(a);
      int[] lb = labels.get(b);
      String kind = la[0] != lb[0] ? "unrelated" : la[1] != lb[1] ? "type" : la[2] != lb[2] ? "brand" : "line";
      double[] sum = sums.computeIfAbsent(kind, x -> new double[2]);
      sum[0] += dot(vectors.get(a), vectors.get(b));
      sum[1]++;
    }
    for (int g = 0; g < 2000; g++) {  // pairs within a line are rare among random pairs: look for some
      for (int h = g + 1; h < 2000; h++) {
        if (java.util.Arrays.equals(labels.get(g), labels.get(h))) {
          double[] sum = sums.computeIfAbsent("line", x -> new double[2]);
          sum[0] += dot(vectors.get(g), vectors.get(h));
          sum[1]++;
        }
      }
    }
    assertThat(dot(vectors.get(7), vectors.get(7))).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
    assertThat(mean(sums, "unrelated")).isBetween(0.05, 0.2);
    assertThat(mean(sums, "type")).isBetween(0.4, 0.6);
    assertThat(mean(sums, "brand")).isBetween(0.65, 0.85);
    assertThat(mean(sums, "line")).isBetween(0.8, 0.95);
  }

  private static double mean(Map<String, double[]> sums, String kind) {
    double[] sum = sums.get(kind);
    assertThat(sum).as(kind).isNotNull();
    assertThat(sum[1]).as(kind + " pairs").isGreaterThan(20);
    return sum[0] / sum[1];
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int k = 0; k < a.length; k++) {
      s += (double) a[k] * b[k];
    }
    return s;
  }
}
