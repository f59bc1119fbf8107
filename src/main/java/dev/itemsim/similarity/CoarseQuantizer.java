package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;

import dev.itemsim.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.clustering.KMeans;
import org.apache.spark.ml.clustering.KMeansModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * The coarse quantiser of IVF search: centroids trained with MLlib's k-means (cosine distance, its
 * blockified GEMM solver, random initialisation) on a random sample of the corpus, and each vector's
 * nearest centroids found with the exact search's kernel.
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
   * (column {@value SearchItems#EMBEDDING}): zero vectors are left out, equal vectors counted once (MLlib's
   * block solver assumes as many distinct initial centres as clusters), at most as many lists as distinct
   * sampled vectors.
   */
  static Trained train(Dataset<Row> corpus, long count, int lists, long sampleSize, int iterations, long seed) {
    // MLlib accepts array<float> only with non-null elements; an ML vector column whatever the array's schema
    Dataset<Row> vectors = corpus.filter(expr("aggregate(" + SearchItems.EMBEDDING + ", 0D, (a, x) -> a + x * x) > 0"))
        .select(org.apache.spark.ml.functions.array_to_vector(col(SearchItems.EMBEDDING)).as(FEATURES));
    Dataset<Row> sample = sampleSize >= count ? vectors : vectors.sample(false, (double) sampleSize / count, seed);
    sample = sample.dropDuplicates().persist(StorageLevel.MEMORY_AND_DISK());
    try {
      long size = sample.count();
      if (size == 0) {
        sample.unpersist();
        sample = vectors.dropDuplicates().persist(StorageLevel.MEMORY_AND_DISK());
        size = sample.count();
        if (size == 0) {
          throw new InvalidInputException("Every embedding of the corpus is a zero vector: cosine neighbours are "
              + "undefined");
        }
      }
      int k = (int) Math.min(lists, size);
      KMeansModel model = new KMeans().setK(k).setFeaturesCol(FEATURES).setDistanceMeasure("cosine")
          .setSolver("block").setInitMode("random").setMaxIter(iterations).setSeed(seed).fit(sample);
      List<float[]> centroids = new ArrayList<>(k);
      for (Vector center : model.clusterCenters()) {
        centroids.add(unit(center));
      }
      return new Trained(VectorBlocks.of(centroids, centroids.get(0).length, BLOCK), size);
    } finally {
      sample.unpersist();
    }
  }

  private static final String FEATURES = "features";

  /** Rows per block of the centroid matrix (one block up to this many lists). */
  private static final int BLOCK = 8192;

  private static float[] unit(Vector center) {
    double[] v = center.toArray();
    double norm = 0;
    for (double x : v) {
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    float[] out = new float[v.length];
    for (int k = 0; k < v.length; k++) {
      out[k] = (float) (norm > 0 ? v[k] / norm : 0);
    }
    return out;
  }

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
      out[r] = java.util.Arrays.copyOf(ids, count);
    }
    return out;
  }
}
