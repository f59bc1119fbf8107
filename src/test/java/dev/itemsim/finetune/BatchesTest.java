package dev.itemsim.finetune;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BatchesTest {
  @Test
  void noBatchAsksToPushAnItemAwayFromAPartner() {
    // product groups of 1-3 A items and 1-3 B items, all pairs within a group, plus hard negatives that are
    // sometimes another group's positive
    Random random = new Random(3);
    List<TrainingPairs.Pair> positives = new ArrayList<>();
    for (int g = 0; g < 60; g++) {
      int as = 1 + random.nextInt(3);
      int bs = 1 + random.nextInt(3);
      for (int a = 0; a < as; a++) {
        for (int b = 0; b < bs; b++) {
          positives.add(new TrainingPairs.Pair("a" + g + "_" + a, "b" + g + "_" + b));
        }
      }
    }
    TrainingPairs pairs = TrainingPairs.labelled(positives, java.util.Map.of());
    List<Batches.Example> examples = new ArrayList<>();
    for (TrainingPairs.Pair p : positives) {
      int other = random.nextInt(60);
      examples.add(new Batches.Example(p.a(), p.b(), "b" + other + "_0"));
    }
    examples.removeIf(e -> pairs.relatedTo(e.anchor()).contains(e.negative()));
    Collections.shuffle(examples, random);
    List<List<Batches.Example>> batches = Batches.pack(examples, 8, pairs::relatedTo);
    assertThat(batches.stream().mapToInt(List::size).sum()).isEqualTo(examples.size());
    assertThat(batches.get(0)).hasSize(8);
    for (List<Batches.Example> batch : batches) {
      Set<String> items = new HashSet<>();
      for (Batches.Example e : batch) {
        assertThat(items.add(e.anchor())).isTrue();
        assertThat(items.add(e.positive())).isTrue();
        assertThat(items.add(e.negative())).isTrue();
      }
      for (Batches.Example e : batch) {
        for (Batches.Example other : batch) {
          if (other != e) {
            assertThat(pairs.relatedTo(e.anchor())).doesNotContain(other.positive(), other.negative());
          }
        }
      }
    }
  }
}
