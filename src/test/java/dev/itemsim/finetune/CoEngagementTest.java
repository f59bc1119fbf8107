package dev.itemsim.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import dev.itemsim.SparkTestSupport;
import dev.itemsim.catalog.CatalogReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CoEngagementTest {
  static final Path EVENTS = Path.of("sample-data/events/events.csv");
  static final Path PLANTED = Path.of("sample-data/events/planted_pairs.csv");
  static final long SEED = 11;

  @TempDir
  Path dir;

  static Set<String> buyIds() {
    Set<String> ids = new HashSet<>();
    for (Row r : CatalogReader.read(SparkTestSupport.spark(), "sample-data/abt-buy/products_b.csv", "csv")
        .select("id").collectAsList()) {
      ids.add(r.getString(0));
    }
    return ids;
  }

  @Test
  void theShippedSampleIsWhatTheGeneratorWrites() throws Exception {
    SyntheticEvents.Sample sample = SyntheticEvents.generate(new ArrayList<>(buyIds()), SEED);
    List<String> planted = new ArrayList<>(List.of("id_a,id_b"));
    sample.planted().forEach(p -> planted.add(p[0] + "," + p[1]));
    if (Boolean.getBoolean("itemsim.regenerateSamples")) {
      Files.write(EVENTS, sample.lines());
      Files.write(PLANTED, planted);
    }
    assertThat(Files.readAllLines(EVENTS)).containsExactlyElementsOf(sample.lines());
    assertThat(Files.readAllLines(PLANTED)).containsExactlyElementsOf(planted);
  }

  @Test
  void coEngagementPairsRecoverThePlantedPairs() throws Exception {
    Set<String> planted = new HashSet<>(Files.readAllLines(PLANTED).subList(1, SyntheticEvents.PLANTED + 1));
    Path rejected = dir.resolve("rejected");
    CoEngagement.Result result = CoEngagement.pairs(SparkTestSupport.spark(), EVENTS.toString(),
        new CoEngagement.Settings(30, 3, 5, 50), buyIds(), rejected.toString());
    List<String> found = result.scored().stream().map(s -> s.a() + "," + s.b()).toList();
    assertThat(found).containsAll(planted);
    // a few random pairs with a popular planted item also reach 3 sessions, but PMI ranks every planted pair
    // above them: the 30 best pairs are the planted ones
    assertThat(found.subList(0, planted.size())).containsExactlyInAnyOrderElementsOf(planted);
    assertThat(found.size()).isLessThan(planted.size() + 10);
    for (CoEngagement.Scored s : result.scored()) {
      assertThat(s.count()).isGreaterThanOrEqualTo(3);
      if (planted.contains(s.a() + "," + s.b())) {
        assertThat(s.pmi()).isGreaterThan(0);
      }
    }
    assertThat(result.pairs().positives()).hasSize(found.size());
    assertThat(result.pairs().byComponent()).isFalse();
    assertThat(result.badEvents()).isEqualTo(3);
    assertThat(result.unknownItemEvents()).isEqualTo(2);
    assertThat(result.events()).isEqualTo(Files.readAllLines(EVENTS).size() - 1);
    // planted pairs co-occur in 11 or more sessions, random ones in at most 3: a higher minimum keeps exactly them
    CoEngagement.Result strict = CoEngagement.pairs(SparkTestSupport.spark(), EVENTS.toString(),
        new CoEngagement.Settings(30, 5, 5, 50), buyIds(), dir.resolve("rejected-strict").toString());
    assertThat(strict.scored().stream().map(s -> s.a() + "," + s.b()).toList())
        .containsExactlyInAnyOrderElementsOf(planted);
    List<Row> rows = SparkTestSupport.spark().read().parquet(rejected.toString()).collectAsList();
    assertThat(rows).hasSize(5);
    assertThat(rows.stream().map(r -> r.getString(0)).toList()).containsOnly("bad_event", "unknown_item");
  }

  @Test
  void epochMillisecondTimesGiveTheSameSessionsAsSeconds() throws Exception {
    List<String> lines = Files.readAllLines(EVENTS);
    List<String> millis = new ArrayList<>(List.of(lines.get(0)));
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",", -1);
      if (f[2].matches("[0-9]+")) {
        f[2] = f[2] + "000";
      }
      millis.add(String.join(",", f));
    }
    Path file = dir.resolve("events-ms.csv");
    Files.write(file, millis);
    CoEngagement.Settings settings = new CoEngagement.Settings(30, 3, 5, 50);
    CoEngagement.Result seconds = CoEngagement.pairs(SparkTestSupport.spark(), EVENTS.toString(), settings,
        buyIds(), dir.resolve("r-s").toString());
    CoEngagement.Result ms = CoEngagement.pairs(SparkTestSupport.spark(), file.toString(), settings, buyIds(),
        dir.resolve("r-ms").toString());
    assertThat(ms.sessions()).isEqualTo(seconds.sessions());
    assertThat(ms.scored()).isEqualTo(seconds.scored());
    assertThat(ms.badEvents()).isEqualTo(seconds.badEvents());
  }

  @Test
  void aMinimumCountNoPairReachesIsAClearError() {
    assertThatThrownBy(() -> CoEngagement.pairs(SparkTestSupport.spark(), EVENTS.toString(),
        new CoEngagement.Settings(30, 1000, 5, 50), buyIds(), dir.resolve("r").toString()))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining(EVENTS.toString())
        .hasMessageContaining("finetune.minCount");
  }

  @Test
  void eventsWithoutTheColumnsAreAClearErrorNamingTheFile() throws Exception {
    Path bad = dir.resolve("events.csv");
    Files.writeString(bad, "user,item,when\nu1,1,2\n");
    assertThatThrownBy(() -> CoEngagement.pairs(SparkTestSupport.spark(), bad.toString(),
        new CoEngagement.Settings(30, 3, 5, 50), buyIds(), dir.resolve("r").toString()))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining(bad.toString())
        .hasMessageContaining("needs columns user_id, item_id and ts");
  }
}
