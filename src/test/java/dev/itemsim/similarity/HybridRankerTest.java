package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class HybridRankerTest {
  @Test
  void ranksTheUnionOfBothCandidateListsByTheBlendedScore() {
    Random random = new Random(4);
    VectorBlocks queries = VectorBlocks.of(BlockedTopNTest.randomUnitVectors(1, 8, random), 8, 4);
    VectorBlocks corpus = VectorBlocks.of(BlockedTopNTest.randomUnitVectors(20, 8, random), 8, 4);
    SparseVectors lexQ = SparseTopNTest.random(1, 10, random);
    SparseVectors lexC = SparseTopNTest.random(20, 10, random);
    int[] fromEmbeddings = {3, 5, 7};
    int[] fromLexical = {5, 11, 19};
    HybridRanker.Ranked ranked = HybridRanker.rank(0, fromEmbeddings, fromLexical, queries, corpus, lexQ, lexC,
        0.7, 10);
    assertThat(ranked.corpusIndexes()).containsExactlyInAnyOrder(3, 5, 7, 11, 19);
    for (int k = 0; k < ranked.corpusIndexes().length; k++) {
      int c = ranked.corpusIndexes()[k];
      double expected = 0.7 * HybridRanker.dot(queries, 0, corpus, c) + 0.3 * lexQ.dot(0, lexC, c);
      assertThat((double) ranked.scores()[k]).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-6));
      if (k > 0) {
        assertThat(ranked.scores()[k]).isLessThanOrEqualTo(ranked.scores()[k - 1]);
      }
    }
    assertThat(HybridRanker.rank(0, fromEmbeddings, fromLexical, queries, corpus, lexQ, lexC, 0.7, 2)
        .corpusIndexes()).hasSize(2).containsExactly(ranked.corpusIndexes()[0], ranked.corpusIndexes()[1]);
    assertThat(HybridRanker.union(new int[] {1, 2}, new int[] {2, 3})).containsExactlyInAnyOrder(1, 2, 3);
    assertThat(HybridRanker.union(new int[] {}, new int[] {4, 4})).containsExactly(4);
  }

  @Test
  void blendIsTheWeightedSumRoundedOnce() {
    Random random = new Random(4);
    for (int i = 0; i < 1000; i++) {
      double w = i % 10 == 0 ? 0 : i % 10 == 1 ? 1 : random.nextDouble();
      float e = random.nextFloat() * 2 - 1;
      float l = random.nextFloat();
      // the expression the hybrid scorer has always used
      float expected = (float) ((w == 0 ? 0 : w * e) + (w == 1 ? 0 : (1 - w) * l));
      assertThat(Float.floatToIntBits(Blend.linear(w).score(PairFeatures.of(e, l))))
          .isEqualTo(Float.floatToIntBits(expected));
    }
    assertThat(Blend.LEXICAL.readsEmbedding()).isFalse();
    assertThat(Blend.linear(1).readsLexical()).isFalse();
  }
}
