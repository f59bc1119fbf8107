package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LexicalTokenizerTest {
  @Test
  void keepsModelNumbersWholeAndNormalisesTheirSpellings() {
    assertThat(LexicalTokenizer.words("Sony Cyber-shot DSC-W120 Camera"))
        .containsExactly("sony", "cyber", "shot", "dscw120", "dsc", "w120", "camera");
    assertThat(LexicalTokenizer.words("DSCW120")).containsExactly("dscw120");
    assertThat(LexicalTokenizer.words("dsc w120")).containsExactly("dsc", "w120");
    assertThat(LexicalTokenizer.words("PS-LX350H, 32GB!")).containsExactly("pslx350h", "ps", "lx350h", "32gb");
  }

  @Test
  void splitsPlainWordsAtInnerPunctuation() {
    assertThat(LexicalTokenizer.words("10/100 Switch - Black.")).containsExactly("10", "100", "switch", "black");
    assertThat(LexicalTokenizer.words("  ")).isEmpty();
  }

  @Test
  void charNgramsMarkWordBoundaries() {
    assertThat(LexicalTokenizer.charNgrams(List.of("sony", "tv"), 3))
        .containsExactly("#so", "son", "ony", "ny#", "#tv", "tv#");
    assertThat(LexicalTokenizer.charNgrams(List.of("a"), 3)).containsExactly("#a#");
  }
}
