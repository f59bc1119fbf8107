package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Tuple2;

class SampledRecallTest {
  @TempDir
  Path scratch;

  /** Planted lists: the recall is the share of exact neighbours the approximate lists name, whatever their order. */
  @Test
  void recallIsTheShareOfExactNeighboursFound() {
    TopNBuffer exact = new TopNBuffer(3, 4);
    for (int k = 0; k < 4; k++) {
      exact.offer(0, 0.9f - k * 0.1f, 10 + k);   // q0: 10, 11, 12, 13
      exact.offer(1, 0.8f - k * 0.1f, 20 + k);   // q1: 20, 21, 22, 23
    }
    exact.offer(2, 0.5f, 30);                     // q2 has one neighbour only (a filter left one)
    SampledRecall.Sample sample = new SampledRecall.Sample(new float[3], 1, new int[] {0, 1, 2},
        new String[] {"q0", "q1", "q2"}, new String[0][], new int[3], new int[3], new int[0], 0);
    Map<String, Set<Integer>> approximate = Map.of(
        "q0", Set.of(13, 11, 10, 99),   // 3 of 4, one wrong
        "q1", Set.of(20),               // 1 of 4
        "q2", Set.of(30));              // 1 of 1
    SampledRecall.Result result = SampledRecall.compare(sample, exact, approximate);
    assertThat(result.queries()).isEqualTo(3);
    assertThat(result.exactNeighbors()).isEqualTo(9);
    assertThat(result.found()).isEqualTo(5);
    assertThat(result.recall()).isEqualTo(5.0 / 9);
    assertThat(SampledRecall.compare(sample, exact, Map.of()).recall()).isZero();
  }

  /**
   * Queries that all found every neighbour leave the ratio estimator no spread (its standard error is 0): the
   * bound is then Wilson's over their neighbours, below 1, and three such queries cannot show 0.95.
   */
  @Test
  void queriesThatAllFindTheSameShareStillGetABoundBelowTheirRecall() {
    SampledRecall.Curve many = new SampledRecall.Curve(500, 5000, new long[] {5000}, new long[] {50_000},
        new long[] {50_000}, 50_000);
    assertThat(many.standardError(1)).isZero();
    assertThat(many.lowerBound(1)).isLessThan(1.0).isCloseTo(0.99946, Offset.offset(1e-5));
    assertThat(many.smallestReaching(0.95)).isEqualTo(1);

    SampledRecall.Curve three = new SampledRecall.Curve(3, 30, new long[] {30, 30}, new long[] {300, 300},
        new long[] {300, 300}, 300);
    assertThat(three.lowerBound(1)).isLessThan(0.95);
    assertThat(three.smallestReaching(0.95)).as("none can be shown to reach it: the largest").isEqualTo(2);
  }

