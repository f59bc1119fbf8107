package dev.itemsim.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NeighborListsTest {
  private static final double TOLERANCE = 1e-5;

  private static NeighborLists one(int[] ids, float[] scores) {
    NeighborLists lists = new NeighborLists(1);
    lists.set(0, ids, scores);
    return lists;
  }

  @Test
  void sameIdsAndCloseScoresAreIdentical() {
    NeighborLists.Comparison c = NeighborLists.compare(one(new int[] {4, 2, 7}, new float[] {0.9f, 0.5f, 0.3f}),
        one(new int[] {4, 2, 7}, new float[] {0.900004f, 0.5f, 0.299996f}), TOLERANCE);
    assertThat(c.equal()).isTrue();
    assertThat(c.identical()).isEqualTo(1);
  }

  @Test
  void swappedNeighboursWithTiedScoresAreEqualUpToTies() {
    NeighborLists.Comparison c = NeighborLists.compare(one(new int[] {4, 2, 7}, new float[] {0.9f, 0.5f, 0.3f}),
        one(new int[] {2, 4, 7}, new float[] {0.9f, 0.9f, 0.3f}), TOLERANCE);
    assertThat(c.equal()).as("0.9 vs 0.5 at rank 2 is no tie").isFalse();

    c = NeighborLists.compare(one(new int[] {4, 2, 7}, new float[] {0.9f, 0.9f, 0.3f}),
        one(new int[] {2, 4, 7}, new float[] {0.9f, 0.9f, 0.3f}), TOLERANCE);
    assertThat(c.equal()).isTrue();
    assertThat(c.equalUpToTies()).isEqualTo(1);
  }

  @Test
  void aTieAtTheCutMayKeepEitherNeighbour() {
    NeighborLists.Comparison c = NeighborLists.compare(one(new int[] {4, 2}, new float[] {0.9f, 0.3f}),
        one(new int[] {4, 8}, new float[] {0.9f, 0.3f}), TOLERANCE);
    assertThat(c.equal()).isTrue();
    assertThat(c.equalUpToTies()).isEqualTo(1);
  }

  @Test
  void anotherNeighbourBeforeTheCutIsAMismatch() {
    NeighborLists.Comparison c = NeighborLists.compare(
        one(new int[] {4, 2, 7}, new float[] {0.9f, 0.5f, 0.3f}),
        one(new int[] {4, 8, 7}, new float[] {0.9f, 0.5f, 0.3f}), TOLERANCE);
    assertThat(c.equal()).isFalse();
    assertThat(c.mismatches()).singleElement().asString().contains("ranks 2..2");
  }

  @Test
  void theSameNeighbourWithAnotherScoreIsAMismatch() {
    NeighborLists.Comparison c = NeighborLists.compare(one(new int[] {4, 2}, new float[] {0.9f, 0.9f}),
        one(new int[] {2, 4}, new float[] {0.9f, 0.9f - 1e-4f}), TOLERANCE);
    assertThat(c.equal()).isFalse();
  }

  @Test
  void roundTripsThroughAFileExactly(@TempDir Path dir) {
    NeighborLists lists = new NeighborLists(2);
    lists.set(0, new int[] {1, 0}, new float[] {0.12345679f, -0.1f});
    lists.set(1, new int[] {0}, new float[] {Float.MIN_VALUE});
    lists.write(dir.resolve("lists.txt"));
    NeighborLists back = NeighborLists.read(dir.resolve("lists.txt"), 2);
    NeighborLists.Comparison c = NeighborLists.compare(lists, back, 0);
    assertThat(c.identical()).isEqualTo(2);
    assertThat(c.maxScoreDiff()).isZero();
  }
}
