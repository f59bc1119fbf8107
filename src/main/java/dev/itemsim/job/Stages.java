package dev.itemsim.job;

import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs a job's named step as a Spark job group (so the Spark UI says what is running) and times it. */
final class Stages {
  private static final Logger LOG = LoggerFactory.getLogger(Stages.class);

  private final SparkSession spark;
  private final RunSummary summary;
  private final String job;

  Stages(SparkSession spark, RunSummary summary, String job) {
    this.spark = spark;
    this.summary = summary;
    this.job = job;
  }

  <T> T run(String name, String description, Supplier<T> work) {
    spark.sparkContext().setJobGroup("itemsim-" + name, "itemsim " + job + ": " + description, false);
    LOG.info("Stage {} started: {}", name, description);
    long t0 = System.nanoTime();
    try {
      return work.get();
    } finally {
      long ms = (System.nanoTime() - t0) / 1_000_000;
      summary.stage(name, ms);
      LOG.info("Stage {} took {} ms", name, ms);
    }
  }
}
