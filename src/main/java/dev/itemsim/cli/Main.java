package dev.itemsim.cli;

import com.typesafe.config.Config;
import dev.itemsim.InvalidInputException;
import dev.itemsim.config.ConfigLoader;
import dev.itemsim.eval.PairFiles;
import dev.itemsim.job.EvaluateConfig;
import dev.itemsim.job.EvaluateJob;
import dev.itemsim.job.FinetuneConfig;
import dev.itemsim.job.FinetuneJob;
import dev.itemsim.job.OutputLayout;
import dev.itemsim.job.RunSummary;
import dev.itemsim.job.SimilarItemsConfig;
import dev.itemsim.job.SimilarItemsJob;
import dev.itemsim.job.TooManyRejectsException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code itemsim run JOB.conf [--set key=value ...]}, {@code itemsim show --output DIR --item ID} and
 * {@code itemsim split-pairs --pairs FILE --train FILE --test FILE}.
 * Exit codes: 0 success, 1 failure, 2 bad usage, configuration or input, 3 too many rejected rows.
 */
@Command(name = "itemsim", mixinStandardHelpOptions = true, version = "itemsim 0.1.0",
    description = "Similar-item tables from product catalogues with sentence embeddings on Spark.",
    subcommands = {Main.Run.class, Main.Show.class, Main.SplitPairs.class, Main.GenerateCatalog.class,
        Main.BuildSampleCatalog.class})
