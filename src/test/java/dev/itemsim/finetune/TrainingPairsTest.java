package dev.itemsim.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import dev.itemsim.SparkTestSupport;
import dev.itemsim.eval.MatchPairs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Labelled pair files as training pairs and as true pairs: a pair labelled both ways is refused. */
class TrainingPairsTest {
  @TempDir
  Path dir;

  @Test
  void aPairLabelledBothAMatchAndANonMatchIsRefusedNamingItsRows() throws Exception {
    Path file = dir.resolve("pairs.csv");
    Files.writeString(file, "id_a,id_b,label\na1,b1,1\na2,b2,1\na1,b2,0\na1,b1,0\n");
    assertThatThrownBy(() -> TrainingPairs.readLabelled(SparkTestSupport.spark(), file.toString(),
        Set.of("a1", "a2"), Set.of("b1", "b2"), "input.path", "search.against"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("finetune.pairs = " + file + ": 1 pair(s) labelled both ways")
        .hasMessageContaining("a1, b1 is labelled a match in row 1 and a non-match in row 4");
    assertThatThrownBy(() -> MatchPairs.read(SparkTestSupport.spark(), file.toString()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("a1, b1 is labelled a match in row 1 and a non-match in row 4");

    Files.writeString(file, "id_a,id_b,label\na1,b1,1\na2,b2,1\na1,b2,0\n");
    TrainingPairs pairs = TrainingPairs.readLabelled(SparkTestSupport.spark(), file.toString(), Set.of("a1", "a2"),
        Set.of("b1", "b2"), "input.path", "search.against");
    assertThat(pairs.positives()).hasSize(2);
    MatchPairs truth = MatchPairs.read(SparkTestSupport.spark(), file.toString());
    assertThat(truth.pairs()).hasSize(2);
    assertThat(truth.nonMatches()).isEqualTo(1);
  }
}
