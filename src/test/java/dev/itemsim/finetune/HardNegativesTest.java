package dev.itemsim.finetune;

import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.eval.RankedLists;
import dev.itemsim.eval.RankedLists.Neighbor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HardNegativesTest {
  private static RankedLists listOf(String query, String... ids) {
    List<Neighbor> neighbors = new java.util.ArrayList<>();
    float score = 1f;
    for (String id : ids) {
      neighbors.add(new Neighbor(id, score));
      score -= 0.1f;
    }
    return new RankedLists(Map.of(query, neighbors));
  }

  @Test
  void theMinedNegativeIsTheBestRankedItemThatIsNoTruePartner() {
    // a1 matches b1 and b2 (one component, through a2 as well); c1 matches d1 elsewhere
    TrainingPairs train = TrainingPairs.labelled(List.of(new TrainingPairs.Pair("a1", "b1"),
        new TrainingPairs.Pair("a2", "b1"), new TrainingPairs.Pair("a2", "b2"), new TrainingPairs.Pair("c1", "d1")),
        Map.of());
    TrainingPairs.Pair pair = new TrainingPairs.Pair("a1", "b1");
    // b2 ranks first but is a partner through a2; b1 is the positive itself; d1 is the first unrelated item
    assertThat(FineTuning.mined(pair, listOf("a1", "b2", "b1", "d1", "b9"), train)).isEqualTo("d1");
    assertThat(FineTuning.mined(pair, listOf("a1", "b1", "b2"), train)).isNull();
    assertThat(FineTuning.mined(pair, listOf("a1", "b9", "b2"), train)).isEqualTo("b9");
  }
}
