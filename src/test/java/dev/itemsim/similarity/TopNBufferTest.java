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

  /** Java serialization (Spark's shuffle) keeps every list exactly and ships only kept entries. */
  @Test
  void serializedListsKeepTheirEntriesAndShipOnlyThose() throws Exception {
    java.util.Random random = new java.util.Random(3);
    TopNBuffer sparse = new TopNBuffer(1000, 10);
    TopNBuffer full = new TopNBuffer(1000, 10);
    for (int row = 0; row < 1000; row++) {
      int offers = row % 3 == 0 ? 0 : row % 3 == 1 ? 4 : 30;  // empty, partial and full rows
      for (int k = 0; k < offers; k++) {
        sparse.offer(row, random.nextInt(50) / 50f, random.nextInt(5000));
      }
      for (int k = 0; k < 30; k++) {
        full.offer(row, random.nextFloat(), random.nextInt(5000));
      }
    }
    for (TopNBuffer original : java.util.List.of(sparse, full)) {
      byte[] bytes = serialize(original);
      TopNBuffer copy = (TopNBuffer) new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes)).readObject();
      int[] a = new int[10];
      int[] b = new int[10];
      float[] sa = new float[10];
      float[] sb = new float[10];
      for (int row = 0; row < 1000; row++) {
        assertThat(copy.sorted(row, a, sa)).isEqualTo(original.sorted(row, b, sb));
        assertThat(a).containsExactly(b);
        assertThat(sa).containsExactly(sb);
        assertThat(copy.threshold(row)).isEqualTo(original.threshold(row));
      }
      copy.offer(0, 2f, 1);  // still a working heap
      assertThat(copy.sorted(0, a, sa)).isPositive();
      assertThat(a[0]).isEqualTo(1);
    }
    // 1000 rows × 10 entries × 8 bytes when full; a third of rows empty and a third with 4 entries ship less
    assertThat(serialize(sparse).length).isLessThan(serialize(full).length * 3 / 4);
  }

  private static byte[] serialize(Object o) throws java.io.IOException {
    var bytes = new java.io.ByteArrayOutputStream();
    try (var out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    return bytes.toByteArray();
  }
}
