package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;

import dev.itemsim.InvalidInputException;
import dev.itemsim.embed.Vectors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The coarse quantiser of IVF search: spherical k-means ({@link SphericalKMeans}) on the driver over a random
 * sample of the corpus, its products by the exact search's kernel, and each vector's nearest centroids found
 * with the same kernel on the executors.
 */
final class CoarseQuantizer {
  private CoarseQuantizer() {}

  /** Unit-length centroids (one per list; possibly fewer than asked for) and the sample they came from. */
  record Trained(VectorBlocks centroids, long sampleSize) {
    int lists() {
      return centroids.count();
    }
  }

  /**
   * Trains about {@code lists} centroids on about {@code sampleSize} of the {@code count} corpus vectors
   * (column {@value SearchItems#EMBEDDING}), a Bernoulli sample drawn with {@code seed} and collected to the
   * driver, so the driver holds about {@code sampleSize} vectors whatever the corpus size: zero vectors are
   * left out, vectors equal once normalised counted once, at most as many lists as distinct sampled vectors.
   * When the sample holds no usable vector, the first {@code sampleSize} non-zero corpus vectors are used.
   * {@code kernel} names the exact search's kernel ({@link Kernels#select}; {@code gpu} runs on the CPU
   * here, as the driver has no GPU assigned).
   */
  static Trained train(Dataset<Row> corpus, long count, int lists, long sampleSize, int iterations, long seed,
      String kernel) {
    Dataset<Row> vectors = corpus.select(col(SearchItems.EMBEDDING));
    List<float[]> sample = distinctUnit(usable(sampleSize >= count ? vectors
        : vectors.sample(false, (double) sampleSize / count, seed)).collect());
    if (sample.isEmpty()) {
      sample = distinctUnit(usable(vectors).take((int) Math.min(Integer.MAX_VALUE - 8, Math.max(1, sampleSize))));
      if (sample.isEmpty()) {
        throw new InvalidInputException("Every embedding of the corpus is a zero vector: cosine neighbours are "
            + "undefined");
      }
    }
    int n = sample.size();
    int dim = sample.get(0).length;
    if ((long) n * dim > Integer.MAX_VALUE - 8) {
      throw new InvalidInputException("similarity.ivf.sampleSize: " + n + " sampled vectors of " + dim
          + " floats do not fit one array; lower similarity.ivf.sampleSize");
    }
    float[] points = new float[n * dim];
    for (int i = 0; i < n; i++) {
      if (sample.get(i).length != dim) {
        throw new IllegalArgumentException("Sampled vectors have lengths " + dim + " and " + sample.get(i).length
            + ": every vector must come from the same model");
      }
      System.arraycopy(sample.get(i), 0, points, i * dim, dim);
    }
    sample = null;
    int k = Math.min(lists, n);
    SphericalKMeans.Result result = SphericalKMeans.train(points, n, dim, k, iterations, seed,
        Kernels.select(Kernels.Selection.normalized(kernel).equals("gpu") ? "auto" : kernel));
    List<float[]> centroids = new ArrayList<>(k);
    for (int c = 0; c < k; c++) {
      centroids.add(result.centroid(c));
    }
    return new Trained(VectorBlocks.of(centroids, dim, BLOCK), n);
  }

  /**
   * The non-zero, finite vectors of an embedding column, as arrays copied from Spark's internal rows on the
   * executors.
   */
  private static JavaRDD<float[]> usable(Dataset<Row> embeddings) {
    return embeddings.queryExecution().toRdd().toJavaRDD().mapPartitions(rows -> {
      List<float[]> out = new ArrayList<>();
      while (rows.hasNext()) {
        org.apache.spark.sql.catalyst.InternalRow r = rows.next();
        if (r.isNullAt(0)) {
          continue;
        }
        float[] v = CollectedItems.floats(r.getArray(0));
        double norm = 0;
        for (float x : v) {
          norm += x * x;
        }
        if (norm > 0 && Double.isFinite(norm)) {
          out.add(v);
        }
      }
      return out.iterator();
    });
  }

  /** The vectors normalised in place, each distinct one once, in order of first appearance. */
  private static List<float[]> distinctUnit(List<float[]> vectors) {
    Set<Key> seen = new HashSet<>(2 * vectors.size());
    List<float[]> out = new ArrayList<>(vectors.size());
    for (float[] v : vectors) {
      float[] unit = Vectors.normalize(v);
      if (seen.add(new Key(unit))) {
        out.add(unit);
      }
    }
    return out;
  }

  /** A vector compared by its bits. */
  private record Key(float[] v) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && Arrays.equals(v, k.v);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(v);
    }
  }

  /** Rows per block of the centroid matrix (one block up to this many lists). */
  private static final int BLOCK = 8192;

  /**
   * The {@code m} centroids nearest to each of {@code vectors} (highest dot product; ties to the lower
   * centroid number), nearest first.
   */
  static int[][] nearest(List<float[]> vectors, VectorBlocks centroids, int m, MatMulKernel kernel) {
    int[][] out = new int[vectors.size()][];
    if (vectors.isEmpty()) {
      return out;
    }
    VectorBlocks batch = VectorBlocks.of(vectors, centroids.dim(), vectors.size());
    Map<Integer, TopNBuffer> merged = BlockedTopN.computeCrossLocally(batch, centroids, m, kernel);
    TopNBuffer top = merged.get(0);
    int[] ids = new int[m];
    float[] scores = new float[m];
    for (int r = 0; r < vectors.size(); r++) {
      int count = top.sorted(r, ids, scores);
      out[r] = Arrays.copyOf(ids, count);
    }
    return out;
  }
}
