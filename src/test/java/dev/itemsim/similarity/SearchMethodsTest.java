package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import dev.itemsim.InvalidInputException;
import dev.itemsim.config.TypedConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SearchMethodsTest {
  private static TypedConfig config(String... settings) {
    return new TypedConfig(ConfigFactory.parseString(String.join("\n", settings))
        .withFallback(ConfigFactory.parseFile(Path.of("conf/defaults.conf").toFile())).resolve());
  }

  @Test
  void autoIsExactBelowItsSizeAndIvfFromThere() {
    SearchMethod auto = SearchMethods.from(config());
    long size = SearchMethods.AUTO_EXACT_BELOW;
    assertThat(auto.name()).isEqualTo("auto");
    assertThat(auto.dependsOnCorpusSize()).isTrue();
    assertThat(auto.forSearch(() -> size - 1, size - 1, true)).isInstanceOf(SearchMethod.Exact.class);
    assertThat(auto.forSearch(() -> size, size, true)).isInstanceOf(IvfSearch.class);
    assertThat(SearchMethods.from(config("similarity.method = exact")).forSearch(() -> Long.MAX_VALUE,
        Long.MAX_VALUE, true)).isInstanceOf(SearchMethod.Exact.class);
    assertThat(SearchMethods.from(config("similarity.method = ivf")).forSearch(() -> 10, 10, true))
        .isInstanceOf(IvfSearch.class);
  }

  /**
   * Against another catalogue, exact search gathers both sides on the driver: auto runs it only while both sides
   * are below the size and the pairs below one catalogue's of that size (size² / 2, unordered), so many queries
   * against a small corpus run IVF, and a large corpus runs IVF whatever the number of queries.
   */
  @Test
  void againstAnotherCatalogueAutoIsExactOnlyForFewPairsOfSmallSides() {
    SearchMethod auto = SearchMethods.from(config());
    long size = SearchMethods.AUTO_EXACT_BELOW;
    long pairs = size * size / 2;
    long corpus = size - 1;
    assertThat(auto.forSearch(() -> pairs / corpus - 1, corpus, false)).isInstanceOf(SearchMethod.Exact.class);
    assertThat(auto.forSearch(() -> pairs / corpus + 1, corpus, false)).isInstanceOf(IvfSearch.class);
    assertThat(auto.forSearch(() -> 1_000, size - 1, false)).isInstanceOf(SearchMethod.Exact.class);
    assertThat(auto.forSearch(() -> 1_000, size, false)).isInstanceOf(IvfSearch.class);
    // a corpus of the size decides alone: the queries are not counted
    assertThat(auto.forSearch(() -> {
      throw new AssertionError("the queries were counted");
    }, size, false)).isInstanceOf(IvfSearch.class);
    assertThat(auto.forSearch(() -> size, 1_000, false)).isInstanceOf(IvfSearch.class);
    assertThat(auto.forSearch(() -> 1_000_000, 50_000, false)).isInstanceOf(IvfSearch.class);
    // the same 50,000 items in one catalogue run exact, and so do 20,000 queries against them
    assertThat(auto.forSearch(() -> 50_000, 50_000, true)).isInstanceOf(SearchMethod.Exact.class);
    assertThat(auto.forSearch(() -> 20_000, 50_000, false)).isInstanceOf(SearchMethod.Exact.class);
  }

  @Test
  void ivfOptionsAreReadAndReported() {
    IvfSearch ivf = (IvfSearch) SearchMethods.from(config("similarity.method = ivf", "similarity.ivf.lists = 100",
        "similarity.ivf.nprobe = 7", "similarity.ivf.assignments = 2", "similarity.ivf.onLowRecall = warn"));
    assertThat(ivf.options()).isEqualTo(IvfSearch.Options.defaults().withLists(100).withNprobe(7).withAssignments(2)
        .withRecall(1000, 0.9, "warn"));
    assertThat(ivf.settings()).containsEntry("method", "ivf").containsEntry("ivf.nprobe", 7);
    assertThat(new EmbeddingRetriever(EmbeddingRetriever.Options.defaults(), ivf).settings())
        .containsEntry("ivf.lists", 100).containsEntry("kernel", "auto");
  }

  /** nprobe is chosen by measurement unless set: auto, its aim and its largest choice are read and reported. */
  @Test
  void nprobeIsAutoByDefaultWithItsAimAndLimit() {
    IvfSearch byDefault = (IvfSearch) SearchMethods.from(config("similarity.method = ivf"));
    assertThat(byDefault.options().autoNprobe()).isTrue();
    assertThat(byDefault.options()).isEqualTo(IvfSearch.Options.defaults());
    assertThat(byDefault.settings()).containsEntry("ivf.nprobe", "auto").containsEntry("ivf.targetRecall", 0.95)
        .containsEntry("ivf.maxNprobe", 32);
    IvfSearch set = (IvfSearch) SearchMethods.from(config("similarity.method = ivf", "similarity.ivf.nprobe = \"auto\"",
        "similarity.ivf.targetRecall = 0.99", "similarity.ivf.maxNprobe = 64", "similarity.ivf.minRecall = 0.95"));
    assertThat(set.options()).isEqualTo(IvfSearch.Options.defaults().withRecall(1000, 0.95, "fail")
        .withAutoNprobe(0.99, 64));
    assertThat(set.options().aimedRecall()).isEqualTo(0.99);
    assertThat(set.options().storedProbes(40)).isEqualTo(40);
    assertThat(set.options().storedProbes(1000)).isEqualTo(64);
    assertThat(set.options().withNprobe(7).storedProbes(1000)).isEqualTo(7);
    assertThat(set.options().withAutoNprobe(0.8, 64).aimedRecall()).as("never below minRecall").isEqualTo(0.95);
    assertThat(((IvfSearch) SearchMethods.from(config("similarity.method = ivf", "similarity.ivf.nprobe = 5")))
        .settings()).containsEntry("ivf.nprobe", 5).doesNotContainKey("ivf.targetRecall");
  }

  @Test
  void listsAndSampleDefaultToTheCorpusSize() {
    IvfSearch.Options auto = IvfSearch.Options.defaults();
    assertThat(auto.listsFor(1_000_000)).isEqualTo(1000);
    assertThat(auto.listsFor(3)).isEqualTo(2);
    assertThat(auto.sampleFor(1_000_000, 1000)).isEqualTo(64_000);
    assertThat(auto.sampleFor(5_000, 71)).isEqualTo(5_000);
    assertThat(auto.sampleFor(100_000_000, 10_000)).as("the driver's sample does not grow with n").isEqualTo(64_000);
    assertThat(auto.withLists(100_000).sampleFor(100_000_000, 100_000)).as("one per list").isEqualTo(100_000);
    assertThat(auto.withLists(50).listsFor(20)).isEqualTo(20);
  }

  @Test
  void badValuesNameTheirKey() {
    assertThatThrownBy(() -> SearchMethods.from(config("similarity.method = hnsw")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.method = 'hnsw'")
        .hasMessageContaining("exact, ivf, auto");
    assertThatThrownBy(() -> SearchMethods.from(config("similarity.method = ivf", "similarity.ivf.nprobe = 0")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.ivf.nprobe");
    assertThatThrownBy(() -> SearchMethods.from(config("similarity.method = ivf",
        "similarity.ivf.onLowRecall = ignore"))).isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.ivf.onLowRecall");
    assertThatThrownBy(() -> SearchMethods.from(config("similarity.method = ivf", "similarity.ivf.lists = 500",
        "similarity.ivf.sampleSize = 100"))).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("similarity.ivf.sampleSize");
    assertThatThrownBy(() -> SearchMethods.from(config("similarity.method = ivf",
        "similarity.ivf.sampleSize = 2000000"))).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("similarity.ivf.sampleSize");
    assertThatThrownBy(() -> SearchMethods.from(config("similarity.method = ivf", "similarity.ivf.minRecall = 1.5")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.ivf.minRecall");
    assertThatThrownBy(() -> SearchMethods.from(config("similarity.method = ivf", "similarity.ivf.nprobe = automatic")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("similarity.ivf.nprobe must be auto or an integer 1..1000000: got 'automatic'");
    assertThatThrownBy(() -> SearchMethods.from(config("similarity.method = ivf", "similarity.ivf.nprobe = 2.5")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("auto or an integer");
    assertThat(((IvfSearch) SearchMethods.from(config("similarity.method = ivf", "similarity.ivf.nprobe = Auto")))
        .options().autoNprobe()).isTrue();
    assertThatThrownBy(() -> IvfSearch.Options.defaults().withNprobe(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SearchMethods.from(config("similarity.method = ivf", "similarity.ivf.recallSample = 0")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.ivf.recallSample")
        .hasMessageContaining("nprobe = auto");
    assertThat(((IvfSearch) SearchMethods.from(config("similarity.method = ivf", "similarity.ivf.recallSample = 0",
        "similarity.ivf.nprobe = 8"))).options().recallSample()).isZero();
    assertThatThrownBy(() -> SearchMethods.from(config("similarity.method = ivf", "similarity.ivf.maxNprobe = 0")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.ivf.maxNprobe");
    assertThatThrownBy(() -> SearchMethods.from(config("similarity.method = ivf",
        "similarity.ivf.targetRecall = 2"))).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("similarity.ivf.targetRecall");
  }
}