public final class Main implements Runnable {
  static final int EXIT_FAILED = 1;
  static final int EXIT_INVALID = 2;
  static final int EXIT_TOO_MANY_REJECTS = 3;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(execute(args, System.out, System.err));
  }

  /** Runs the command line and returns its exit code (tests call this instead of {@link #main}). */
  public static int execute(String[] args, PrintStream out, PrintStream err) {
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new java.io.PrintWriter(new java.io.OutputStreamWriter(out, java.nio.charset.StandardCharsets.UTF_8),
        true));
    cli.setErr(new java.io.PrintWriter(new java.io.OutputStreamWriter(err, java.nio.charset.StandardCharsets.UTF_8),
        true));
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      // bad input found inside a Spark task arrives wrapped in a SparkException
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof InvalidInputException) {
          err.println("itemsim: " + t.getMessage());
          return EXIT_INVALID;
        }
      }
      if (e instanceof TooManyRejectsException) {
        err.println("itemsim: " + e.getMessage());
        return EXIT_TOO_MANY_REJECTS;
      }
      err.println("itemsim: failed: " + e.getMessage());
      err.println("(a fault, not a problem with the input: the stack trace follows for a bug report)");
      e.printStackTrace(err);
      return EXIT_FAILED;
    });
    return cli.execute(args);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: run or show");
  }

  @Command(name = "run", mixinStandardHelpOptions = true,
      description = "Run the job a spec describes (jobs/*.conf over conf/defaults.conf).")
  static final class Run implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "JOB.conf", description = "Job spec (HOCON).")
    Path job;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a configuration key (repeatable).")
    List<String> sets = new ArrayList<>();

    @Option(names = "--profile", paramLabel = "NAME", description = "local or cluster (set by scripts/itemsim).")
    String profile;

    @Option(names = "--examples", paramLabel = "N", defaultValue = "3",
        description = "Neighbour lists to print after the run (default: ${DEFAULT-VALUE}).")
    int examples;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Config config = ConfigLoader.load(job, profile, sets);
      String kind = config.getString("job");
      return switch (kind) {
        case "similar-items" -> similarItems(SimilarItemsConfig.from(config));
        case "evaluate" -> evaluate(EvaluateConfig.from(config));
        case "finetune" -> finetune(FinetuneConfig.from(config));
        default -> throw new InvalidInputException("job = '" + kind + "' is not one of similar-items, evaluate, "
            + "finetune");
      };
    }

    private int similarItems(SimilarItemsConfig jobConfig) {
      SparkSession spark = Sessions.start("itemsim similar-items " + jobConfig.runDate(), jobConfig.spark());
      RunSummary summary = new SimilarItemsJob(spark, jobConfig).execute();
      java.io.PrintWriter out = spec.commandLine().getOut();
      printSummary(summary, jobConfig, out);
      if (examples > 0) {
        List<String> sample = spark.read().parquet(jobConfig.output().similarItemsPath(jobConfig.runDate()))
            .select("item_id").distinct().orderBy(
                org.apache.spark.sql.functions.hash(org.apache.spark.sql.functions.col("item_id")))
            .limit(examples).collectAsList().stream().map(r -> r.getString(0)).toList();
        NeighborTable.print(spark, jobConfig.output(), jobConfig.runDate().toString(), sample, out);
      }
      out.flush();
      return 0;
    }

    private int evaluate(EvaluateConfig jobConfig) {
      SparkSession spark = Sessions.start("itemsim evaluate", jobConfig.spark());
      RunSummary summary = new EvaluateJob(spark, jobConfig).execute();
      java.io.PrintWriter out = spec.commandLine().getOut();
      EvaluateJob.printTable(summary, out);
      out.flush();
      return 0;
    }

    private int finetune(FinetuneConfig jobConfig) {
      SparkSession spark = Sessions.start("itemsim finetune", jobConfig.spark());
      RunSummary summary = new FinetuneJob(spark, jobConfig).execute();
      java.io.PrintWriter out = spec.commandLine().getOut();
      FinetuneJob.printSummary(summary, out);
      out.flush();
      return 0;
    }

    private static void printSummary(RunSummary summary, SimilarItemsConfig c, java.io.PrintWriter out) {
      out.println();
      out.println("itemsim similar-items " + summary.status().name().toLowerCase(java.util.Locale.ROOT)
          + " for run_date=" + c.runDate());
      summary.counts().forEach((k, v) -> out.printf("  %-20s %s%n", k, v));
      out.println("  stage wall times (ms):");
      for (Map.Entry<String, Long> e : summary.stageMillis().entrySet()) {
        out.printf("    %-18s %8d%n", e.getKey(), e.getValue());
      }
      out.println("  scorer               " + summary.search().scorer());
      if (summary.search().kernel() != null) {
        out.println("  kernel               " + summary.search().kernel());
      }
      out.println("  tables:");
      out.println("    " + c.output().similarItemsPath(c.runDate()));
      out.println("    " + c.output().resolve(OutputLayout.EMBEDDINGS));
      if (c.against() != null) {
        out.println("    " + c.output().resolve(OutputLayout.EMBEDDINGS_AGAINST));
      }
      out.println("    " + c.output().resolve(OutputLayout.rejected(c.runDate())));
      out.println("    " + summary.summaryPath());
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true,
      description = "Print an item's title and its top-N neighbours with titles and scores.")
  static final class Show implements Callable<Integer> {
    @Option(names = "--output", required = true, paramLabel = "DIR", description = "The job's output.path.")
    String output;

    @Option(names = "--item", required = true, paramLabel = "ID", description = "Item id (repeatable).")
    List<String> items;

    @Option(names = "--run-date", paramLabel = "YYYY-MM-DD", description = "Default: the latest run date.")
    String runDate;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      SparkSession spark = Sessions.start("itemsim show", Map.of("spark.master", "local[1]",
          "spark.ui.enabled", "false", "spark.ui.showConsoleProgress", "false"));
      OutputLayout layout = new OutputLayout(output);
      org.apache.hadoop.fs.Path dir = layout.resolve(OutputLayout.SIMILAR_ITEMS);
      var fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(dir)) {
        throw new InvalidInputException("No similar_items table under --output " + output);
      }
      String date = runDate;
      if (date == null) {
        date = null;
        for (FileStatus s : fs.listStatus(dir)) {
          String name = s.getPath().getName();
          if (s.isDirectory() && name.startsWith("run_date=")) {
            String d = name.substring("run_date=".length());
            date = date == null || d.compareTo(date) > 0 ? d : date;
          }
        }
        if (date == null) {
          throw new InvalidInputException("No run_date partitions under " + dir);
        }
      } else if (!fs.exists(new org.apache.hadoop.fs.Path(dir, "run_date=" + date))) {
        throw new InvalidInputException("No partition run_date=" + date + " under " + dir);
      }
      java.io.PrintWriter out = spec.commandLine().getOut();
      out.println("run_date=" + date);
      NeighborTable.print(spark, layout, date, items, out);
      out.flush();
      return 0;
    }
  }

  @Command(name = "split-pairs", mixinStandardHelpOptions = true,
      description = {"Split true-match pairs into a training and a test file by connected component of the match "
          + "graph: no test item, and no partner of one, appears in a training pair.",
          "Components are shuffled with the seed and given to the test file until it holds the test fraction of "
          + "the pairs. Input: CSV with a header or Parquet, columns id_a and id_b (other columns are kept)."})
  static final class SplitPairs implements Callable<Integer> {
    @Option(names = "--pairs", required = true, paramLabel = "FILE", description = "The pairs (id_a, id_b).")
    String pairs;

    @Option(names = "--train", required = true, paramLabel = "FILE.csv", description = "Training pairs to write.")
    Path train;

    @Option(names = "--test", required = true, paramLabel = "FILE.csv", description = "Test pairs to write.")
    Path test;

    @Option(names = "--test-fraction", defaultValue = "0.4", paramLabel = "F",
        description = "Share of the pairs in the test file (default: ${DEFAULT-VALUE}).")
    double testFraction;

    @Option(names = "--seed", defaultValue = "42", description = "Shuffling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      SparkSession spark = Sessions.start("itemsim split-pairs", Map.of("spark.master", "local[1]",
          "spark.ui.enabled", "false", "spark.ui.showConsoleProgress", "false"));
      PairFiles.Split result = PairFiles.split(spark, pairs, train, test, testFraction, seed);
      java.io.PrintWriter out = spec.commandLine().getOut();
      out.printf(java.util.Locale.ROOT, "Split %d pairs in %d components: %d training pairs (%d components) -> %s, "
              + "%d test pairs (%d components) -> %s%n", result.pairs(), result.components(), result.trainPairs(),
          result.trainComponents(), train, result.testPairs(), result.testComponents(), test);
      out.flush();
      return 0;
    }
  }

  @Command(name = "generate-catalog", mixinStandardHelpOptions = true,
      description = "Write a synthetic product catalogue (Parquet) for benchmarks.")
  static final class GenerateCatalog implements Callable<Integer> {
    @Option(names = "--items", required = true, paramLabel = "N", description = "Number of items.")
    long items;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Parquet folder to write.")
    String output;

    @Option(names = "--duplicates", defaultValue = "0.1", paramLabel = "SHARE",
        description = "Share of planted near-duplicates (default: ${DEFAULT-VALUE}).")
    double duplicates;

    @Option(names = "--seed", defaultValue = "42", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
      if (items < 1 || duplicates < 0 || duplicates >= 1) {
        throw new InvalidInputException("--items must be >= 1 and --duplicates in [0, 1)");
      }
      SparkSession spark = Sessions.start("itemsim generate-catalog", Map.of("spark.master", "local[*]",
          "spark.ui.enabled", "false"));
      dev.itemsim.catalog.SyntheticCatalog.write(spark, items, duplicates, seed, output);
      System.out.println("Wrote " + items + " synthetic items to " + output);
      return 0;
    }
  }

  @Command(name = "build-sample-catalog", hidden = true,
      description = "Merge the benchmark CSVs under sample-data/ into sample-data/catalog (Parquet).")
  static final class BuildSampleCatalog implements Callable<Integer> {
    @Option(names = "--sample-data", defaultValue = "sample-data", paramLabel = "DIR")
    String sampleData;

    @Override
    public Integer call() {
      SparkSession spark = Sessions.start("itemsim build-sample-catalog", Map.of("spark.master", "local[*]",
          "spark.ui.enabled", "false"));
      dev.itemsim.catalog.BenchmarkCatalog.build(spark, sampleData, sampleData + "/catalog");
      return 0;
    }
  }
}
