package dev.itemsim.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class TextTemplateTest {
  private final TextTemplate template = TextTemplate.parse("{title} | {brand} | {category}", 20);

  @Test
  void joinsFieldsWithTheirSeparators() {
    assertThat(template.fields()).containsExactly("title", "brand", "category");
    assertThat(render("Sony TV", "Sony", "TVs")).isEqualTo("Sony TV | Sony | TVs");
  }

  @Test
  void dropsMissingFieldsWithTheirSeparator() {
    assertThat(render("Sony TV", null, "TVs")).isEqualTo("Sony TV | TVs");
    assertThat(render("Sony TV", "  ", null)).isEqualTo("Sony TV");
    assertThat(render(null, "Sony", "TVs")).isEqualTo("Sony | TVs");
    assertThat(render(null, null, null)).isEmpty();
    assertThat(render(" \t\n", "\u00A0", "")).isEmpty();
  }

  @Test
  void normalisesWhitespace() {
    assertThat(render("  Sony\n\tTV\u00A0 40\"  ", "So  ny", null)).isEqualTo("Sony TV 40\" | So ny");
  }

  @Test
  void truncatesLongFieldsAtAWordBoundaryWhenOneIsNear() {
    assertThat(render("Sony Bravia KDL40 LCD television black", null, null)).isEqualTo("Sony Bravia KDL40");
    assertThat(render("abcdefghijklmnopqrstuvwxyz", null, null)).isEqualTo("abcdefghijklmnopqrst");
  }

  @Test
  void keepsPrefixAndSuffixOnlyAroundSomething() {
    TextTemplate t = TextTemplate.parse("Product: {title} ({brand})", 100);
    assertThat(t.render(Arrays.asList("TV", "Sony"))).isEqualTo("Product: TV (Sony)");
    assertThat(t.render(Arrays.asList(null, "Sony"))).isEqualTo("Product: Sony)");
    assertThat(t.render(Arrays.asList(null, null))).isEmpty();
  }

  @Test
  void rejectsTemplatesWithoutFieldsOrWithBrokenBraces() {
    assertThatThrownBy(() -> TextTemplate.parse("just text", 10)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("names no field");
    assertThatThrownBy(() -> TextTemplate.parse("{title} {", 10)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("unbalanced");
    assertThatThrownBy(() -> TextTemplate.parse("{} x", 10)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("empty field");
  }

  private String render(String... values) {
    return template.render(Arrays.asList(values));
  }
}
