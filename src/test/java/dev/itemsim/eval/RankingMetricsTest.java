package dev.itemsim.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RankingMetricsTest {
  private static final int[] KS = {1, 2, 3};

  @Test
  void handComputedCaseWithMultiplePartnersAndMisses() {
    Map<String, List<String>> ranked = Map.of(
        "q1", List.of("a", "b", "c"),      // partner a at rank 1
        "q2", List.of("x", "p", "y", "r"), // partners p (rank 2) and r (rank 4)
        "q3", List.of("m", "n"));          // partner z not listed
    Map<String, Set<String>> truth = Map.of("q1", Set.of("a"), "q2", Set.of("p", "r"), "q3", Set.of("z"),
        "q4", Set.of("w"));                 // q4 has no list at all (e.g. rejected)
    RankingMetrics.Result r = RankingMetrics.compute(ranked, truth, KS);

    assertThat(r.queries()).isEqualTo(4);
    assertThat(r.pairs()).isEqualTo(5);
    assertThat(r.get("recall@1")).isCloseTo(1 / 5.0, offset(1e-12));
    assertThat(r.get("recall@2")).isCloseTo(2 / 5.0, offset(1e-12));
    assertThat(r.get("recall@3")).isCloseTo(2 / 5.0, offset(1e-12));
    assertThat(r.get("mrr")).isCloseTo((1 + 0.5 + 0 + 0) / 4, offset(1e-12));
    double q2 = (1 / log2(3) + 1 / log2(5)) / (1 + 1 / log2(3));
    assertThat(r.get("ndcg@10")).isCloseTo((1 + q2 + 0 + 0) / 4, offset(1e-12));
  }

  @Test
  void queriesWithoutPartnersAreIgnored() {
    RankingMetrics.Result r = RankingMetrics.compute(Map.of("q", List.of("a")),
        Map.of("q", Set.of(), "p", Set.of("a")), KS);
    assertThat(r.queries()).isEqualTo(1);
    assertThat(r.get("recall@3")).isZero();
  }

  @Test
  void tiesAreWhateverOrderTheListHas() {
    RankingMetrics.Result r = RankingMetrics.compute(Map.of("q", List.of("b", "a")), Map.of("q", Set.of("a")), KS);
    assertThat(r.get("recall@1")).isZero();
    assertThat(r.get("recall@2")).isEqualTo(1.0);
    assertThat(r.get("mrr")).isEqualTo(0.5);
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
