package dev.itemsim.similarity;

import java.util.Arrays;
import java.util.Random;

/**
 * Spherical k-means in one JVM (IVF's coarse quantiser trains it on the driver, over a bounded sample): points
 * and centroids are unit vectors, a point belongs to the centroid of highest dot product (ties to the lower
 * centroid number), and a centroid is the normalised mean of its points. The products are the exact search's
 * ({@link MatMulKernel}), a bounded strip of the points at a time.
 *
 * <ul>
 *   <li>initialisation: k-means++ seeding with {@code seed} over a random subset of the points;
 *   <li>an iteration assigns every point and moves every centroid to its points' normalised mean; a centroid
 *       left without points takes the point farthest from its own centroid (lowest dot product, ties to the
 *       lower point number) among those of lists holding two or more, so no list ends empty;
 *   <li>it stops once an assignment moves at most {@link #TOLERANCE} of the points to another list, or after
 *       {@code maxIterations}, as soon as no list is empty (at most one update more).
 * </ul>
 * The result depends only on the points, their order, {@code k}, {@code seed} and the kernel's arithmetic.
 */
final class SphericalKMeans {
  /** Share of the points that may change list in an iteration for the centroids to count as settled. */
  static final double TOLERANCE = 1e-3;
  /** Seeding candidates per centroid, and at most (unless there are more centroids). */
  static final int SEEDING_POINTS = 8;
  static final int MAX_SEEDING_POINTS = 20_000;
  /** Floats of a point-by-centroid product strip (4 MB; strips are multiplied in parallel). */
  private static final int STRIP_FLOATS = 1 << 20;

  private SphericalKMeans() {}

  /**
   * Unit centroids, {@code k × dim} row-major, the iterations (centroid updates) run, and how many points
   * each centroid's last assignment gave it (never 0).
   */
  record Result(float[] centroids, int k, int dim, int iterations, int[] sizes) {
    float[] centroid(int c) {
      return Arrays.copyOfRange(centroids, c * dim, (c + 1) * dim);
    }
  }

  /**
   * Clusters {@code n} unit {@code points} ({@code n × dim} row-major, pairwise distinct) into {@code k ≤ n}
   * clusters.
   */
  static Result train(float[] points, int n, int dim, int k, int maxIterations, long seed, MatMulKernel kernel) {
    if (k < 1 || k > n || points.length < (long) n * dim) {
      throw new IllegalArgumentException("k-means needs 1 <= k <= n points: k = " + k + ", n = " + n);
    }
    float[] centroids = initial(points, n, dim, k, seed, kernel);
    int[] assigned = new int[n];
    Arrays.fill(assigned, -1);
    float[] best = new float[n];
    double[] sums = new double[k * dim];
    int[] counts = new int[k];
    int iterations = 0;
    while (true) {
      int moved = assign(points, n, dim, centroids, k, kernel, assigned, best);
      Arrays.fill(counts, 0);
      for (int p = 0; p < n; p++) {
        counts[assigned[p]]++;
      }
      boolean settled = iterations > 0 && moved <= TOLERANCE * n;
      boolean full = Arrays.stream(counts).allMatch(c -> c > 0);
      if (full && (settled || iterations >= maxIterations)) {
        break;
      }
      update(points, n, dim, centroids, k, assigned, best, sums, counts);
      iterations++;
      if (iterations > maxIterations) {  // the last update refilled an empty list: stop there
        break;
      }
    }
    return new Result(centroids, k, dim, iterations, counts);
  }

