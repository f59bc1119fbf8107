package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SparseTopNTest {
  /** Random sparse rows over a small vocabulary, values multiples of 1/16 so sums are exact. */
  static SparseVectors random(int rows, int vocabulary, Random random) {
    int[] offsets = new int[rows + 1];
    List<Integer> idx = new ArrayList<>();
    List<Float> val = new ArrayList<>();
    for (int r = 0; r < rows; r++) {
      TreeMap<Integer, Float> row = new TreeMap<>();
      int nnz = random.nextInt(6);
      for (int k = 0; k < nnz; k++) {
        row.put(random.nextInt(vocabulary), (1 + random.nextInt(8)) / 16f);
      }
      row.forEach((i, v) -> {
        idx.add(i);
        val.add(v);
      });
      offsets[r + 1] = idx.size();
    }
    int[] i = idx.stream().mapToInt(Integer::intValue).toArray();
    float[] v = new float[val.size()];
    for (int k = 0; k < v.length; k++) {
      v[k] = val.get(k);
    }
    return new SparseVectors(offsets, i, v);
  }

  @Test
  void equalsBruteForceIncludingTiesAndSelfExclusion() {
    Random random = new Random(9);
    SparseVectors corpus = random(400, 30, random);
    SparseVectors queries = random(120, 30, random);
    for (boolean self : new boolean[] {false, true}) {
      SparseVectors q = self ? corpus : queries;
      List<int[]> lists = new SparseTopN(corpus).searchAll(q, 7, self);
      for (int i = 0; i < q.rows(); i++) {
        final int query = i;
        List<Integer> expected = new ArrayList<>();
        for (int c = 0; c < corpus.rows(); c++) {
          if ((!self || c != query) && q.dot(query, corpus, c) > 0) {
            expected.add(c);
          }
        }
        expected.sort(Comparator.<Integer>comparingDouble(c -> -q.dot(query, corpus, c)).thenComparing(c -> c));
        assertThat(lists.get(i)).as("query %d self %s", i, self)
            .containsExactly(expected.subList(0, Math.min(7, expected.size())).stream().mapToInt(x -> x).toArray());
      }
    }
  }
}
