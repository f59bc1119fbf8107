package dev.itemsim.cli;

import dev.itemsim.ItemsimKryoRegistrator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Starts (or joins, under spark-submit) the Spark session with the configuration's {@code spark.*} keys and
 * itemsim's Kryo registrator ({@link ItemsimKryoRegistrator}).
 */
final class Sessions {
  /** Settings whose submitted value (spark-submit {@code --conf}) is extended, not replaced, by the job's. */
  static final Set<String> JAVA_OPTIONS = Set.of("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions");

  private Sessions() {}

  static SparkSession start(String appName, Map<String, String> sparkSettings) {
    SparkConf conf = configured(new SparkConf(), sparkSettings);
    ItemsimKryoRegistrator.requireUsable(conf);
    if (!conf.contains("spark.master")) {
      if (System.getProperty("spark.master") == null) {
        throw new dev.itemsim.InvalidInputException("No Spark master: run through `scripts/itemsim run` "
            + "(embedded local Spark) or `scripts/itemsim submit` (spark-submit), or set spark.master");
      }
    }
    return SparkSession.builder().appName(appName).config(conf).getOrCreate();
  }

  /**
   * {@code submitted} (what spark-submit or system properties set) with the job's {@code spark.*} settings: a
   * job setting replaces a submitted one, except for the JVM options ({@link #JAVA_OPTIONS}), where the job's
   * options not already submitted are added after the submitted ones (a GC log or heap-dump option given to
   * spark-submit is kept, and so are the job's module and offline flags); and itemsim's Kryo registrator after
   * any listed, so that the job runs whatever {@code spark.serializer} was chosen.
   */
  static SparkConf configured(SparkConf submitted, Map<String, String> sparkSettings) {
    sparkSettings.forEach((key, value) -> submitted.set(key,
        JAVA_OPTIONS.contains(key) && submitted.contains(key) ? joined(submitted.get(key), value) : value));
    return ItemsimKryoRegistrator.install(submitted);
  }

  private static String joined(String submitted, String job) {
    Set<String> present = new LinkedHashSet<>(Arrays.asList(submitted.trim().split("\\s+")));
    List<String> added = new ArrayList<>();
    for (String option : job.trim().split("\\s+")) {
      if (!option.isEmpty() && !present.contains(option)) {
        added.add(option);
      }
    }
    return added.isEmpty() ? submitted : (submitted.trim() + " " + String.join(" ", added)).trim();
  }
}
