package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.embed.Vectors;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SphericalKMeansTest {
  private static final MatMulKernel KERNEL = Kernels.select("auto");

  @Test
  void sameSeedSameCentroids() {
    Random random = new Random(3);
    int n = 1500;
    int dim = 24;
    float[] points = pack(randomUnits(n, dim, random), dim);

    SphericalKMeans.Result a = SphericalKMeans.train(points, n, dim, 40, 10, 42, KERNEL);
    SphericalKMeans.Result b = SphericalKMeans.train(points.clone(), n, dim, 40, 10, 42, KERNEL);
    SphericalKMeans.Result other = SphericalKMeans.train(points.clone(), n, dim, 40, 10, 43, KERNEL);

    assertThat(b.centroids()).isEqualTo(a.centroids());
    assertThat(b.iterations()).isEqualTo(a.iterations());
    assertThat(other.centroids()).isNotEqualTo(a.centroids());
  }

  /**
   * 25 tight groups far apart (random directions in 32 dimensions, so cosines between groups near 0, within
   * one near 1): each group ends in a list of its own, for several seeds.
   */
  @Test
  void recoversPlantedWellSeparatedClusters() {
    Random random = new Random(11);
    int dim = 32;
    int groups = 25;
    List<float[]> vectors = new ArrayList<>();
    List<Integer> group = new ArrayList<>();
    for (int g = 0; g < groups; g++) {
      float[] centre = randomUnits(1, dim, random).get(0);
      for (int i = 0; i < 6 + g % 3; i++) {
        vectors.add(near(centre, 0.003f, random));
        group.add(g);
      }
    }
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < vectors.size(); i++) {
      order.add(i);
    }
    Collections.shuffle(order, random);
    int n = vectors.size();
    float[] points = pack(order.stream().map(vectors::get).toList(), dim);

    for (long seed : new long[] {1, 2, 42}) {
      SphericalKMeans.Result result = SphericalKMeans.train(points, n, dim, groups, 10, seed, KERNEL);
      int[] nearest = nearest(points, n, result);
      Map<Integer, Set<Integer>> listsOfGroup = new HashMap<>();
      for (int i = 0; i < n; i++) {
        listsOfGroup.computeIfAbsent(group.get(order.get(i)), g -> new HashSet<>()).add(nearest[i]);
      }
      assertThat(listsOfGroup.values()).as("seed %d: one list per group", seed).allMatch(lists -> lists.size() == 1);
      Set<Integer> used = new HashSet<>();
      listsOfGroup.values().forEach(used::addAll);
      assertThat(used).as("seed %d: a list of its own for each group", seed).hasSize(groups);
    }
  }

  /**
   * One dense blob and a few outliers, more centroids than natural clusters: empty lists are refilled from
   * the farthest points, so every centroid ends with points of its own, and every one is unit length.
   */
  @Test
  void noCentroidEndsEmpty() {
    Random random = new Random(5);
    int dim = 16;
    float[] centre = randomUnits(1, dim, random).get(0);
    List<float[]> vectors = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      vectors.add(near(centre, 0.01f, random));
    }
    vectors.addAll(randomUnits(5, dim, random));
    int n = vectors.size();
    float[] points = pack(vectors, dim);

    for (int k : new int[] {30, 200, n}) {
      SphericalKMeans.Result result = SphericalKMeans.train(points, n, dim, k, 10, 42, KERNEL);
      assertThat(java.util.Arrays.stream(result.sizes()).min().orElseThrow()).as("k = %d: smallest list", k).isPositive();
      assertThat(java.util.Arrays.stream(result.sizes()).sum()).isEqualTo(n);
      for (int c = 0; c < k; c++) {
        double norm = 0;
        for (float x : result.centroid(c)) {
          norm += x * x;
        }
        assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
      }
    }
  }

  @Test
  void moreCentroidsThanPointsIsRefused() {
    float[] points = pack(randomUnits(3, 4, new Random(1)), 4);
    assertThatThrownBy(() -> SphericalKMeans.train(points, 3, 4, 4, 10, 42, KERNEL))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("k = 4, n = 3");
  }

  private static int[] nearest(float[] points, int n, SphericalKMeans.Result result) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      float top = Float.NEGATIVE_INFINITY;
      for (int c = 0; c < result.k(); c++) {
        float dot = 0;
        for (int d = 0; d < result.dim(); d++) {
          dot += points[i * result.dim() + d] * result.centroids()[c * result.dim() + d];
        }
        if (dot > top) {
          top = dot;
          out[i] = c;
        }
      }
    }
    return out;
  }

  private static float[] near(float[] centre, float noise, Random random) {
    float[] v = centre.clone();
    for (int d = 0; d < v.length; d++) {
      v[d] += noise * (float) random.nextGaussian();
    }
    return Vectors.normalize(v);
  }

  private static List<float[]> randomUnits(int n, int dim, Random random) {
    List<float[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] v = new float[dim];
      for (int d = 0; d < dim; d++) {
        v[d] = (float) random.nextGaussian();
      }
      out.add(Vectors.normalize(v));
    }
    return out;
  }

  private static float[] pack(List<float[]> vectors, int dim) {
    float[] out = new float[vectors.size() * dim];
    for (int i = 0; i < vectors.size(); i++) {
      System.arraycopy(vectors.get(i), 0, out, i * dim, dim);
    }
    return out;
  }
}
