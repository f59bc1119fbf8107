package dev.itemsim.embed;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model's own query and passage prefixes: none for the built-ins, sentence-transformers' prompts for a folder. */
class PromptsTest {
  @TempDir
  Path dir;

  @Test
  void builtInModelsHaveNone() {
    assertThat(Prompts.of(new ModelSpec("builtin:all-minilm-l6-v2"))).isEqualTo(Prompts.NONE);
  }

  @Test
  void aFolderNamesItsPromptsTheSentenceTransformersWay() throws Exception {
    Files.writeString(dir.resolve("config_sentence_transformers.json"),
        "{\"prompts\": {\"query\": \"query: \", \"passage\": \"passage: \"}, \"default_prompt_name\": null}");
    assertThat(Prompts.of(new ModelSpec(dir.toString()))).isEqualTo(new Prompts("query: ", "passage: "));
    Files.writeString(dir.resolve("config_sentence_transformers.json"),
        "{\"prompts\": {\"query\": \"Represent this question: \", \"document\": \"\"}}");
    assertThat(Prompts.of(new ModelSpec(dir.toString()))).isEqualTo(new Prompts("Represent this question: ", ""));
  }

  @Test
  void aFolderWithoutPromptsHasNoneAndAutoMeansTheModelsOwn() {
    assertThat(Prompts.of(new ModelSpec(dir.toString()))).isEqualTo(Prompts.NONE);
    assertThat(Prompts.resolve("auto", "query: ")).isEqualTo("query: ");
    assertThat(Prompts.resolve("", "query: ")).isEmpty();
    assertThat(Prompts.resolve("search_query: ", "query: ")).isEqualTo("search_query: ");
  }
}
