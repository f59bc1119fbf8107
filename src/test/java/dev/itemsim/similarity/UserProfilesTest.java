package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.itemsim.SparkTestSupport;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Profiles are the decayed, event-weighted sums of item vectors, normalised; exclusions and reasons. */
class UserProfilesTest {
  private static final Instant AS_OF = Instant.parse("2026-03-01T00:00:00Z");

  private final SparkSession spark = SparkTestSupport.spark();

  /** Four items on the axes of a 4-d space, so a profile's coordinates are its items' weights. */
  private Dataset<Row> items() {
    StructType schema = new StructType().add("item_id", "string").add("text", "string")
        .add("embedding", DataTypes.createArrayType(DataTypes.FloatType));
    return spark.createDataFrame(List.of(
        RowFactory.create("a", "item a", new float[] {1, 0, 0, 0}),
        RowFactory.create("b", "item b", new float[] {0, 1, 0, 0}),
        RowFactory.create("c", "item c", new float[] {0, 0, 1, 0}),
        RowFactory.create("d", "item d", new float[] {0, 0, 0, 1})), schema);
  }

  private Dataset<Row> events(Object[]... rows) {
    StructType schema = new StructType().add("user_id", "string").add("item_id", "string").add("event", "string")
        .add("ts", DataTypes.TimestampType);
    return spark.createDataFrame(java.util.Arrays.stream(rows).map(r -> RowFactory.create(r[0], r[1], r[2],
        Timestamp.from(AS_OF.minusSeconds(Math.round((double) r[3] * 86_400))))).toList(), schema);
  }

  private Dataset<Row> users(String... ids) {
    return spark.createDataFrame(java.util.Arrays.stream(ids).map(RowFactory::create).toList(),
        new StructType().add("user_id", "string"));
  }

  private static UserProfiles.Settings settings(double halfLife, int maxEvents, int maxAge) {
    return new UserProfiles.Settings(Map.of("purchase", 3.0, "cart", 2.0, "view", 1.0, "return", 0.0), halfLife,
        maxEvents, maxAge, AS_OF, Set.of("purchase", "return"));
  }

  private static Map<String, float[]> profiles(UserProfiles.Built built) {
    Map<String, float[]> out = new HashMap<>();
    for (Row r : built.profiles().collectAsList()) {
      out.put(r.getString(0), CollectedItems.floats(r.getList(2)));
    }
    return out;
  }

  @Test
  void eventWeightsAndHalfLifeShapeTheProfile() {
    // u: a purchase today (3), a view 30 days ago (1 * 0.5), a cart 60 days ago (2 * 0.25)
    UserProfiles.Built built = UserProfiles.build(spark, events(
        new Object[] {"u", "a", "purchase", 0.0}, new Object[] {"u", "b", "view", 30.0},
        new Object[] {"u", "c", "cart", 60.0}), users("u"), items(), settings(30, 50, 0));
    float[] p = profiles(built).get("u");
    double norm = Math.sqrt(3 * 3 + 0.5 * 0.5 + 0.5 * 0.5);
    assertThat(p[0]).isCloseTo((float) (3 / norm), within(1e-5f));
    assertThat(p[1]).isCloseTo((float) (0.5 / norm), within(1e-5f));
    assertThat(p[2]).isCloseTo((float) (0.5 / norm), within(1e-5f));
    assertThat(p[3]).isZero();
    Row history = built.profiles().first();
    assertThat(history.<Row>getList(3)).extracting(h -> h.getString(0)).containsExactly("a", "b", "c");
    assertThat(built.asOf()).isEqualTo(AS_OF);
  }

  @Test
  void onlyTheMostRecentEventsWithinTheAgeLimitCount() {
    UserProfiles.Built built = UserProfiles.build(spark, events(
        new Object[] {"u", "a", "view", 1.0}, new Object[] {"u", "b", "view", 2.0},
        new Object[] {"u", "c", "view", 3.0}, new Object[] {"u", "d", "view", 400.0},
        new Object[] {"old", "a", "view", 400.0}), users("u", "old"), items(), settings(0, 2, 365));
    float[] p = profiles(built).get("u");
    float half = (float) Math.sqrt(0.5);
    assertThat(p).containsExactly(new float[] {half, half, 0, 0}, within(1e-6f));
    assertThat(profiles(built)).doesNotContainKey("old");
    assertThat(built.withoutProfile().collectAsList()).extracting(r -> r.getString(0) + ":" + r.getString(1))
        .containsExactly("old:no_recent_events");
  }

