package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class CollectedItemsTest {
  @Test
  void idOrderIsUtf8ByteOrderLikeSparks() {
    // U+FF5E (a BMP char above the surrogates) sorts after U+1F600 in Java's UTF-16 order, before it in UTF-8
    List<String> ids = new ArrayList<>(List.of("b", "a\uFF5E", "a\uD83D\uDE00", "a", "ab", "A", "\u00e9"));
    ids.sort(CollectedItems::compareIds);
    List<String> byBytes = new ArrayList<>(ids);
    byBytes.sort((x, y) -> Arrays.compareUnsigned(x.getBytes(StandardCharsets.UTF_8), y.getBytes(StandardCharsets.UTF_8)));
    assertThat(ids).containsExactlyElementsOf(byBytes);
    assertThat(ids).containsExactly("A", "a", "ab", "a\uFF5E", "a\uD83D\uDE00", "b", "\u00e9");
  }
}
