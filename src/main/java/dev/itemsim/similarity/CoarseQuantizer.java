package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;

import dev.itemsim.InvalidInputException;
import dev.itemsim.embed.Vectors;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;

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
   * What one pass over the corpus gathers before training: the vector length (every row checked against it),
   * the sample's usable vectors, every id when asked for (rows without one are counted, not kept), the rows
   * as segment files of no list yet ({@code rows}, deleted by the caller), and the recall sample's rows when
   * one was asked for ({@code drawn}, in id order; else empty).
   */
  record Scan(int dim, List<float[]> sample, List<String> ids, long missingIds, ListSegments rows,
      List<SampledRecall.Drawn> drawn) {}

  /**
   * Where a scan lays the corpus rows down ({@link ListSegments.Appender}): a new folder, the number of filter
   * columns after id and vector, rows per segment.
   */
  record RowDump(String dir, int filters, int maxRows) implements Serializable {}

  /** A vector of the k-means sample and the key that drew it. */
  private record Sampled(long key, float[] vector) implements Serializable {}

  /**
   * The order of the k-means sample: by key, then by the vectors' values, so the sample k-means starts from
   * depends on the rows and the seed only, not on how the rows were partitioned or ordered.
   */
  private static final java.util.Comparator<Sampled> SAMPLE_ORDER = java.util.Comparator
      .comparingLong(Sampled::key).thenComparing(Sampled::vector, Arrays::compare);

  /** One partition's share of a {@link Scan}. */
  private record PartScan(int partition, int firstDim, String firstId, boolean seen, ArrayList<String> ids,
      long missingIds, ArrayList<Sampled> sample, ArrayList<ListSegments.Written> dumped,
      List<SampledRecall.Drawn> drawn) implements Serializable {}

  /**
   * Reads the corpus ({@value SearchItems#ID}, {@value SearchItems#EMBEDDING}, then {@code dump.filters()} filter
   * columns) once: a sample of about {@code sampleSize} of its {@code count} rows keeps its non-zero, finite
   * vectors. A row is drawn when its key under {@code seed} ({@link SampledRecall#key} of its id, or of its
   * vector's bits when it has none) falls below that fraction of all keys, and the sample is ordered by key: the
   * same sample in the same order whatever the partitioning and order of the rows, so the same input and seed
   * give the same lists. With {@code withIds} every id comes back too, so the driver holds about
   * {@code sampleSize} vectors, and the ids only when asked. Every row is also written into {@code dump.dir()}
   * (a new folder) as it is read ({@link Scan#rows}); a row without a vector, with a null in it or with another
   * vector length fails the scan naming the item. The caller deletes those files, also when the scan fails.
   * With {@code recall} (null: none) the same pass draws the recall sample ({@link SampledRecall.Draw}).
   */
  static Scan scan(Dataset<Row> corpus, long count, long sampleSize, long seed, boolean withIds, RowDump dump,
      SampledRecall.Draw recall) {
    double fraction = sampleSize >= count ? 1.0 : (double) sampleSize / count;
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(corpus.sparkSession().sparkContext());
    Configuration hadoop = jsc.hadoopConfiguration();
    ListSegments.createNewFolder(new org.apache.hadoop.fs.Path(dump.dir()), hadoop);
    Broadcast<SerializableConfiguration> conf = jsc.broadcast(new SerializableConfiguration(hadoop));
    List<PartScan> parts;
    try {
      parts = corpus.queryExecution().toRdd().toJavaRDD().mapPartitionsWithIndex((index, rows) -> List.of(
          scanPartition(index, rows, fraction, seed, withIds, dump, recall == null ? null : recall.copy(),
              conf.value().value()))
          .iterator(), false).collect();
    } catch (Throwable e) {  // collect() throws SparkException, checked for Java yet undeclared
      conf.destroy();
      throw e;
    }
    int dim = 0;
    List<Sampled> sampled = new ArrayList<>();
    List<String> ids = withIds ? new ArrayList<>((int) Math.min(count, Integer.MAX_VALUE - 8)) : null;
    long missing = 0;
    List<PartScan> ordered = new ArrayList<>(parts);
    ordered.sort(java.util.Comparator.comparingInt(PartScan::partition));
    String dimOf = null;
    boolean found = false;
    for (PartScan part : ordered) {
      if (!found && part.seen()) {
        dim = part.firstDim();
        dimOf = part.firstId();
        found = true;
      }
      sampled.addAll(part.sample());
      if (withIds) {
        ids.addAll(part.ids());
      }
      missing += part.missingIds();
    }
    sampled.sort(SAMPLE_ORDER);
    List<float[]> sample = new ArrayList<>(sampled.size());
    sampled.forEach(v -> sample.add(v.vector()));
    sampled = null;
    List<ListSegments.Written> dumped = new ArrayList<>();
    List<SampledRecall.Drawn> drawn = new ArrayList<>();
    for (PartScan part : ordered) {
      if (part.seen() && part.firstDim() != dim) {
        conf.destroy();
        throw new IllegalArgumentException("The vector of item '" + part.firstId() + "' has length "
            + part.firstDim() + ", expected " + dim + " (the length of item '" + dimOf + "', the first read): "
            + "every vector must come from the same model");
      }
      dumped.addAll(part.dumped());
      drawn.addAll(part.drawn());
    }
    ListSegments rows = ListSegments.of(dump.dir(), new ListSegments.Shape(dim, 0, 0, dump.filters()), dumped,
        conf, hadoop);
    return new Scan(dim, sample, ids, missing, rows, recall == null ? List.of() : recall.smallest(drawn));
  }

  /**
   * One partition's share of {@link #scan}, in one loop over its rows: the first row's vector length and id,
   * the ids, the rows whose key falls below the sampling fraction (with their keys, for the driver to order), every row
   * appended to segment files, and the partition's share of the recall sample ({@code recall}: null for none).
   */
  private static PartScan scanPartition(int index, Iterator<InternalRow> rows, double fraction, long seed,
      boolean withIds, RowDump dump, SampledRecall.Draw recall, Configuration conf) throws IOException {
    // a row is sampled when its key falls below the fraction of all keys: the same rows whatever the partitioning
    long below = fraction >= 1 ? Long.MAX_VALUE : (long) (fraction * 0x1p63);
    int firstDim = -1;
    String firstId = null;
    boolean seen = false;
    long missing = 0;
    ArrayList<String> ids = new ArrayList<>();
    ArrayList<Sampled> sample = new ArrayList<>();
    ListSegments.Appender appender = null;
    String[] values = new String[dump.filters()];  // the appender keeps the strings, not the array
    while (rows.hasNext()) {
      InternalRow r = rows.next();
      String id = r.isNullAt(0) ? null : r.getUTF8String(0).toString();
      if (!seen) {
        seen = true;
        firstDim = r.isNullAt(1) ? -1 : r.getArray(1).numElements();
        firstId = id;
      }
      if (withIds) {
        if (id == null) {
          missing++;
        } else {
          ids.add(id);
        }
      }
      if (r.isNullAt(1)) {
        throw new IllegalArgumentException("Item '" + id + "' has no embedding");
      }
      for (int k = 0; k < values.length; k++) {
        values[k] = r.isNullAt(2 + k) ? null : r.getUTF8String(2 + k).toString();
      }
      if (appender == null) {
        appender = new ListSegments.Appender(new ListSegments.Shape(firstDim, 0, 0, dump.filters()),
            dump.maxRows(), dump.dir(), "scan-" + index + "-" + BlockFiles.attempt(TaskContext.get()), conf);
      }
      appender.add(id, r.getArray(1), values);
      if (recall != null && id != null) {
        recall.offer(id, r.getArray(1), values);
      }
      long key = id != null ? SampledRecall.key(id, seed) : vectorKey(r.getArray(1), seed);
      if (fraction >= 1 || key < below) {
        float[] v = usable(r);
        if (v != null) {
          sample.add(new Sampled(key, v));
        }
      }
    }
    ArrayList<ListSegments.Written> dumped = new ArrayList<>();
    if (appender != null) {
      dumped.addAll(appender.finish());
    }
    return new PartScan(index, firstDim, firstId, seen, ids, missing, sample, dumped,
        recall == null ? List.of() : recall.rows());
  }

  /** The sampling key of a row without an id: its vector's bits hashed as {@link SampledRecall#key} hashes ids. */
  private static long vectorKey(org.apache.spark.sql.catalyst.util.ArrayData vector, long seed) {
    StringBuilder bits = new StringBuilder(2 * vector.numElements());
    for (int k = 0; k < vector.numElements(); k++) {
      int b = vector.isNullAt(k) ? 0 : Float.floatToIntBits(vector.getFloat(k));
      bits.append((char) (b >>> 16)).append((char) b);
    }
    return SampledRecall.key(bits.toString(), seed);
  }

  /**
   * Trains about {@code lists} centroids on the scan's sample (drawn from about {@code sampleSize} of the corpus
   * rows, so the driver holds that many vectors whatever the corpus size): zero vectors are left out, vectors
   * equal once normalised counted once, at most as many lists as distinct sampled vectors. When the sample
   * holds no usable vector, the first {@code sampleSize} non-zero corpus vectors are used. {@code kernel} names
   * the exact search's kernel ({@link Kernels#select}; {@code gpu} runs on the CPU here, as the driver has no
   * GPU assigned).
   */
  static Trained train(Dataset<Row> corpus, Scan scan, int lists, long sampleSize, int iterations, long seed,
      String kernel) {
    List<float[]> sample = distinctUnit(scan.sample());
    if (sample.isEmpty()) {
      Dataset<Row> vectors = corpus.select(col(SearchItems.EMBEDDING));
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
        float[] v = usable(rows.next(), 0);
        if (v != null) {
          out.add(v);
        }
      }
      return out.iterator();
    });
  }

  /** The vector of a scanned row (column 1) when it is non-zero and finite, else null. */
  private static float[] usable(InternalRow r) {
    return usable(r, 1);
  }

  private static float[] usable(InternalRow r, int column) {
    if (r.isNullAt(column)) {
      return null;
    }
    float[] v = CollectedItems.floats(r.getArray(column));
    double norm = 0;
    for (float x : v) {
      norm += x * x;
    }
    return norm > 0 && Double.isFinite(norm) ? v : null;
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
