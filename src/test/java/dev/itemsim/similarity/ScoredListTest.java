package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ScoredListTest {
  private static ScoredList list(boolean truncated, Object... idScore) {
    String[] ids = new String[idScore.length / 2];
    float[] scores = new float[ids.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = (String) idScore[2 * i];
      scores[i] = ((Number) idScore[2 * i + 1]).floatValue();
    }
    return new ScoredList(ids, scores, truncated);
  }

  @Test
  void mergeOfCompleteListsIsTheirOrderedUnionTiesByLowerId() {
    ScoredList a = list(false, "b", 0.9, "d", 0.5);
    ScoredList b = list(false, "a", 0.9, "c", 0.7);
    ScoredList merged = ScoredList.merge(a, b, 10);
    assertThat(merged.ids()).containsExactly("a", "b", "c", "d");
    assertThat(merged.scores()).containsExactly(0.9f, 0.9f, 0.7f, 0.5f);
    assertThat(merged.truncated()).isFalse();
    assertThat(ScoredList.merge(a, b, 3).ids()).containsExactly("a", "b", "c");
    assertThat(ScoredList.merge(a, b, 3).truncated()).isTrue();
  }

  @Test
  void mergeStopsWhereATruncatedListRunsOut() {
    // candidates of a's set beyond "c" are unknown: they could rank above "x"
    ScoredList a = list(true, "a", 0.9, "c", 0.6);
    ScoredList b = list(false, "b", 0.8, "x", 0.1);
    ScoredList merged = ScoredList.merge(a, b, 10);
    assertThat(merged.ids()).containsExactly("a", "b", "c");
    assertThat(merged.truncated()).isTrue();
    // and a truncated list's unknown rest ranks below its last entry, so a complete list's better entries stay
    ScoredList c = list(false, "y", 0.95);
    assertThat(ScoredList.merge(a, c, 10).ids()).containsExactly("y", "a", "c");
  }

  @Test
  void mergeTakesAnIdOnceAndNegativeZeroEqualsZero() {
    ScoredList a = list(false, "a", 0.0f, "b", -0.5);
    ScoredList b = list(false, "a", -0.0f, "c", -0.5);
    ScoredList merged = ScoredList.merge(a, b, 10);
    assertThat(merged.ids()).containsExactly("a", "b", "c");
  }

  @Test
  void withoutKeepsOrderAndTruncation() {
    ScoredList a = list(true, "a", 0.9, "b", 0.8, "c", 0.7);
    ScoredList dropped = a.without("b"::equals);
    assertThat(dropped.ids()).containsExactly("a", "c");
    assertThat(dropped.truncated()).isTrue();
    assertThat(a.first(2).ids()).containsExactly("a", "b");
    assertThat(list(false, "a", 1).first(2).truncated()).isFalse();
  }

  @Test
  void idsCompareByCodePointLikeSpark() {
    // U+FFFF sorts before U+10000 in UTF-8 byte order but after its surrogates in String.compareTo
    String low = "\uffff";
    String high = new String(Character.toChars(0x10000));
    ScoredList merged = ScoredList.merge(list(false, high, 0.5), list(false, low, 0.5), 10);
    assertThat(merged.ids()).containsExactly(low, high);
  }
}
