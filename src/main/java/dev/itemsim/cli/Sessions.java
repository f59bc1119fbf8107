package dev.itemsim.cli;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Starts (or joins, under spark-submit) the Spark session with the configuration's {@code spark.*} keys. */
final class Sessions {
  private Sessions() {}

  static SparkSession start(String appName, Map<String, String> sparkSettings) {
    SparkConf conf = new SparkConf();
    sparkSettings.forEach(conf::set);
    if (!conf.contains("spark.master")) {
      if (System.getProperty("spark.master") == null) {
        throw new dev.itemsim.InvalidInputException("No Spark master: run through `scripts/itemsim run` "
            + "(embedded local Spark) or `scripts/itemsim submit` (spark-submit), or set spark.master");
      }
    }
    return SparkSession.builder().appName(appName).config(conf).getOrCreate();
  }
}
