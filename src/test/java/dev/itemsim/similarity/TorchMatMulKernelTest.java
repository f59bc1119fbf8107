package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The libtorch kernel on DJL's CPU device, the part of the GPU path this machine can run: the same copies in and
 * out and the same matmul as on a CUDA device, checked against netlib's Java BLAS and a double-precision sum.
 */
class TorchMatMulKernelTest {
  private static TorchMatMulKernel torch;
  private static MatMulKernel java;

  @BeforeAll
  static void open() {
    torch = TorchMatMulKernel.open(Device.cpu());
    java = NetlibBlasKernel.javaOnly();
  }

  @Test
  void nameAndDevice() {
    assertThat(torch.name()).isEqualTo("pytorch(cpu)");
    assertThat(torch.device()).isEqualTo(Device.cpu());
    assertThat(torch.isNative()).isTrue();
  }

  @Test
  void productsMatchJavaBlasForShapesAndRowOffsets() {
    Random random = new Random(11);
    // {aRows in array, bRows in array, dim, aFrom, aRows, bFrom, bRows}: single rows, odd sizes, the top-N tile
    int[][] shapes = {
        {1, 1, 1, 0, 1, 0, 1},
        {5, 3, 2, 4, 1, 2, 1},
        {300, 250, 77, 40, 123, 17, 201},
        {64, 64, 384, 0, 64, 0, 64},
        {1500, 700, 384, 300, 1024, 100, 512},
    };
    for (int[] s : shapes) {
      int dim = s[2];
      float[] a = random(s[0] * dim, random);
      float[] b = random(s[1] * dim, random);
      assertSameProducts(a, s[3], s[4], b, s[5], s[6], dim);
    }
  }

  @Test
  void aBlockTimesItselfAtOtherRows() {
    // the diagonal tiles of a block's product with itself: one array on both sides
    int dim = 48;
    float[] a = random(600 * dim, new Random(5));
    assertSameProducts(a, 256, 256, a, 256, 344, dim);
    assertSameProducts(a, 0, 256, a, 512, 88, dim);
  }

  @Test
  void tasksSharingTheKernelGetTheirOwnProducts() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int seed = t;
        done.add(pool.submit(() -> {
          Random random = new Random(100 + seed);
          int dim = 32 + seed;
          for (int round = 0; round < 5; round++) {
            float[] a = random((50 + seed) * dim, random);
            float[] b = random((70 + round) * dim, random);
            assertSameProducts(a, seed, 40, b, round, 60, dim);
          }
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void exactTopNThroughTheTorchKernelListsWhatTheBlasKernelLists() {
    Random random = new Random(21);
    List<float[]> vectors = new ArrayList<>();
    for (int i = 0; i < 700; i++) {
      vectors.add(unit(random(24, random)));
    }
    VectorBlocks blocks = VectorBlocks.of(vectors, 24, 256);
    Map<Integer, TopNBuffer> viaTorch = BlockedTopN.computeLocally(blocks, 10, torch);
    Map<Integer, TopNBuffer> viaBlas = BlockedTopN.computeLocally(blocks, 10, java);
    List<int[]> torchLists = BlockedTopN.neighborLists(blocks, viaTorch);
    List<int[]> blasLists = BlockedTopN.neighborLists(blocks, viaBlas);
    assertThat(torchLists).hasSize(700);
    for (int i = 0; i < 700; i++) {
      assertThat(torchLists.get(i)).as("item %d", i).hasSize(10).isEqualTo(blasLists.get(i));
    }
  }

  private static void assertSameProducts(float[] a, int aFrom, int aRows, float[] b, int bFrom, int bRows, int dim) {
    float[] viaTorch = new float[aRows * bRows + 3];
    float[] viaJava = new float[aRows * bRows + 3];
    viaTorch[aRows * bRows] = 42f;  // floats past the product stay as they were
    torch.multiplyTransposed(a, aFrom, aRows, b, bFrom, bRows, dim, viaTorch);
    java.multiplyTransposed(a, aFrom, aRows, b, bFrom, bRows, dim, viaJava);
    assertThat(viaTorch[aRows * bRows]).isEqualTo(42f);
    Offset<Float> tolerance = Offset.offset(1e-4f * (float) Math.sqrt(dim));
    for (int i = 0; i < aRows; i++) {
      for (int j = 0; j < bRows; j++) {
        double dot = 0;
        for (int k = 0; k < dim; k++) {
          dot += (double) a[(aFrom + i) * dim + k] * b[(bFrom + j) * dim + k];
        }
        assertThat(viaTorch[i * bRows + j]).as("c[%d][%d] of %dx%dx%d", i, j, aRows, bRows, dim)
            .isCloseTo(viaJava[i * bRows + j], tolerance).isCloseTo((float) dot, tolerance);
      }
    }
  }

  private static float[] unit(float[] v) {
    double norm = 0;
    for (float x : v) {
      norm += x * x;
    }
    float scale = (float) (1 / Math.sqrt(norm));
    for (int i = 0; i < v.length; i++) {
      v[i] *= scale;
    }
    return v;
  }

  private static float[] random(int n, Random random) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = random.nextFloat() * 2 - 1;
    }
    return v;
  }
}
