package dev.itemsim.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import dev.itemsim.InvalidInputException;
import dev.itemsim.job.SimilarItemsConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir
  Path dir;

  private Path job(String body) throws Exception {
    Path p = dir.resolve("job.conf");
    Files.writeString(p, body);
    return p;
  }

  @Test
  void layersDefaultsProfileJobAndOverrides() throws Exception {
    Config c = ConfigLoader.load(job("input.path = in\noutput.path = out\nsimilarity.topN = 5\n"), "local",
        List.of("similarity.topN=7", "run.date=2026-01-31", "spark.sql.shuffle.partitions=3"));
    SimilarItemsConfig config = SimilarItemsConfig.from(c);
    assertThat(config.topN()).isEqualTo(7);
    assertThat(((dev.itemsim.similarity.HybridRetriever) config.retriever()).options().embedding().blockSize())
        .isEqualTo(8192);
    assertThat(config.runDate()).isEqualTo(LocalDate.of(2026, 1, 31));
    assertThat(config.corpus().encoder().model().value()).isEqualTo("builtin:all-minilm-l6-v2");
    assertThat(config.spark()).containsEntry("spark.master", "local[*]")
        .containsEntry("spark.sql.shuffle.partitions", "3")
        .containsEntry("spark.plugins", "dev.itemsim.similarity.NativeBlasPlugin")
        .containsEntry("spark.itemsim.blas", "bundled");
    assertThat(config.corpus().template().fields()).containsExactly("title", "brand", "category");
  }

  @Test
  void unknownKeySuggestsTheNearestOne() throws Exception {
    Path spec = job("input.path = in\noutput.path = out\nsimilarity.topn = 5\n");
    assertThatThrownBy(() -> ConfigLoader.load(spec, null, List.of()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("Unknown configuration key 'similarity.topn'")
        .hasMessageContaining("job.conf: 3")
        .hasMessageContaining("did you mean 'similarity.topN'");
    assertThatThrownBy(() -> ConfigLoader.load(job("input.path = in"), null, List.of("encoder.batchsize=4")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("'encoder.batchSize'");
  }

  @Test
  void aBracketedSetValueIsAList() throws Exception {
    Path spec = job("input.path = in\noutput.path = out\n");
    Config c = ConfigLoader.load(spec, null, List.of("match.users.exclude=[purchase, return]",
        "match.users.eventWeights=[\"purchase = 3\", \"view = 0.5\"]"));
    assertThat(c.getStringList("match.users.exclude")).containsExactly("purchase", "return");
    assertThat(c.getStringList("match.users.eventWeights")).containsExactly("purchase = 3", "view = 0.5");
    assertThatThrownBy(() -> ConfigLoader.load(spec, null, List.of("match.users.exclude=[a, [b")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("--set match.users.exclude: '[a, [b' is not a HOCON list");
  }

  @Test
  void badValuesNameTheKey() throws Exception {
    Path spec = job("input.path = in\noutput.path = out\n");
    assertThatThrownBy(() -> SimilarItemsConfig.from(ConfigLoader.load(spec, null, List.of("similarity.topN=ten"))))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.topN must be an integer");
    assertThatThrownBy(() -> SimilarItemsConfig.from(ConfigLoader.load(spec, null, List.of("similarity.topN=0"))))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.topN = 0 is out of range");
    assertThatThrownBy(() -> SimilarItemsConfig.from(ConfigLoader.load(spec, null, List.of("input.format=orc"))))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("input.format = 'orc'");
    assertThatThrownBy(() -> SimilarItemsConfig.from(ConfigLoader.load(spec, null, List.of("run.date=31/01/2026"))))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("run.date = '31/01/2026'");
    assertThatThrownBy(() -> SimilarItemsConfig.from(ConfigLoader.load(job("output.path = out"), null, List.of())))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("input.path is required");
    assertThatThrownBy(() -> ConfigLoader.load(spec, null, List.of("novalue")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("key=value");
  }

  @Test
  void missingOrBrokenJobSpecIsClear() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.conf"), null, List.of()))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("nope.conf does not exist");
    Path broken = job("input { path = ");
    assertThatThrownBy(() -> ConfigLoader.load(broken, null, List.of()))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("not valid HOCON");
  }

  @Test
  void shippedJobSpecsLoad() {
    for (Path spec : List.of(Path.of("jobs/similar-items.conf"))) {
      SimilarItemsConfig config = SimilarItemsConfig.from(ConfigLoader.load(spec, "local", List.of()));
      assertThat(config.input().path()).isEqualTo("sample-data/catalog");
    }
  }

  @Test
  void suggestionsUseEditDistance() {
    assertThat(Suggestions.nearest("blocksize", List.of("similarity.blockSize", "blockSize", "topN")))
        .isEqualTo("blockSize");
    assertThat(Suggestions.editDistance("kitten", "sitting")).isEqualTo(3);
    List<String> keys = List.of("job", "eval.matches", "search.against", "finetune.epochs");
    assertThat(Suggestions.likelyTypo("search.againts", keys)).isEqualTo("search.against");
    assertThat(Suggestions.likelyTypo("finetune.epoch", keys)).isEqualTo("finetune.epochs");
    assertThat(Suggestions.likelyTypo("foo", keys)).isNull();
    assertThat(Suggestions.likelyTypo("totally.unrelated.key", keys)).isNull();
  }

  @Test
  void anUnknownKeyFarFromEveryKeyGetsNoSuggestion() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.load(job("input.path = in\nfoo = 1\n"), null, List.of()))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("Unknown configuration key 'foo'")
        .hasMessageContaining("conf/defaults.conf").hasMessageNotContaining("did you mean");
  }
}
