package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import dev.itemsim.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The match job's settings: the shipped specs, kinds, prefixes, event weights, and what each kind refuses. */
class MatchConfigTest {
  @TempDir
  Path dir;

  private MatchConfig load(String... lines) throws Exception {
    Path spec = Files.createTempFile(dir, "match", ".conf");
    Files.write(spec, List.of(lines));
    return MatchConfig.from(ConfigLoader.load(spec, "local", List.of()));
  }

  private static final String[] BASE = {"job = match", "input.path = in", "output.path = out",
      "match.left.path = left.csv"};

  private MatchConfig loadWith(String... extra) throws Exception {
    String[] all = java.util.Arrays.copyOf(BASE, BASE.length + extra.length);
    System.arraycopy(extra, 0, all, BASE.length, extra.length);
    return load(all);
  }

  @Test
  void theShippedSpecsPassTheirKeyCheck() {
    MatchConfig texts = MatchConfig.from(ConfigLoader.load(Path.of("jobs/match.conf"), "local", List.of()));
    assertThat(texts.kind()).isEqualTo(MatchConfig.Kind.TEXTS);
    assertThat(texts.left().format()).isEqualTo("csv");
    assertThat(texts.left().encodePrefix()).isEmpty();
    assertThat(texts.retriever().name()).isEqualTo("hybrid");
    MatchConfig users = MatchConfig.from(ConfigLoader.load(Path.of("jobs/match-users.conf"), "local", List.of()));
    assertThat(users.kind()).isEqualTo(MatchConfig.Kind.USERS);
    assertThat(users.users().eventWeights()).isEqualTo(Map.of("purchase", 3.0, "cart", 2.0, "view", 1.0));
    assertThat(users.users().exclude()).containsExactly("purchase");
    assertThat(users.users().maxAgeDays()).isEqualTo(365);
    MatchConfig ads = MatchConfig.from(ConfigLoader.load(Path.of("jobs/match-ads.conf"), "local", List.of()));
    assertThat(ads.kind()).isEqualTo(MatchConfig.Kind.CATALOG);
    assertThat(ads.leftCorpus().idColumn()).isEqualTo("ad_id");
    assertThat(ads.leftCorpus().titleColumn()).isEqualTo("headline");
  }

  @Test
  void prefixesGoToTheirSides() throws Exception {
    MatchConfig texts = loadWith("match.queryPrefix = \"query: \"", "match.passagePrefix = \"passage: \"");
    assertThat(texts.left().encodePrefix()).isEqualTo("query: ");
    assertThat(texts.catalog().encodePrefix()).isEqualTo("passage: ");
    MatchConfig catalog = loadWith("match.kind = catalog", "match.queryPrefix = \"query: \"",
        "match.passagePrefix = \"passage: \"");
    assertThat(catalog.left().encodePrefix()).as("a second catalogue is encoded as passages").isEqualTo("passage: ");
  }

  @Test
  void usersNeedTheEmbeddingScorerAndNoFilters() throws Exception {
    assertThatThrownBy(() -> loadWith("match.kind = users"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.scorer = embedding");
    assertThatThrownBy(() -> loadWith("match.kind = users", "similarity.scorer = embedding",
        "similarity.sameValueOf = category"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.sameValueOf");
    MatchConfig users = loadWith("match.kind = users", "similarity.scorer = embedding",
        "match.users.asOf = \"2026-03-01\"", "match.users.eventWeights = [\"Like = 2\", \"view = 0.5\"]",
        "match.users.exclude = []");
    assertThat(users.users().asOf()).isEqualTo(Instant.parse("2026-03-01T00:00:00Z"));
    assertThat(users.users().eventWeights()).isEqualTo(Map.of("like", 2.0, "view", 0.5));
  }

  @Test
  void badSettingsNameTheirKey() {
    assertThatThrownBy(() -> loadWith("match.kind = queries"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("match.kind = 'queries'");
    assertThatThrownBy(() -> loadWith("match.kind = users", "similarity.scorer = embedding",
        "match.users.eventWeights = [\"purchase: 3\"]"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("match.users.eventWeights")
        .hasMessageContaining("purchase: 3");
    assertThatThrownBy(() -> loadWith("match.kind = users", "similarity.scorer = embedding",
        "match.users.exclude = [refund]"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("refund");
    assertThatThrownBy(() -> loadWith("match.kind = users", "similarity.scorer = embedding",
        "match.users.asOf = yesterday"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("match.users.asOf");
    assertThatThrownBy(() -> loadWith("search.against = other"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("search.against")
        .hasMessageContaining("is not used by the match job");
    assertThatThrownBy(() -> loadWith("match.left.template = hello"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("match.left.template 'hello' names no field");
    assertThatThrownBy(() -> loadWith("similarity.collapseDuplicateTexts = true"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("collapseDuplicateTexts");
    assertThatThrownBy(() -> load("job = match", "input.path = in", "output.path = out"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("match.left.path is required");
  }

  @Test
  void otherJobsRefuseMatchKeys() throws Exception {
    Path spec = Files.createTempFile(dir, "job", ".conf");
    Files.write(spec, List.of("job = similar-items", "input.path = in", "output.path = out", "match.kind = users"));
    assertThatThrownBy(() -> SimilarItemsConfig.from(ConfigLoader.load(spec, "local", List.of())))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("belongs to the match job");
  }
}
