package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TopNBufferTest {
  @Test
  void keepsTheBestAndBreaksTiesByLowerIndex() {
    TopNBuffer top = new TopNBuffer(1, 3);
    top.offer(0, 0.5f, 9);
    top.offer(0, 0.9f, 4);
    top.offer(0, 0.5f, 2);
    top.offer(0, 0.1f, 1);
    top.offer(0, 0.5f, 7);
    int[] ids = new int[3];
    float[] scores = new float[3];
    assertThat(top.sorted(0, ids, scores)).isEqualTo(3);
    assertThat(ids).containsExactly(4, 2, 7);
    assertThat(scores).containsExactly(0.9f, 0.5f, 0.5f);
  }

  @Test
  void mergeEqualsOfferingEverythingToOneBuffer() {
    TopNBuffer a = new TopNBuffer(2, 2);
    TopNBuffer b = new TopNBuffer(2, 2);
    TopNBuffer all = new TopNBuffer(2, 2);
    float[][] s = {{0.3f, 0.8f, 0.8f}, {0.2f, 0.1f, 0.9f}};
    for (int row = 0; row < 2; row++) {
      for (int k = 0; k < 3; k++) {
        (k % 2 == 0 ? a : b).offer(row, s[row][k], 10 - k);
        all.offer(row, s[row][k], 10 - k);
      }
    }
    a.mergeFrom(b);
    int[] x = new int[2];
    int[] y = new int[2];
    for (int row = 0; row < 2; row++) {
      a.sorted(row, x, new float[2]);
      all.sorted(row, y, new float[2]);
      assertThat(x).containsExactly(y);
    }
    a.sorted(0, x, new float[2]);
    assertThat(x).containsExactly(8, 9);
  }

  @Test
  void reportsFewerEntriesThanNWhenThereAreFewerCandidates() {
    TopNBuffer top = new TopNBuffer(1, 5);
    top.offer(0, -0.25f, 3);
    int[] ids = new int[5];
    float[] scores = new float[5];
    assertThat(top.sorted(0, ids, scores)).isEqualTo(1);
    assertThat(ids[0]).isEqualTo(3);
    assertThat(scores[0]).isEqualTo(-0.25f);
  }

  @Test
  void floorsRaiseThresholdsWhichNeverFallBelowThem() {
    TopNBuffer top = new TopNBuffer(2, 2);
    top.offer(0, 0.9f, 1);
    top.offer(0, 0.8f, 2);
    top.raiseFloors(new float[] {0.5f, 0.6f});
    assertThat(top.threshold(0)).as("list full above the floor").isEqualTo(0.8f);
    assertThat(top.threshold(1)).as("empty list").isEqualTo(0.6f);
    top.offer(1, 0.7f, 5);
    top.offer(1, 0.65f, 6);
    assertThat(top.threshold(1)).isEqualTo(0.65f);
    top.offer(0, 0.95f, 3);
    assertThat(top.threshold(0)).isEqualTo(0.9f);
    TopNBuffer partial = new TopNBuffer(1, 3);
    partial.raiseFloors(new float[] {0.4f});
    partial.offer(0, 0.45f, 1);
    assertThat(partial.threshold(0)).as("one entry of three: still the floor").isEqualTo(0.4f);
  }

  /** Packed entries compare exactly as (score, then lower index) does, over signs, zeros, ties and extremes. */
  @Test
  void packedEntriesOrderLikeScoreThenLowerIndex() {
    float[] scores = {Float.NEGATIVE_INFINITY, -Float.MAX_VALUE, -1f, -0.5f, -Float.MIN_VALUE, -0f, 0f,
        Float.MIN_VALUE, 0.25f, 0.2500001f, 1f, Float.MAX_VALUE};
    int[] indexes = {0, 1, 7, 1_000_000, Integer.MAX_VALUE - 1};
    for (float sa : scores) {
      for (int ia : indexes) {
        for (float sb : scores) {
          for (int ib : indexes) {
            boolean aWorse = sa < sb || (sa == sb && ia > ib);
            assertThat(TopNBuffer.pack(sa, ia) < TopNBuffer.pack(sb, ib)).as("(%s,%d) vs (%s,%d)", sa, ia, sb, ib)
                .isEqualTo(aWorse);
          }
        }
      }
    }
  }
}
