package dev.itemsim.job;

import static org.apache.spark.sql.functions.col;

import dev.itemsim.SparkTestSupport;
import dev.itemsim.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/** Small real catalogues written as Parquet, job specs, and the command line run in-process. */
public final class JobTestSupport {
  private JobTestSupport() {}

  public record Result(int exitCode, String out, String err) {}

  /** {@code n} real products of the sample catalogue (Abt and Buy rows), plus {@code extraRows}. */
  public static Path catalog(Path dir, String name, int n, List<Row> extraRows) {
    SparkSession spark = SparkTestSupport.spark();
    Dataset<Row> sample = spark.read().parquet("sample-data/catalog")
        .filter(col("source").isin("abt", "buy")).orderBy("id").limit(n);
    Dataset<Row> all = sample.unionByName(spark.createDataFrame(extraRows, sample.schema()));
    Path out = dir.resolve(name);
    all.coalesce(1).write().mode(SaveMode.Overwrite).parquet(out.toString());
    return out;
  }

  public static Row product(String id, String title, String brand) {
    return RowFactory.create(id, title, brand, null, null, null, "test");
  }

  public static Path spec(Path dir, Path catalog, Path output, String... extraLines) throws Exception {
    List<String> lines = new ArrayList<>(List.of(
        "job = similar-items",
        "input.path = \"" + catalog + "\"",
        "output.path = \"" + output + "\"",
        "run.date = \"2026-03-01\"",
        "similarity.blockSize = 16",
        "similarity.topN = 5"));
    lines.addAll(List.of(extraLines));
    Path spec = Files.createTempFile(dir, "job", ".conf");
    Files.write(spec, lines);
    return spec;
  }

  public static Result cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  public static Result run(Path spec, String... sets) {
    List<String> args = new ArrayList<>(List.of("run", spec.toString(), "--profile", "local"));
    for (String s : sets) {
      args.add("--set");
      args.add(s);
    }
    return cli(args.toArray(String[]::new));
  }
}
