package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

class SampledRecallTest {

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
        new String[] {"q0", "q1", "q2"}, new String[0][], new int[3], new int[3]);
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

  @Test
  void noExactNeighboursMeansNoRecall() {
    SampledRecall.Sample sample = new SampledRecall.Sample(new float[1], 1, new int[] {0}, new String[] {"q"},
        new String[0][], new int[1], new int[1]);
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
        new String[] {"q0", "q1", "q2", "q3"}, new String[0][], new int[] {0, 4, 0, 0}, new int[] {2, 1, 0, 1});
    assertThat(SampledRecall.approximate(sample, merged)).isEqualTo(Map.of("q0", Set.of(7), "q1", Set.of(8),
        "q2", Set.of(5, 6), "q3", Set.of()));
  }
}
