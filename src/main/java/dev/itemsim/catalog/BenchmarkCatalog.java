package dev.itemsim.catalog;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;

/**
 * Builds the sample catalogue from the product-matching benchmarks shipped in {@code sample-data/}: both
 * tables of Abt-Buy and of Amazon-Google, with a {@code source} column (abt, buy, amazon, google) and the
 * price as a double. Ids are the benchmarks' own (they do not collide across the four tables).
 */
public final class BenchmarkCatalog {
  private BenchmarkCatalog() {}

  public static void build(SparkSession spark, String sampleDataDir, String output) {
    Dataset<Row> merged = table(spark, sampleDataDir + "/abt-buy/products_a.csv", "abt")
        .unionByName(table(spark, sampleDataDir + "/abt-buy/products_b.csv", "buy"))
        .unionByName(table(spark, sampleDataDir + "/amazon-google/products_a.csv", "amazon"))
        .unionByName(table(spark, sampleDataDir + "/amazon-google/products_b.csv", "google"));
    merged.coalesce(1).write().mode(SaveMode.Overwrite).parquet(output);
  }

  private static Dataset<Row> table(SparkSession spark, String csv, String source) {
    Dataset<Row> raw = CatalogReader.read(spark, csv, "csv");
    // Spark refuses queries that read only the corrupt-record column; counting ids too keeps it legal.
    Row counts = raw.agg(count(when(col(CatalogReader.CORRUPT_COLUMN).isNotNull(), 1)), count(col("id"))).first();
    long bad = counts.getLong(0);
    if (bad > 0) {
      throw new IllegalStateException(csv + " has " + bad + " malformed lines");
    }
    return raw.select(col("id"), col("title"), col("brand"), col("description"),
        col("price").cast(DataTypes.DoubleType).as("price"), col("category"), lit(source).as("source"));
  }
}