  /**
   * k-means++ seeding over a random subset of the points ({@link #SEEDING_POINTS} per centroid, within
   * {@link #MAX_SEEDING_POINTS}): the first centroid a random point, each next one a point drawn with
   * probability proportional to {@code 1 − cosine} to its nearest chosen centroid (squared Euclidean distance
   * on the sphere, halved); a point is never chosen twice.
   */
  private static float[] initial(float[] points, int n, int dim, int k, long seed, MatMulKernel kernel) {
    Random random = new Random(seed);
    int m = (int) Math.min(n, Math.max(k, Math.min((long) SEEDING_POINTS * k, MAX_SEEDING_POINTS)));
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    float[] candidates = new float[m * dim];
    for (int i = 0; i < m; i++) {
      int j = i + random.nextInt(n - i);
      int p = order[j];
      order[j] = order[i];
      order[i] = p;
      System.arraycopy(points, p * dim, candidates, i * dim, dim);
    }
    float[] centroids = new float[k * dim];
    float[] nearest = new float[m];
    Arrays.fill(nearest, -Float.MAX_VALUE);
    boolean[] chosen = new boolean[m];
    float[] dots = new float[m];
    int next = random.nextInt(m);
    for (int c = 0; c < k; c++) {
      chosen[next] = true;
      System.arraycopy(candidates, next * dim, centroids, c * dim, dim);
      if (c == k - 1) {
        break;
      }
      kernel.multiplyTransposed(candidates, 0, m, centroids, c, 1, dim, dots);
      double total = 0;
      for (int i = 0; i < m; i++) {
        nearest[i] = Math.max(nearest[i], dots[i]);
        total += chosen[i] ? 0 : Math.max(0, 1 - nearest[i]);
      }
      next = -1;
      double target = random.nextDouble() * total;
      for (int i = 0; i < m && total > 0; i++) {
        if (chosen[i]) {
          continue;
        }
        next = i;
        target -= Math.max(0, 1 - nearest[i]);
        if (target < 0) {
          break;
        }
      }
      if (next < 0) {  // every candidate left is a chosen one's copy to float precision: take the first left
        next = 0;
        while (chosen[next]) {
          next++;
        }
      }
    }
    return centroids;
  }

  /**
   * Sets each point's centroid and dot product with it; returns how many points changed centroid. Strips of
   * points are multiplied in parallel (the driver's cores are otherwise idle while it trains); each strip
   * writes only its own points, so the result does not depend on the threads.
   */
  private static int assign(float[] points, int n, int dim, float[] centroids, int k, MatMulKernel kernel,
      int[] assigned, float[] best) {
    int stripRows = Math.max(1, Math.min(n, STRIP_FLOATS / k));
    int strips = (n + stripRows - 1) / stripRows;
    return java.util.stream.IntStream.range(0, strips).parallel().map(s -> {
      int from = s * stripRows;
      int rows = Math.min(stripRows, n - from);
      float[] strip = new float[rows * k];
      kernel.multiplyTransposed(points, from, rows, centroids, 0, k, dim, strip);
      int moved = 0;
      for (int r = 0; r < rows; r++) {
        int top = 0;
        float topScore = strip[r * k];
        for (int c = 1; c < k; c++) {
          float v = strip[r * k + c];
          if (v > topScore) {  // strict: ties stay with the lower centroid
            top = c;
            topScore = v;
          }
        }
        int p = from + r;
        moved += assigned[p] == top ? 0 : 1;
        assigned[p] = top;
        best[p] = topScore;
      }
      return moved;
    }).sum();
  }

  /**
   * Moves every centroid to its points' normalised mean ({@code counts}: points per centroid, updated),
   * refilling empty ones from the farthest points first.
   */
  private static void update(float[] points, int n, int dim, float[] centroids, int k, int[] assigned, float[] best,
      double[] sums, int[] counts) {
    Arrays.fill(sums, 0);
    for (int p = 0; p < n; p++) {
      add(sums, assigned[p], points, p, dim, 1);
    }
    int empty = 0;
    while (empty < k && counts[empty] > 0) {
      empty++;
    }
    if (empty < k) {
      Integer[] farthest = new Integer[n];
      for (int p = 0; p < n; p++) {
        farthest[p] = p;
      }
      Arrays.sort(farthest, (a, b) -> best[a] != best[b] ? Float.compare(best[a], best[b]) : Integer.compare(a, b));
      // n >= k distinct points: lists holding two or more spare at least as many points as there are empty lists
      for (int i = 0; i < n && empty < k; i++) {
        int p = farthest[i];
        int from = assigned[p];
        if (counts[from] < 2) {
          continue;
        }
        add(sums, from, points, p, dim, -1);
        counts[from]--;
        add(sums, empty, points, p, dim, 1);
        counts[empty]++;
        assigned[p] = empty;
        while (empty < k && counts[empty] > 0) {
          empty++;
        }
      }
    }
    for (int c = 0; c < k; c++) {
      double norm = 0;
      for (int d = 0; d < dim; d++) {
        norm += sums[c * dim + d] * sums[c * dim + d];
      }
      if (norm == 0) {  // its points cancel out: keep the centroid where it is
        continue;
      }
      double inv = 1 / Math.sqrt(norm);
      for (int d = 0; d < dim; d++) {
        centroids[c * dim + d] = (float) (sums[c * dim + d] * inv);
      }
    }
  }

  private static void add(double[] sums, int c, float[] points, int p, int dim, int sign) {
    for (int d = 0; d < dim; d++) {
      sums[c * dim + d] += sign * points[p * dim + d];
    }
  }
}
