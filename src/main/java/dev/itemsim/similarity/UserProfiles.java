package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.pow;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.unix_micros;
import static org.apache.spark.sql.functions.when;

import dev.itemsim.InvalidInputException;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A profile vector per user from the embeddings of the items they interacted with: each of a user's
 * {@code maxEvents} most recent events (within {@code maxAgeDays} of the reference time) weighs
 * {@code eventWeight(event) · 0.5^(age / halfLifeDays)}; an item's weight is the sum over its events, and the
 * profile is {@code Σ weight · embedding}, L2-normalised. Its cosine with an item is then
 * {@code Σ weight_i · cos(item_i, item) / ‖Σ weight_j · embedding_j‖}: every history item's share of a score
 * can be read off exactly ({@link #HISTORY} keeps the weights).
 */
public final class UserProfiles {
  /** Profile rows: {@code item_id} (the user), {@code text}, {@code embedding}, {@link #HISTORY}. */
  public static final String HISTORY = "history";
  /** How many of a user's heaviest items name the profile in its {@code text}. */
  static final int ITEMS_NAMED = 5;

  public static final StructType PROFILE_SCHEMA = new StructType()
      .add(SearchItems.ID, DataTypes.StringType, false)
      .add(SearchItems.TEXT, DataTypes.StringType, false)
      .add(SearchItems.EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType, false), false)
      .add(HISTORY, DataTypes.createArrayType(new StructType().add("item_id", DataTypes.StringType, false)
          .add("weight", DataTypes.DoubleType, false), false), false);

  private UserProfiles() {}

  /**
   * @param eventWeights weight per event type (lower case); 0 keeps an event for exclusion only
   * @param halfLifeDays an event's weight halves every this many days before {@code asOf} (0: no decay)
   * @param maxEvents the most recent events per user that count
   * @param maxAgeDays events older than this are ignored (0: no limit)
   * @param asOf reference time; null = the latest event time of the history
   * @param exclude event types whose items are never recommended back to the user
   */
  public record Settings(Map<String, Double> eventWeights, double halfLifeDays, int maxEvents, int maxAgeDays,
      Instant asOf, Set<String> exclude) implements Serializable {
    public Settings {
      eventWeights = Map.copyOf(eventWeights);
      exclude = Set.copyOf(exclude);
      if (eventWeights.isEmpty()) {
        throw new InvalidInputException("match.users.eventWeights is empty: name at least one event type");
      }
      eventWeights.forEach((event, w) -> {
        if (!(w >= 0 && w <= 1e6)) {
          throw new InvalidInputException("match.users.eventWeights." + event + " = " + w + " is out of range 0..1e6");
        }
      });
      for (String e : exclude) {
        if (!eventWeights.containsKey(e)) {
          throw new InvalidInputException("match.users.exclude names event '" + e + "', which is not one of "
              + "match.users.eventWeights " + eventWeights.keySet());
        }
      }
      if (eventWeights.values().stream().noneMatch(w -> w > 0)) {
        throw new InvalidInputException("match.users.eventWeights are all 0: no event would shape a profile");
      }
    }
  }

  /**
   * Profiles and exclusions.
   *
   * @param profiles {@link #PROFILE_SCHEMA}: {@code text} names the user's heaviest items
   * @param withoutProfile {@code user_id, reason, record}: users with no usable event (reason codes of
   *     {@link dev.itemsim.catalog.HistoryRejectReason}'s user reasons), {@code record} their counts as JSON
   * @param excluded {@code user_id, item_id}: items never to recommend to the user
   * @param maxExcluded the most items any one user has excluded
   */
  public record Built(Dataset<Row> profiles, Dataset<Row> withoutProfile, Dataset<Row> excluded, long maxExcluded,
      Instant asOf) {}

  /**
   * @param events {@code user_id, item_id, event, ts}: valid events naming catalogue items
   * @param users every user of the history ({@code user_id})
   * @param items the catalogue ({@code item_id, text, embedding})
   */
  public static Built build(SparkSession spark, Dataset<Row> events, Dataset<Row> users, Dataset<Row> items,
      Settings settings) {
    return build(spark, events, events, users, items, settings);
  }

  /**
   * As {@link #build(SparkSession, Dataset, Dataset, Dataset, Settings)}, the excluded items taken from
   * {@code excludable} ({@code user_id, item_id, event}; e.g. also the events whose time could not be read).
   */
  public static Built build(SparkSession spark, Dataset<Row> events, Dataset<Row> excludable, Dataset<Row> users,
      Dataset<Row> items, Settings settings) {
    Instant asOf = settings.asOf();
    if (asOf == null) {
      Row latest = events.agg(max(col("ts"))).first();
      asOf = latest.isNullAt(0) ? Instant.EPOCH : latest.getTimestamp(0).toInstant();
    }
    long asOfMicros = asOf.getEpochSecond() * 1_000_000L + asOf.getNano() / 1_000;
    Column ageDays = greatest(lit(0.0), lit(asOfMicros).minus(unix_micros(col("ts"))).divide(86_400e6));
    Column eventWeight = lit(0.0);
    for (Map.Entry<String, Double> e : settings.eventWeights().entrySet()) {
      eventWeight = when(col("event").equalTo(e.getKey()), lit(e.getValue())).otherwise(eventWeight);
    }
    Column decay = settings.halfLifeDays() > 0 ? pow(lit(0.5), col("age_days").divide(settings.halfLifeDays())) : lit(1.0);
    Dataset<Row> aged = events.withColumn("age_days", ageDays);
    Dataset<Row> recent = settings.maxAgeDays() > 0 ? aged.filter(col("age_days").leq(settings.maxAgeDays())) : aged;
    Dataset<Row> latest = recent
        .withColumn("_n", row_number().over(Window.partitionBy("user_id").orderBy(col("ts").desc(), col("item_id"))))
        .filter(col("_n").leq(settings.maxEvents()))
        .withColumn("weight", eventWeight.multiply(decay));
    Dataset<Row> perItem = latest.filter(col("weight").gt(0)).groupBy("user_id", "item_id").agg(sum("weight").as("weight"));
    Dataset<Row> catalogue = items.select(col(SearchItems.ID).as("_id"), col(SearchItems.TEXT).as("_text"),
        col(SearchItems.EMBEDDING).as("_embedding"));
    Dataset<Row> joined = perItem.join(catalogue, perItem.col("item_id").equalTo(catalogue.col("_id")))
        .select(col("user_id"), struct(col("item_id"), col("weight"), col("_text").as("text"),
            col("_embedding").as("embedding")).as("h"));
    Dataset<Row> grouped = joined.groupBy("user_id").agg(collect_list(col("h")).as("hist"));
    Dataset<Row> computed = spark.createDataFrame(grouped.javaRDD().map(UserProfiles::profile), PROFILE_SCHEMA);
    Dataset<Row> profiles = computed.filter(size(col(SearchItems.EMBEDDING)).gt(0));
    Dataset<Row> directionless = computed.filter(size(col(SearchItems.EMBEDDING)).equalTo(0))
        .select(col(SearchItems.ID).as("user_id")).withColumn("zero_profile", lit(true));

    Dataset<Row> counts = users
        .join(aged.groupBy("user_id").agg(count(lit(1)).as("valid")), "user_id", "left")
        .join(recent.groupBy("user_id").agg(count(lit(1)).as("recent")), "user_id", "left")
        .join(perItem.groupBy("user_id").agg(count(lit(1)).as("weighted_items")), "user_id", "left")
        .join(directionless, "user_id", "left")
        .na().fill(0L, new String[] {"valid", "recent", "weighted_items"});
    Column reason = when(col("valid").equalTo(0), "no_valid_events")
        .when(col("recent").equalTo(0), "no_recent_events")
        .when(col("weighted_items").equalTo(0), "no_weighted_events")
        .when(col("zero_profile").isNotNull(), "zero_profile");
    Dataset<Row> withoutProfile = counts.withColumn("reason", reason).filter(col("reason").isNotNull())
        .select(col("user_id"), col("reason"), org.apache.spark.sql.functions.to_json(
            struct(col("user_id"), col("valid").as("valid_events"), col("recent").as("recent_events"),
                lit(settings.maxAgeDays()).as("max_age_days"))).as("record"));

    Dataset<Row> excluded = settings.exclude().isEmpty()
        ? spark.createDataFrame(List.of(), new StructType().add("user_id", "string").add("item_id", "string"))
        : excludable.filter(col("event").isin(settings.exclude().toArray())).select("user_id", "item_id")
            .distinct();
    Row most = excluded.groupBy("user_id").count().agg(max(col("count"))).first();
    long maxExcluded = most.isNullAt(0) ? 0 : most.getLong(0);
    return new Built(profiles, withoutProfile, excluded, maxExcluded, asOf);
  }

  /** One user's profile row from their items' weights, texts and embeddings. */
  private static Row profile(Row grouped) {
    String user = grouped.getString(0);
    List<Row> hist = new ArrayList<>(grouped.getList(1));
    hist.sort(Comparator.<Row>comparingDouble(h -> -h.getDouble(1)).thenComparing(h -> h.getString(0),
        CollectedItems::compareIds));
    int dim = hist.get(0).getList(3).size();
    double[] sum = new double[dim];
    List<Row> weights = new ArrayList<>(hist.size());
    // summed relative to the largest weight: a profile's direction does not depend on the weights' scale, and
    // long-decayed weights (0.5^600 ≈ 1e-181) would otherwise underflow when the norm squares them
    double largest = hist.get(0).getDouble(1);
    for (Row h : hist) {
      double w = h.getDouble(1);
      List<Object> e = h.getList(3);
      for (int k = 0; k < dim; k++) {
        sum[k] += w / largest * (Float) e.get(k);
      }
      weights.add(RowFactory.create(h.getString(0), w));
    }
    double norm = 0;
    for (double v : sum) {
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    // no direction (the weighted vectors cancel, or are all zero): an empty vector, which build() turns into
    // a user without a profile (zero_profile) instead of a profile scoring every item 0
    float[] profile = new float[norm > 0 && Double.isFinite(norm) ? dim : 0];
    for (int k = 0; k < profile.length; k++) {
      profile[k] = (float) (sum[k] / norm);
    }
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < Math.min(ITEMS_NAMED, hist.size()); i++) {
      text.append(i == 0 ? "" : "; ").append(hist.get(i).getString(2));
    }
    if (hist.size() > ITEMS_NAMED) {
      text.append(String.format(Locale.ROOT, "; (+%d more)", hist.size() - ITEMS_NAMED));
    }
    return RowFactory.create(user, text.toString(), profile, weights.toArray());
  }
}