  /**
   * Planted probes and exact lists: an exact neighbour counts from the first of the query's probes that holds
   * one of its lists (an item stored in two lists from the nearer probed one), never when none of its lists is
   * among the stored probes.
   */
  @Test
  void theRecallByNprobeCountsEachNeighbourFromItsFirstProbedList() {
    TopNBuffer top = new TopNBuffer(2, 3);
    top.offer(0, 0.9f, 1);
    top.offer(0, 0.8f, 2);
    top.offer(0, 0.7f, 3);
    top.offer(1, 0.6f, 4);
    top.offer(1, 0.5f, 1);
    java.util.HashMap<Integer, int[]> listsOf = new java.util.HashMap<>(Map.of(1, new int[] {40, 30}, 2,
        new int[] {20, 99}, 3, new int[] {77, 88}, 4, new int[] {10, 40}));
    // q0 probes 30, 20, 40 (item 1 from 30 at rank 0, item 2 from 20 at rank 1, item 3 never);
    // q1 probes 50, 10, 40 (item 4 from 10 at rank 1, item 1 from 40 at rank 2)
    SampledRecall.Sample sample = new SampledRecall.Sample(new float[2], 1, new int[] {0, 5}, new String[] {"q0",
        "q1"}, new String[0][], new int[2], new int[2], new int[] {30, 20, 40, 50, 10, 40}, 3);
    SampledRecall.Curve curve = SampledRecall.curve(sample, new SampledRecall.Exact(top, listsOf), q -> true);
    assertThat(curve.exactNeighbors()).isEqualTo(5);
    assertThat(curve.foundWithin()).containsExactly(1, 3, 4);
    assertThat(curve.recalls()).containsExactly(0.2, 0.6, 0.8);
    // per query found − recall × exact: ±0.4, ±0.2, ±0.4, so standard errors sqrt(2 · Σ²) / 5 = 0.16, 0.08, 0.16
    Offset<Double> close = Offset.offset(1e-12);
    assertThat(curve.standardError(1)).isCloseTo(0.16, close);
    assertThat(curve.standardError(2)).isCloseTo(0.08, close);
    assertThat(curve.standardError(3)).isCloseTo(0.16, close);
    // the ratio estimator's bounds −0.063, 0.468, 0.537; Wilson's over 5 neighbours 0.046, 0.272, 0.435: the lower
    Offset<Double> rounded = Offset.offset(5e-4);
    assertThat(curve.lowerBound(1)).isCloseTo(0.2 - 1.645 * 0.16, close);
    assertThat(curve.lowerBound(2)).isCloseTo(0.2725, rounded);
    assertThat(curve.lowerBound(3)).isCloseTo(0.4353, rounded);
    assertThat(curve.lowerBounds()).hasSize(3);
    // the choice goes by the lower bound, not the recall
    assertThat(curve.smallestReaching(0.25)).isEqualTo(2);
    assertThat(curve.smallestReaching(0.3)).as("nprobe 2's recall 0.6 is not enough").isEqualTo(3);
    assertThat(curve.smallestReaching(0.45)).as("none reaches: the largest").isEqualTo(3);
    assertThat(curve.smallestReaching(-1)).isEqualTo(1);

    listsOf.remove(3);
    SampledRecall.Curve second = SampledRecall.curve(sample, new SampledRecall.Exact(top, listsOf), q -> q == 1);
    assertThat(second.queries()).isEqualTo(1);
    assertThat(second.recalls()).as("q1 alone").containsExactly(0.0, 0.5, 1.0);
    // one query: no spread to estimate, so Wilson's bound over its 2 neighbours (before: the recalls themselves,
    // and a sample of one query claimed recall 1 with 95 % confidence)
    assertThat(second.lowerBounds()).as("one query").satisfiesExactly(b -> assertThat(b).isCloseTo(0.0, close),
        b -> assertThat(b).isCloseTo(0.1209, rounded), b -> assertThat(b).isCloseTo(0.4250, rounded));
    assertThat(second.smallestReaching(0.95)).as("no nprobe can be shown to reach 0.95 on one query").isEqualTo(3);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> SampledRecall.curve(sample,
        new SampledRecall.Exact(top, listsOf), q -> true))
        .hasMessageContaining("Exact neighbour 3 of sampled query 'q0'");
    SampledRecall.Curve nothing = SampledRecall.curve(sample, new SampledRecall.Exact(new TopNBuffer(2, 3),
        new java.util.HashMap<>()), q -> true);
    assertThat(nothing.recall(1)).as("nothing to find").isEqualTo(1.0);
    assertThat(nothing.smallestReaching(0.99)).isEqualTo(1);
  }

  /**
   * The exact lists the list writers measure ({@link SampledRecall.Fused}) are the exact pass's over the written
   * lists, neighbour for neighbour, ties (equal vectors) and filters included, with the lists each neighbour is
   * stored in; every sampled item's query row is found where it was written, with its stored probes. Items are
   * stored in two lists, so the pass must count each once.
   */
  @Test
  void listsMeasuredAsTheyAreWrittenAreTheExactPasss() {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    java.util.Random random = new java.util.Random(5);
    int dim = 6;
    int items = 150;
    int lists = 7;
    ListSegments.Shape shape = new ListSegments.Shape(dim, 3, 2, 1);
    String[] names = new String[items];
    float[][] vectors = new float[items][];
    String[] values = new String[items];
    List<Tuple2<Integer, byte[]>> rows = new java.util.ArrayList<>();
    for (int i = 0; i < items; i++) {
      names[i] = String.format("item-%03d", i);
      vectors[i] = i % 10 == 9 ? vectors[i - 1].clone() : randomVector(random, dim, null, 0);  // ties
      values[i] = i % 4 == 0 ? null : i % 4 == 1 && i % 3 == 0 ? (i % 2 == 0 ? "" : " ") : "v" + random.nextInt(3);
      int first = random.nextInt(lists);
      int[] stored = {first, (first + 1 + random.nextInt(lists - 1)) % lists};
      int[] probes = {first, (first + 2) % lists, (first + 4) % lists};
      for (int replica = 0; replica < 2; replica++) {
        rows.add(new Tuple2<>(stored[replica], ListSegments.encode(shape, replica, names[i], vectors[i],
            replica == 0 ? probes : null, stored, new String[] {values[i]})));
      }
    }
    java.util.Collections.shuffle(rows, random);
    var sharedNames = jsc.broadcast(names);
    SampledRecall.Draw draw = new SampledRecall.Draw(40, 3, items);
    SampledRecall.Draw[] tasks = {draw.copy(), draw.copy()};
    for (int i = 0; i < items; i++) {
      tasks[i % 2].offer(names[i], org.apache.spark.sql.catalyst.expressions.UnsafeArrayData.fromPrimitiveArray(
          vectors[i]), new String[] {values[i]});
    }
    List<SampledRecall.Drawn> offered = new java.util.ArrayList<>(tasks[0].rows());
    offered.addAll(tasks[1].rows());
    List<SampledRecall.Drawn> drawn = draw.smallest(offered);
    assertThat(drawn).hasSize(40).isSortedAccordingTo(java.util.Comparator.comparing(SampledRecall.Drawn::id));
    int topN = 5;
    int dir = 0;
    try {
      for (int[] rule : new int[][] {{-1, -1}, {0, -1}, {-1, 0}, {0, -1}}) {
        SampledRecall.Fused.trimListsAbove = dir == 3 ? 10 : 0;  // the last run trims the rows' lists as it goes
        SampledRecall.Fused fused = new SampledRecall.Fused(drawn, dim, names, topN, "java", null, rule[0], rule[1]);
        ListSegments.Tapped tapped = ListSegments.write(jsc.parallelizePairs(rows, 3), 2, 16, shape,
            scratch.resolve("lists-" + dir++).toString(), jsc.hadoopConfiguration(), sharedNames, fused);
        ListSegments segments = tapped.segments();
        try {
          SampledRecall.Measured measured = fused.measured(segments, tapped.results(), shape.nprobe());
          SampledRecall.Sample sample = measured.sample();
          var shared = jsc.broadcast(segments);
          SampledRecall.Exact exact = SampledRecall.exact(jsc, shared, sample, null, null, topN, "java", null, true,
              rule[0], rule[1]);
          shared.destroy();
          int[] got = new int[topN];
          int[] want = new int[topN];
          float[] gotScores = new float[topN];
          float[] wantScores = new float[topN];
          for (int q = 0; q < sample.size(); q++) {
            String what = "rule " + java.util.Arrays.toString(rule) + ", query " + sample.ids()[q];
            assertThat(sample.ids()[q]).isEqualTo(drawn.get(q).id());
            assertThat(sample.items()[q]).isEqualTo(Integer.parseInt(sample.ids()[q].substring(5)));
            int count = measured.exact().top().sorted(q, got, gotScores);
            assertThat(count).as(what).isEqualTo(exact.top().sorted(q, want, wantScores)).isPositive();
            assertThat(java.util.Arrays.copyOf(got, count)).as(what).containsExactly(java.util.Arrays.copyOf(want,
                count));
            assertThat(java.util.Arrays.copyOf(gotScores, count)).as(what)
                .containsExactly(java.util.Arrays.copyOf(wantScores, count));
            for (int k = 0; k < count; k++) {
              assertThat(measured.exact().listsOf().get(got[k])).as(what).containsExactly(exact.listsOf().get(got[k]));
            }
            ListSegments.Ids ids = segments.readIds(sample.segments()[q]);
            assertThat(ids.ids()[sample.rows()[q]]).as(what).isEqualTo(sample.ids()[q]);
            assertThat(sample.values()[0][q]).as(what + ": values as stored (blank as missing)").isEqualTo(
                segments.readRows(sample.segments()[q], new int[] {sample.rows()[q]}).values()[0][0]);
            assertThat(ids.replicas()[sample.rows()[q]]).as(what).isZero();
            int[] stored = segments.read(sample.segments()[q]).probes();
            assertThat(java.util.Arrays.copyOfRange(sample.probes(), 3 * q, 3 * q + 3)).as(what)
                .containsExactly(java.util.Arrays.copyOfRange(stored, 3 * sample.rows()[q], 3 * sample.rows()[q] + 3));
          }
        } finally {
          segments.delete();
        }
      }
    } finally {
      SampledRecall.Fused.trimListsAbove = 0;
      sharedNames.destroy();
      ItemNumbers.forgetNumbers();
    }
  }

  /**
   * The recall draw keeps the rows of smallest key whichever task saw them and in whatever order; another seed
   * draws other rows.
   */
  @Test
  void theRecallDrawDoesNotDependOnPartitionsOrOrder() {
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 500; i++) {
      ids.add("id-" + i);
    }
    List<String> one = drawIds(ids, 1, 7);
    java.util.Collections.shuffle(ids, new java.util.Random(2));
    assertThat(drawIds(ids, 4, 7)).isEqualTo(one).hasSize(50).doesNotHaveDuplicates();
    assertThat(drawIds(ids, 4, 8)).isNotEqualTo(one).hasSize(50);
    assertThat(drawIds(ids.subList(0, 30), 3, 7)).hasSize(30);   // fewer rows than the sample: all of them
  }

  /**
   * Told how many rows it will see, each task keeps only keys below a bound: the driver gets about the sample's
   * size in all, not the sample's size from every task, and the same rows as without the bound.
   */
  @Test
  void aBoundedDrawSendsFewRowsAndTheSameSample() {
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      ids.add("item-" + i);
    }
    List<SampledRecall.Drawn> sent = new java.util.ArrayList<>();
    List<String> bounded = drawIds(ids, 8, 5, ids.size(), sent);
    assertThat(bounded).hasSize(50).isEqualTo(drawIds(ids, 8, 5, 1, new java.util.ArrayList<>()));
    assertThat(sent.size()).isBetween(50, 200);
  }

  private static List<String> drawIds(List<String> ids, int tasks, long seed) {
    return drawIds(ids, tasks, seed, 1, new java.util.ArrayList<>());
  }

  /** The ids a draw of 50 over {@code tasks} tasks picks, told of {@code rows} rows; {@code sent}: what the tasks kept. */
  private static List<String> drawIds(List<String> ids, int tasks, long seed, long rows,
      List<SampledRecall.Drawn> sent) {
    SampledRecall.Draw draw = new SampledRecall.Draw(50, seed, rows);
    List<SampledRecall.Draw> parts = new java.util.ArrayList<>();
    for (int t = 0; t < tasks; t++) {
      parts.add(draw.copy());
    }
    for (int i = 0; i < ids.size(); i++) {
      parts.get(i % tasks).offer(ids.get(i), org.apache.spark.sql.catalyst.expressions.UnsafeArrayData
          .fromPrimitiveArray(new float[] {1, i}), new String[0]);
    }
    parts.forEach(p -> sent.addAll(p.rows()));
    return draw.smallest(sent).stream().map(SampledRecall.Drawn::id).toList();
  }

  @Test
  void noExactNeighboursMeansNoRecall() {
    SampledRecall.Sample sample = new SampledRecall.Sample(new float[1], 1, new int[] {0}, new String[] {"q"},
        new String[0][], new int[1], new int[1], new int[0], 0);
    assertThat(SampledRecall.compare(sample, new TopNBuffer(1, 3), Map.of()).recall()).isNull();
  }

  /** The sampled queries' lists come from the merged lists by segment and row, other rows and segments ignored. */
  @Test
  void approximateListsAreTheSampledRowsOfTheirSegments() {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    TopNBuffer first = new TopNBuffer(3, 2);
    first.offer(0, 0.9f, 5);
    first.offer(0, 0.8f, 6);
    first.offer(2, 0.7f, 7);
    TopNBuffer second = new TopNBuffer(2, 2);
    second.offer(1, 0.6f, 8);
    TopNBuffer unsampled = new TopNBuffer(1, 2);
    unsampled.offer(0, 0.5f, 9);
    JavaPairRDD<Integer, TopNBuffer> merged = jsc.parallelizePairs(List.of(new Tuple2<>(0, first),
        new Tuple2<>(4, second), new Tuple2<>(7, unsampled)), 2);
    // q0: segment 0 row 2; q1: segment 4 row 1; q2: segment 0 row 0; q3: segment 0 row 1 (no list)
    SampledRecall.Sample sample = new SampledRecall.Sample(new float[4], 1, new int[] {0, 1, 2, 3},
        new String[] {"q0", "q1", "q2", "q3"}, new String[0][], new int[] {0, 4, 0, 0}, new int[] {2, 1, 0, 1},
        new int[0], 0);
    SampledRecall.Approximate approximate = SampledRecall.approximate(sample, merged);
    assertThat(approximate.lists()).isEqualTo(Map.of("q0", Set.of(7), "q1", Set.of(8), "q2", Set.of(5, 6),
        "q3", Set.of()));
    // a floor only where the list is full (q2: 0.9, 0.8); shorter lists leave every segment in reach
    float none = Float.NEGATIVE_INFINITY;
    assertThat(approximate.floors()).containsExactly(none, none, 0.8f, none);
  }

  /**
   * The bound that lets the exact pass skip a segment for a query never skips a row that reaches the floor: for
   * rows around a centroid (norms from 0.5 to 2, one zero row) and queries near and far, a floor equal to a
   * query's best dot product with the rows is always within reach; far queries with a floor a little above
   * the bound are out of reach, so the test would notice a bound that skips nothing.
   */
  @Test
  void aSegmentIsSkippedOnlyWhenNoRowCanReachTheFloor() {
    java.util.Random random = new java.util.Random(7);
    int dim = 16;
    int skipped = 0;
    for (int trial = 0; trial < 200; trial++) {
      float[] centroid = unit(randomVector(random, dim, null, 0));
      int rows = 1 + random.nextInt(40);
      float[] vectors = new float[rows * dim];
      double spread = 0.05 + random.nextDouble();
      for (int r = 0; r < rows; r++) {
        float[] v = randomVector(random, dim, centroid, spread);
        double scale = r == 0 && trial % 5 == 0 ? 0 : 0.5 + 1.5 * random.nextDouble();
        for (int k = 0; k < dim; k++) {
          vectors[r * dim + k] = (float) (v[k] * scale);
        }
      }
      SampledRecall.Reach reach = SampledRecall.Reach.of(new IvfTaskRunner.Gathered(vectors, new int[rows], rows),
          dim, centroid);
      for (int q = 0; q < 20; q++) {
        float[] query = randomVector(random, dim, q % 2 == 0 ? centroid : null, 0.3);
        double norm = Math.sqrt(SampledRecall.Reach.dot(query, 0, query, 0, dim));
        double cosine = SampledRecall.Reach.dot(query, 0, centroid, 0, dim) / norm;
        float best = Float.NEGATIVE_INFINITY;
        for (int r = 0; r < rows; r++) {
          best = Math.max(best, (float) SampledRecall.Reach.dot(query, 0, vectors, r * dim, dim));
        }
        assertThat(reach.mayReach(cosine, norm, best)).as("trial %d query %d", trial, q).isTrue();
        skipped += reach.mayReach(cosine, norm, best + 0.5f) ? 0 : 1;
      }
    }
    assertThat(skipped).isGreaterThan(100);
  }

  /** A query or a row that is not finite gives no bound: its segment is never skipped for it. */
  @Test
  void aBoundThatIsNotANumberSkipsNothing() {
    float[] centroid = {1, 0};
    SampledRecall.Reach reach = SampledRecall.Reach.of(new IvfTaskRunner.Gathered(new float[] {1, 0,
        Float.POSITIVE_INFINITY, 0}, new int[2], 2), 2, centroid);
    assertThat(reach.mayReach(Double.NaN, 1, 0.5f)).isTrue();
    assertThat(reach.mayReach(1, Double.POSITIVE_INFINITY, 0.5f)).isTrue();
    SampledRecall.Reach zeroCentroid = SampledRecall.Reach.of(new IvfTaskRunner.Gathered(new float[] {1, 0}, new int[1],
        1), 2, new float[] {0, 0});
    assertThat(zeroCentroid.mayReach(-1, 1, 1f)).isTrue();   // |q|·maxNorm = 1 reaches 1
    assertThat(zeroCentroid.mayReach(-1, 1, 1.01f)).isFalse();
  }

  /** A random vector: uniform when {@code around} is null, else {@code around} plus noise of size {@code spread}. */
  private static float[] randomVector(java.util.Random random, int dim, float[] around, double spread) {
    float[] v = new float[dim];
    for (int k = 0; k < dim; k++) {
      v[k] = around == null ? (float) random.nextGaussian()
          : (float) (around[k] + spread * random.nextGaussian() / Math.sqrt(dim));
    }
    return v;
  }

  private static float[] unit(float[] v) {
    double norm = Math.sqrt(SampledRecall.Reach.dot(v, 0, v, 0, v.length));
    for (int k = 0; k < v.length; k++) {
      v[k] = (float) (v[k] / norm);
    }
    return v;
  }
}
