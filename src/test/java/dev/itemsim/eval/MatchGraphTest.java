package dev.itemsim.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.job.JobTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MatchGraphTest {
  @TempDir
  Path dir;

  private static List<String[]> read(Path csv) throws Exception {
    List<String[]> pairs = new ArrayList<>();
    for (String line : Files.readAllLines(csv).subList(1, Files.readAllLines(csv).size())) {
      pairs.add(line.split(",", -1));
    }
    return pairs;
  }

  /** Every id on one side of a split, and no id (so no partner) on both. */
  private static void assertNoLeak(List<String[]> train, List<String[]> test, List<String[]> all) {
    Set<String> trainIds = new HashSet<>();
    train.forEach(p -> {
      trainIds.add(p[0]);
      trainIds.add(p[1]);
    });
    Set<String> testIds = new HashSet<>();
    test.forEach(p -> {
      testIds.add(p[0]);
      testIds.add(p[1]);
    });
    assertThat(testIds).as("held-out items seen in training").doesNotContainAnyElementsOf(trainIds);
    // and no partner of a held-out item is a training item: every pair touching a test id is a test pair
    for (String[] p : all) {
      if (testIds.contains(p[0]) || testIds.contains(p[1])) {
        assertThat(trainIds).doesNotContain(p[0], p[1]);
      }
    }
    assertThat(train.size() + test.size()).isEqualTo(all.size());
  }

  @ParameterizedTest
  @ValueSource(strings = {"sample-data/abt-buy/matches.csv", "sample-data/amazon-google/matches.csv"})
  void splittingTheBenchmarksNeverLeaksAHeldOutItemOrItsPartner(String file) throws Exception {
    List<String[]> pairs = read(Path.of(file));
    MatchGraph.Split split = new MatchGraph(pairs).split(0.4, 42);
    assertNoLeak(split.train(), split.test(), pairs);
    double share = (double) split.test().size() / pairs.size();
    assertThat(share).isBetween(0.4, 0.45);
    MatchGraph.Split again = new MatchGraph(pairs).split(0.4, 42);
    assertThat(again.test()).containsExactlyElementsOf(split.test());
    MatchGraph.Split other = new MatchGraph(pairs).split(0.4, 43);
    assertThat(other.test()).isNotEqualTo(split.test());
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3, 5})
  void foldsKeepEveryComponentInOneFoldAndShareThePairsEvenly(int k) throws Exception {
    List<String[]> pairs = read(Path.of("sample-data/abt-buy/matches.csv"));
    List<List<String[]>> folds = new MatchGraph(pairs).folds(k, 42);
    assertThat(folds).hasSize(k);
    for (int f = 0; f < k; f++) {
      List<String[]> rest = new ArrayList<>();
      for (int g = 0; g < k; g++) {
        if (g != f) {
          rest.addAll(folds.get(g));
        }
      }
      assertNoLeak(rest, folds.get(f), pairs);
      // components are small (at most a few pairs), so greedy filling keeps folds within a few pairs of even
      assertThat(folds.get(f).size()).isBetween(pairs.size() / k - 5, pairs.size() / k + 5);
    }
    assertThat(new MatchGraph(pairs).folds(k, 42).get(0)).containsExactlyElementsOf(folds.get(0));
    assertThat(new MatchGraph(pairs).folds(k, 7).get(0)).isNotEqualTo(folds.get(0));
  }

  @Test
  void foldsNeedAtLeastTwo() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new MatchGraph(List.<String[]>of(new String[] {"a", "b"}))
        .folds(1, 42)).hasMessageContaining("at least 2 folds");
  }

  @Test
  void chainsOfPartnersStayTogether() {
    // a1-b1-a2-b2-a3 is one product group even though a1 and b2 are never paired directly
    List<String[]> pairs = List.of(new String[] {"a1", "b1"}, new String[] {"a2", "b1"}, new String[] {"a2", "b2"},
        new String[] {"a3", "b2"}, new String[] {"x", "y"}, new String[] {"p", "q"}, new String[] {"r", "s"},
        new String[] {"t", "u"});
    MatchGraph graph = new MatchGraph(pairs);
    assertThat(graph.component("b2")).isEqualTo(graph.component("a1"));
    assertThat(graph.componentMates().get("a3")).containsExactlyInAnyOrder("a1", "a2", "a3", "b1", "b2");
    for (long seed = 0; seed < 20; seed++) {
      MatchGraph.Split split = graph.split(0.3, seed);
      assertNoLeak(split.train(), split.test(), pairs);
      long chainInTest = split.test().stream().filter(p -> p[0].startsWith("a")).count();
      assertThat(chainInTest).isIn(0L, 4L);
    }
  }

  @Test
  void theCommandWritesBothFilesKeepingExtraColumnsAndNegatives() throws Exception {
    List<String> lines = new ArrayList<>(Files.readAllLines(Path.of("sample-data/abt-buy/matches.csv")));
    lines.set(0, "id_a,id_b,label");
    for (int i = 1; i < lines.size(); i++) {
      lines.set(i, lines.get(i) + ",1");
    }
    String[] first = lines.get(1).split(",");
    String[] second = lines.get(2).split(",");
    lines.add(first[0] + "," + second[1] + ",0");
    Path pairs = dir.resolve("labelled.csv");
    Files.write(pairs, lines);
    Path train = dir.resolve("out/train.csv");
    Path test = dir.resolve("out/test.csv");
    JobTestSupport.Result result = JobTestSupport.cli("split-pairs", "--pairs", pairs.toString(), "--train",
        train.toString(), "--test", test.toString(), "--seed", "7");
    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out()).contains("test pairs");
    assertThat(Files.readAllLines(train).get(0)).isEqualTo("id_a,id_b,label");
    List<String[]> trainRows = read(train);
    List<String[]> testRows = read(test);
    List<String[]> positives = new ArrayList<>();
    trainRows.stream().filter(r -> r[2].equals("1")).forEach(positives::add);
    testRows.stream().filter(r -> r[2].equals("1")).forEach(positives::add);
    assertNoLeak(trainRows.stream().filter(r -> r[2].equals("1")).toList(),
        testRows.stream().filter(r -> r[2].equals("1")).toList(), positives);
    assertThat(trainRows.size() + testRows.size()).isEqualTo(lines.size() - 1);
    // the negative row lands on the side of its ids
    String[] negative = java.util.stream.Stream.concat(trainRows.stream(), testRows.stream())
        .filter(r -> r[2].equals("0")).findFirst().orElseThrow();
    Set<String> testIds = new HashSet<>();
    testRows.forEach(r -> {
      if (r[2].equals("1")) {
        testIds.add(r[0]);
        testIds.add(r[1]);
      }
    });
    boolean touchesTest = testIds.contains(negative[0]) || testIds.contains(negative[1]);
    assertThat(testRows.contains(negative)).isEqualTo(touchesTest);

    Files.writeString(pairs, "left,right\n1,2\n");
    JobTestSupport.Result bad = JobTestSupport.cli("split-pairs", "--pairs", pairs.toString(), "--train",
        train.toString(), "--test", test.toString());
    assertThat(bad.exitCode()).isEqualTo(2);
    assertThat(bad.err()).contains(pairs.toString()).contains("needs columns id_a and id_b");

    Files.writeString(pairs, "id_a,id_b,label\n1,2,1\n3,4,maybe\n");  // was split as a match before
    JobTestSupport.Result label = JobTestSupport.cli("split-pairs", "--pairs", pairs.toString(), "--train",
        train.toString(), "--test", test.toString());
    assertThat(label.exitCode()).isEqualTo(2);
    assertThat(label.err()).contains("--pairs = " + pairs + ", row 2: label = 'maybe'");
  }
}
