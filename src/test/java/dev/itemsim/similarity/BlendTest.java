package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlendTest {
  @TempDir
  Path dir;

  private static final LexicalFeatures.Settings LEXICAL = new LexicalFeatures.Settings(0.2, 0.35, 3);
  private static final List<String> TEXTS = List.of("Sony Bravia KDL-40V4100 40\" LCD TV", "Sony KDL40V4100 Bravia",
      "Canon PowerShot SD1100 IS", "Canon SD1100IS digital camera", "Belkin USB cable 6 ft");

  @Test
  void theLexicalPartsAddUpToTheLexicalCosineAndRecoverEachPartsCosine() {
    List<SparseVectors> lexical = LexicalFeatures.build(SparkTestSupport.spark(), List.of(TEXTS), LEXICAL);
    SparseVectors v = lexical.get(0);
    List<SparseVectors> wordsOnly = LexicalFeatures.build(SparkTestSupport.spark(), List.of(TEXTS),
        new LexicalFeatures.Settings(1, 0, 3));
    for (int i = 0; i < TEXTS.size(); i++) {
      for (int j = 0; j < TEXTS.size(); j++) {
        double[] parts = LexicalFeatures.partDots(v, i, v, j);
        assertThat(parts[0] + parts[1] + parts[2]).isCloseTo(v.dot(i, v, j), Offset.offset(1e-6));
        PairFeatures f = new PairFeatures(0, v.dot(i, v, j), (float) parts[0], (float) parts[1], (float) parts[2],
            0, 0);
        double words = LogisticBlend.vector(f, LEXICAL)[1];
        assertThat(words).as("%d %d", i, j).isCloseTo(wordsOnly.get(0).dot(i, wordsOnly.get(0), j),
            Offset.offset(1e-5));
      }
    }
    // the two Sony titles share the model number KDL40V4100 (spelled with and without its dash)
    PairFeatures sony = new PairFeatures(0, 0, 0, 0, (float) LexicalFeatures.partDots(v, 0, v, 1)[2], 0, 0);
    assertThat(LogisticBlend.vector(sony, LEXICAL)[4]).isEqualTo(1.0);
    PairFeatures none = new PairFeatures(0, 0, 0, 0, (float) LexicalFeatures.partDots(v, 0, v, 4)[2], 0, 0);
    assertThat(LogisticBlend.vector(none, LEXICAL)[4]).isEqualTo(0.0);
  }

  @Test
  void theLinearBlendScoresExactlyAsTheHandTunedWeightAndALearnedOneFollowsItsCoefficients() {
    Random random = new Random(5);
    VectorBlocks queries = VectorBlocks.of(BlockedTopNTest.randomUnitVectors(1, 8, random), 8, 4);
    VectorBlocks corpus = VectorBlocks.of(BlockedTopNTest.randomUnitVectors(20, 8, random), 8, 4);
    SparseVectors lexQ = SparseTopNTest.random(1, 10, random);
    SparseVectors lexC = SparseTopNTest.random(20, 10, random);
    int[] fromEmbeddings = {3, 5, 7};
    int[] fromLexical = {5, 11, 19};
    HybridRanker.Ranked byWeight = HybridRanker.rank(0, fromEmbeddings, fromLexical, queries, corpus, lexQ, lexC, 0.4,
        10);
    HybridRanker.Ranked byBlend = HybridRanker.rank(0, fromEmbeddings, fromLexical, queries, corpus, lexQ, lexC,
        Blend.linear(0.4), 10);
    assertThat(byBlend.corpusIndexes()).containsExactly(byWeight.corpusIndexes());
    assertThat(byBlend.scores()).containsExactly(byWeight.scores());

    // a learned blend that only trusts the embedding ranks by embedding cosine, with scores in (0, 1)
    LogisticBlend embeddingOnly = new LogisticBlend(-1, new double[] {5, 0, 0, 0, 0, 0, 0}, 3, LEXICAL, "t");
    HybridRanker.Ranked learned = HybridRanker.rank(0, fromEmbeddings, fromLexical, queries, corpus, lexQ, lexC,
        embeddingOnly, 10);
    HybridRanker.Ranked cosine = HybridRanker.rank(0, fromEmbeddings, fromLexical, queries, corpus, lexQ, lexC, 1.0,
        10);
    assertThat(learned.corpusIndexes()).containsExactly(cosine.corpusIndexes());
    for (float s : learned.scores()) {
      assertThat(s).isBetween(0f, 1f);
    }
    // one that only trusts the lexical rank puts the lexical list's first candidate first
    LogisticBlend lexicalRank = new LogisticBlend(0, new double[] {0, 0, 0, 0, 0, 0, 10}, 3, LEXICAL, "t");
    assertThat(HybridRanker.rank(0, fromEmbeddings, fromLexical, queries, corpus, lexQ, lexC, lexicalRank, 10)
        .corpusIndexes()[0]).isEqualTo(5);
  }

  @Test
  void aLearnedBlendFileRoundTripsAndBadFilesNameTheKeyAndTheFile() throws Exception {
    LogisticBlend blend = new LogisticBlend(-2.5, new double[] {3, 1, 2, 0.5, 1.5, 0.2, 0.1}, 3, LEXICAL, "x");
    Path file = dir.resolve("hybrid-blend.json");
    blend.write(file, Map.of("queries", 10));
    LogisticBlend read = LogisticBlend.read(file.toString(), LEXICAL);
    assertThat(read).isEqualTo(blend);
    assertThat(read.settings()).containsEntry("hybrid.learned", file.toString());

    assertThatThrownBy(() -> LogisticBlend.read(dir.resolve("missing.json").toString(), LEXICAL))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.hybrid.learned")
        .hasMessageContaining("missing.json");
    assertThatThrownBy(() -> LogisticBlend.read(file.toString(), new LexicalFeatures.Settings(0.2, 0.35, 4)))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("fitted with character 3-grams");
    assertThatThrownBy(() -> LogisticBlend.read(file.toString(), new LexicalFeatures.Settings(0.2, 0, 3)))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("needs every lexical part");
    Files.writeString(file, Files.readString(file).replace("\"models\"", "\"brands\""));
    assertThatThrownBy(() -> LogisticBlend.read(file.toString(), LEXICAL))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("its features are not");
  }
}
