package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;

import dev.itemsim.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.clustering.KMeans;
import org.apache.spark.ml.clustering.KMeansModel;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

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
   * (column {@value SearchItems#EMBEDDING}): zero vectors are left out, equal vectors counted once, at most
   * as many lists as distinct sampled vectors.
   */
  static Trained train(Dataset<Row> corpus, long count, int lists, long sampleSize, int iterations, long seed) {
    SparkSession spark = corpus.sparkSession();
    Dataset<Row> vectors = corpus.select(col(SearchItems.EMBEDDING));
    Dataset<Row> sample = vectorsOf(spark, sampleSize >= count ? vectors
        : vectors.sample(false, (double) sampleSize / count, seed));
    try {
      long size = sample.count();
      if (size == 0) {
        sample.unpersist();
        sample = vectorsOf(spark, vectors);
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

  /**
   * The distinct non-zero vectors of {@code embeddings} as an ML vector column, persisted: MLlib's block
   * solver assumes as many distinct initial centres as clusters, and cosine is undefined for zero vectors.
   * Converted in plain Java (a higher-order SQL function and a UDF per row cost more than the training).
   */
  private static Dataset<Row> vectorsOf(SparkSession spark, Dataset<Row> embeddings) {
    JavaRDD<Row> rows = embeddings.javaRDD()
        .flatMapToPair(r -> {
          float[] v = CollectedItems.floats(r.getList(0));
          double norm = 0;
          for (float x : v) {
            norm += x * x;
          }
          return norm > 0 && Double.isFinite(norm) ? List.of(new Tuple2<>(fingerprint(v), v)).iterator()
              : java.util.Collections.<Tuple2<Long, float[]>>emptyIterator();
        })
        .reduceByKey((a, b) -> a)
        .map(t -> {
          double[] d = new double[t._2().length];
          for (int k = 0; k < d.length; k++) {
            d[k] = t._2()[k];
          }
          return RowFactory.create(Vectors.dense(d));
        });
    return spark.createDataFrame(rows, new StructType().add(FEATURES, SQLDataTypes.VectorType(), false))
        .persist(StorageLevel.MEMORY_AND_DISK());
  }

  /** A 64-bit hash of a vector's bits: equal vectors share it, different ones (almost) never. */
  private static long fingerprint(float[] v) {
    long h = 0x9E3779B97F4A7C15L;
    for (float x : v) {
      h = (h ^ Float.floatToIntBits(x)) * 0xBF58476D1CE4E5B9L;
      h ^= h >>> 31;
    }
    return h;
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
