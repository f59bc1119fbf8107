package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class CoarseQuantizerTest {

  /**
   * Each vector's m nearest centroids are those of highest product, nearest first, ties to the lower centroid
   * number (brute force over the same kernel's products), across centroid blocks; a vector
   * with NaN products gets none.
   */
  @Test
  void theNearestCentroidsAreTheHighestProductsTiesToTheLowerNumber() {
    Random random = new Random(3);
    int dim = 5;
    MatMulKernel kernel = Kernels.select("java");
    for (int k : new int[] {1, 7, 600, 1300}) {
      List<float[]> centroids = new ArrayList<>();
      for (int c = 0; c < k; c++) {
        // every third centroid repeats an earlier one: equal products, the lower number first
        centroids.add(c % 3 == 2 ? centroids.get(random.nextInt(c)).clone() : randomVector(random, dim));
      }
      VectorBlocks blocks = VectorBlocks.of(centroids, dim, 1000);  // more than one block from 1,001 on
      List<float[]> vectors = new ArrayList<>();
      for (int v = 0; v < 300; v++) {
        vectors.add(v % 50 == 7 ? centroids.get(random.nextInt(k)).clone() : randomVector(random, dim));
      }
      vectors.add(new float[] {Float.NaN, 0, 0, 0, 0});
      for (int m : new int[] {1, 3, 32}) {
        int[][] nearest = CoarseQuantizer.nearest(vectors, blocks, m, kernel);
        for (int v = 0; v < vectors.size() - 1; v++) {
          float[] scores = new float[k];
          kernel.multiplyTransposed(vectors.get(v), 0, 1, VectorBlocks.of(centroids, dim, k).block(0), 0, k, dim,
              scores);
          int[] expected = IntStream.range(0, k).boxed()
              .sorted(Comparator.<Integer>comparingDouble(c -> -scores[c]).thenComparingInt(c -> c))
              .limit(m).mapToInt(Integer::intValue).toArray();
          assertThat(nearest[v]).as("k %d, m %d, vector %d", k, m, v).containsExactly(expected);
        }
        assertThat(nearest[vectors.size() - 1]).as("NaN").isEmpty();
      }
    }
  }

  private static float[] randomVector(Random random, int dim) {
    float[] v = new float[dim];
    for (int d = 0; d < dim; d++) {
      v[d] = (float) random.nextGaussian();
    }
    return v;
  }
}