  @Test
  void exclusionsAndUsersWithoutAProfile() {
    UserProfiles.Built built = UserProfiles.build(spark, events(
        new Object[] {"u", "a", "purchase", 1.0}, new Object[] {"u", "b", "purchase", 500.0},
        new Object[] {"u", "c", "view", 1.0}, new Object[] {"returner", "d", "return", 1.0}),
        users("u", "returner", "nobody"), items(), settings(30, 50, 365));
    assertThat(built.excluded().collectAsList()).extracting(r -> r.getString(0) + ":" + r.getString(1))
        .containsExactlyInAnyOrder("u:a", "u:b", "returner:d");
    assertThat(built.maxExcluded()).isEqualTo(2);
    assertThat(built.withoutProfile().collectAsList()).extracting(r -> r.getString(0) + ":" + r.getString(1))
        .containsExactlyInAnyOrder("returner:no_weighted_events", "nobody:no_valid_events");
    float[] p = profiles(built).get("u");
    assertThat(p[1]).as("the purchase older than maxAgeDays shapes nothing").isZero();
    assertThat(p[0]).isGreaterThan(p[2]);
  }

  @Test
  void excludedItemsComeFromTheExcludableEvents() {
    Dataset<Row> events = events(new Object[] {"u", "a", "view", 1.0});
    Dataset<Row> excludable = spark.createDataFrame(List.of(RowFactory.create("u", "a", "view"),
        RowFactory.create("u", "b", "purchase")), new StructType().add("user_id", "string").add("item_id", "string")
        .add("event", "string"));
    UserProfiles.Built built = UserProfiles.build(spark, events, excludable, users("u"), items(),
        settings(30, 50, 0));
    assertThat(built.excluded().collectAsList()).extracting(r -> r.getString(0) + ":" + r.getString(1))
        .containsExactly("u:b");
    assertThat(profiles(built)).containsOnlyKeys("u");
  }

  /** Weights decayed past double's square root of its smallest value still give the profile its direction. */
  @Test
  void longDecayedWeightsKeepTheirProfile() {
    // 600 half-lives: weights near 1e-181 (view) and 2e-181 (cart), whose squares underflow to 0
    UserProfiles.Built built = UserProfiles.build(spark, events(new Object[] {"u", "a", "view", 600.0},
        new Object[] {"u", "b", "cart", 600.0}), users("u"), items(), settings(1, 50, 0));
    float[] p = profiles(built).get("u");
    double norm = Math.sqrt(1 + 4);
    assertThat(p).containsExactly(new float[] {(float) (1 / norm), (float) (2 / norm), 0, 0}, within(1e-6f));
    assertThat(built.withoutProfile().collectAsList()).isEmpty();
  }

  /** Item vectors that cancel leave a user without a direction: no profile, and the reason says why. */
  @Test
  void aProfileWithoutDirectionIsAUserWithoutAProfile() {
    StructType schema = new StructType().add("item_id", "string").add("text", "string")
        .add("embedding", DataTypes.createArrayType(DataTypes.FloatType));
    Dataset<Row> opposite = spark.createDataFrame(List.of(
        RowFactory.create("a", "item a", new float[] {1, 0, 0, 0}),
        RowFactory.create("b", "item b", new float[] {-1, 0, 0, 0}),
        RowFactory.create("c", "item c", new float[] {0, 0, 1, 0})), schema);
    UserProfiles.Built built = UserProfiles.build(spark, events(new Object[] {"cancel", "a", "view", 0.0},
        new Object[] {"cancel", "b", "view", 0.0}, new Object[] {"u", "c", "view", 0.0}), users("cancel", "u"),
        opposite, settings(30, 50, 0));
    assertThat(profiles(built)).containsOnlyKeys("u");
    assertThat(built.withoutProfile().collectAsList()).extracting(r -> r.getString(0) + ":" + r.getString(1))
        .containsExactly("cancel:zero_profile");
  }

  @Test
  void theReferenceTimeDefaultsToTheLatestEvent() {
    UserProfiles.Settings noAsOf = new UserProfiles.Settings(Map.of("view", 1.0), 30, 50, 0, null, Set.of());
    UserProfiles.Built built = UserProfiles.build(spark, events(new Object[] {"u", "a", "view", 10.0},
        new Object[] {"u", "b", "view", 40.0}), users("u"), items(), noAsOf);
    assertThat(built.asOf()).isEqualTo(AS_OF.minusSeconds(10 * 86_400));
    float[] p = profiles(built).get("u");
    assertThat(p[1] / p[0]).as("30 days older: half the weight").isCloseTo(0.5f, within(1e-5f));
  }
}
