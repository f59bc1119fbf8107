package dev.itemsim.bench;

import static org.apache.spark.sql.functions.col;

import dev.itemsim.catalog.SyntheticCatalog;
import dev.itemsim.catalog.TextTemplate;
import dev.itemsim.similarity.SearchItems;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A search-ready table for benchmarks: a {@link SyntheticCatalog} with each item's text built by the job's
 * default template and a synthetic embedding attached, so a benchmark times the search, not the encoder.
 *
 * <p>The embeddings are clustered like real ones: {@code normalise(1.0 · c(category) + 0.7 · c(brand) +
 * 0.6 · c(model number) + noise(id))}, where {@code c(s)} is a unit Gaussian vector seeded by the string
 * {@code s} and {@code noise(id)} a Gaussian vector of norm about 0.25 seeded by the item's id. Items of one category and
 * brand lie around a common centre; a planted near-duplicate shares its original's model number (its spelling
 * normalised: upper case, no dashes), so the pair lies close, as an encoder would put two listings of one
 * product.
 */
final class SyntheticItems {
  static final int DIM = 384;
  static final String TEMPLATE = "{title} | {brand} | {category}";
  static final StructType SCHEMA = new StructType()
      .add(SearchItems.ID, DataTypes.StringType, false)
      .add(SearchItems.TEXT, DataTypes.StringType, false)
      .add(SearchItems.EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType, false), false);

  private SyntheticItems() {}

  /**
   * Writes {@code items} search items ({@code item_id, text, embedding}) as Parquet to {@code output}, from a
   * synthetic catalogue written first to {@code output + "-catalog"}; 10 % near-duplicates, seed 42.
   */
  static void write(SparkSession spark, long items, String output) {
    String catalog = output + "-catalog";
    SyntheticCatalog.write(spark, items, 0.1, 42, catalog);
    TextTemplate template = TextTemplate.parse(TEMPLATE, 300);
    Dataset<Row> rows = spark.read().parquet(catalog).select(col("id"), col("title"), col("brand"), col("category"));
    spark.createDataFrame(rows.javaRDD().map(r -> {
      String title = r.getString(1);
      String brand = r.getString(2);
      String category = r.getString(3);
      float[] v = embedding(r.getString(0), category, brand, modelKey(title));
      Float[] boxed = new Float[v.length];
      for (int k = 0; k < v.length; k++) {
        boxed[k] = v[k];
      }
      return RowFactory.create(r.getString(0), template.render(Arrays.asList(title, brand, category)), boxed);
    }), SCHEMA).write().mode(SaveMode.Overwrite).parquet(output);
  }

  /** The model number of a synthetic title (its last word), upper case without dashes. */
  static String modelKey(String title) {
    String last = title.substring(title.lastIndexOf(' ') + 1);
    return last.toUpperCase(Locale.ROOT).replace("-", "");
  }

  static float[] embedding(String id, String category, String brand, String model) {
    double[] v = new double[DIM];
    add(v, centre("category:" + category), 1.0);
    add(v, centre("brand:" + brand), 0.7);
    add(v, centre("model:" + model), 0.6);
    add(v, gaussian(new SplittableRandom(id.hashCode() * 0x9E3779B97F4A7C15L)), 0.25 / Math.sqrt(DIM));
    double norm = 0;
    for (double x : v) {
      norm += x * x;
    }
    float[] out = new float[DIM];
    for (int k = 0; k < DIM; k++) {
      out[k] = (float) (v[k] / Math.sqrt(norm));
    }
    return out;
  }

  private static double[] centre(String key) {
    double[] g = gaussian(new SplittableRandom(key.hashCode() * 0xC2B2AE3D27D4EB4FL + 17));
    double norm = 0;
    for (double x : g) {
      norm += x * x;
    }
    for (int k = 0; k < DIM; k++) {
      g[k] /= Math.sqrt(norm);
    }
    return g;
  }

  private static double[] gaussian(SplittableRandom random) {
    double[] g = new double[DIM];
    for (int k = 0; k < DIM; k += 2) {
      // Box-Muller: two standard normals per pair of uniforms
      double u = 1 - random.nextDouble();
      double r = Math.sqrt(-2 * Math.log(u));
      double t = 2 * Math.PI * random.nextDouble();
      g[k] = r * Math.cos(t);
      if (k + 1 < DIM) {
        g[k + 1] = r * Math.sin(t);
      }
    }
    return g;
  }

  private static void add(double[] v, double[] x, double weight) {
    for (int k = 0; k < DIM; k++) {
      v[k] += weight * x[k];
    }
  }
}
