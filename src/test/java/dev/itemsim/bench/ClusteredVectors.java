package dev.itemsim.bench;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Synthetic unit vectors clustered the way sentence embeddings of a product catalogue are: a direction every
 * item shares (embeddings are anisotropic), its product type's centre, its brand's, its product line's (type ×
 * brand × line) and its own noise:
 * {@code v = normalise(0.5·G + 1.0·T[type] + 0.7·B[brand] + 0.6·L[type, brand, line] + e·noise)}, every centre
 * and the noise a random unit vector, {@code e = 0.5} (0.15 for the 5 % of items that are near-copies of their
 * line). Types follow a Zipf law over {@code max(100, n / 500)} types; each type has 20 brands (Zipf within the
 * type) drawn from a shared pool, and every (type, brand) 3 lines, so a line holds about 8 items at any n.
 * Cosines come out about 0.1 between unrelated items, 0.5 within a type, 0.75 within a type and brand and 0.9
 * within a line. Item {@code g} is {@code item-%07d}; everything is a function of (n, seed, g), generated on
 * the executors.
 */
final class ClusteredVectors implements Serializable {
  static final StructType SCHEMA = new StructType()
      .add("item_id", DataTypes.StringType, false)
      .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false);
  private static final int BRANDS_PER_TYPE = 20;
  private static final int LINES_PER_BRAND = 3;
  private static final double VARIANTS = 0.05;

  private final int n;
  private final int dim;
  private final long seed;
  private final int types;
  private final int brands;

  ClusteredVectors(int n, int dim, long seed) {
    this.n = n;
    this.dim = dim;
    this.seed = seed;
    this.types = Math.max(100, n / 500);
    this.brands = Math.max(BRANDS_PER_TYPE, types * 4);
  }

  int types() {
    return types;
  }

  /** The table {@code (item_id, embedding)}, about 10,000 items per partition. */
  Dataset<Row> table(SparkSession spark) {
    int parts = Math.max(8, n / 10_000);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    JavaRDD<Row> rows = jsc.parallelize(IntStream.range(0, parts).boxed().toList(), parts).flatMap(p -> {
      Generator generator = new Generator();
      return LongStream.range((long) n * p / parts, (long) n * (p + 1) / parts)
          .mapToObj(g -> RowFactory.create(String.format("item-%07d", g), generator.vector(g))).iterator();
    });
    return spark.createDataFrame(rows, SCHEMA);
  }

  /** A generator of items, for one partition (or a test): it caches type and brand centres. */
  Generator generator() {
    return new Generator();
  }

  /** One partition's generator: type and brand centres cached, line centres and noise drawn per item. */
  final class Generator {
    private final double[] typeCdf = zipfCdf(types);
    private final double[] brandCdf = zipfCdf(BRANDS_PER_TYPE);
    private final Map<Integer, float[]> typeCentres = new HashMap<>();
    private final Map<Integer, float[]> brandCentres = new HashMap<>();
    private final float[] global = centre(0, 0);

    /** Item {@code g}'s product type, brand and line (within its type and brand). */
    int[] labels(long g) {
      SplittableRandom random = new SplittableRandom(mix(seed, 4, g));
      int type = pick(typeCdf, random.nextDouble());
      int brand = (int) Math.floorMod(type * 7919L + pick(brandCdf, random.nextDouble()) * 104_729L, (long) brands);
      return new int[] {type, brand, random.nextInt(LINES_PER_BRAND)};
    }

    float[] vector(long g) {
      SplittableRandom random = new SplittableRandom(mix(seed, 4, g));
      int type = pick(typeCdf, random.nextDouble());
      int brand = (int) Math.floorMod(type * 7919L + pick(brandCdf, random.nextDouble()) * 104_729L, (long) brands);
      int line = random.nextInt(LINES_PER_BRAND);
      float[] t = typeCentres.computeIfAbsent(type, k -> centre(1, k));
      float[] b = brandCentres.computeIfAbsent(brand, k -> centre(2, k));
      float[] l = centre(3, ((long) type * brands + brand) * LINES_PER_BRAND + line);
      double e = random.nextDouble() < VARIANTS ? 0.15 : 0.5;
      float[] noise = unit(random);
      float[] v = new float[dim];
      double norm = 0;
      for (int k = 0; k < dim; k++) {
        double x = 0.5 * global[k] + t[k] + 0.7 * b[k] + 0.6 * l[k] + e * noise[k];
        v[k] = (float) x;
        norm += x * x;
      }
      float scale = (float) (1 / Math.sqrt(norm));
      for (int k = 0; k < dim; k++) {
        v[k] *= scale;
      }
      return v;
    }

    private float[] centre(int kind, long key) {
      return unit(new SplittableRandom(mix(seed, kind, key)));
    }

    private float[] unit(SplittableRandom random) {
      float[] v = new float[dim];
      double norm = 0;
      for (int k = 0; k < dim; k++) {
        double x = random.nextGaussian();
        v[k] = (float) x;
        norm += x * x;
      }
      float scale = (float) (1 / Math.sqrt(norm));
      for (int k = 0; k < dim; k++) {
        v[k] *= scale;
      }
      return v;
    }
  }

  private static long mix(long seed, int kind, long key) {
    long h = seed * 0x9E3779B97F4A7C15L + kind * 0xC2B2AE3D27D4EB4FL + key * 0x165667B19E3779F9L;
    h ^= h >>> 33;
    h *= 0xFF51AFD7ED558CCDL;
    return h ^ (h >>> 33);
  }

  private static double[] zipfCdf(int size) {
    double[] cdf = new double[size];
    double total = 0;
    for (int k = 0; k < size; k++) {
      total += 1.0 / (k + 1);
      cdf[k] = total;
    }
    for (int k = 0; k < size; k++) {
      cdf[k] /= total;
    }
    return cdf;
  }

  private static int pick(double[] cdf, double u) {
    int i = java.util.Arrays.binarySearch(cdf, u);
    return Math.min(cdf.length - 1, i >= 0 ? i : -i - 1);
  }
}
