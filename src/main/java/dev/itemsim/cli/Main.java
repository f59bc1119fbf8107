package dev.itemsim.cli;

import com.typesafe.config.Config;
import dev.itemsim.InvalidInputException;
import dev.itemsim.StrictReads;
import dev.itemsim.config.ConfigLoader;
import dev.itemsim.eval.PairFiles;
import dev.itemsim.job.EvaluateConfig;
import dev.itemsim.job.EvaluateJob;
import dev.itemsim.job.FinetuneConfig;
import dev.itemsim.job.FinetuneJob;
import dev.itemsim.job.JobStoppedException;
import dev.itemsim.job.MatchConfig;
import dev.itemsim.job.MatchJob;
import dev.itemsim.job.OutputLayout;
import dev.itemsim.job.RunSummary;
import dev.itemsim.job.SimilarItemsConfig;
import dev.itemsim.job.SimilarItemsJob;
import dev.itemsim.job.TooManyRejectsException;
import dev.itemsim.report.HtmlReport;
import dev.itemsim.report.RunExplanations;
import dev.itemsim.report.RunOutput;
import dev.itemsim.similarity.RecallBelowMinimumException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code itemsim run JOB.conf [--set key=value ...]}, {@code itemsim show --output DIR --item ID [--explain]},
 * {@code itemsim report --output DIR} and {@code itemsim split-pairs --pairs FILE --train FILE --test FILE}.
 * Exit codes: 0 success, 1 failure, 2 bad usage, configuration or input, 3 too many rejected rows, 4 approximate
 * search below its minimum recall.
 */
@Command(name = "itemsim", mixinStandardHelpOptions = true, version = Main.VERSION,
    description = "Similar-item tables from product catalogues with sentence embeddings on Spark.",
    subcommands = {Main.Run.class, Main.Show.class, Main.Report.class, Main.SplitPairs.class, Main.GenerateCatalog.class,
        Main.BuildSampleCatalog.class})
public final class Main implements Runnable {
  /** What {@code --version} prints, for the command and every subcommand. */
  static final String VERSION = "itemsim 0.1.0";
  static final int EXIT_FAILED = 1;
  static final int EXIT_INVALID = 2;
  static final int EXIT_TOO_MANY_REJECTS = 3;
  static final int EXIT_LOW_RECALL = 4;

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
      if (e instanceof RecallBelowMinimumException) {
        err.println("itemsim: " + e.getMessage());
        return EXIT_LOW_RECALL;
      }
      if (e instanceof JobStoppedException) {
        err.println("itemsim: failed: " + e.getMessage());  // not a fault: no stack trace to report
        return EXIT_FAILED;
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
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: run, show or report");
  }

  @Command(name = "run", mixinStandardHelpOptions = true, version = Main.VERSION,
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
      String kind = new dev.itemsim.config.TypedConfig(config).string("job");
      return switch (kind) {
        case "similar-items" -> similarItems(SimilarItemsConfig.from(config));
        case "evaluate" -> evaluate(EvaluateConfig.from(config));
        case "match" -> match(MatchConfig.from(config));
        case "finetune" -> finetune(FinetuneConfig.from(config));
        default -> throw new InvalidInputException("job = '" + kind + "' is not one of similar-items, evaluate, "
            + "match, finetune");
      };
    }

    private int similarItems(SimilarItemsConfig jobConfig) {
      SparkSession spark = Sessions.start("itemsim similar-items " + jobConfig.runDate(), jobConfig.spark());
      RunSummary summary = new SimilarItemsJob(spark, jobConfig).execute();
      java.io.PrintWriter out = spec.commandLine().getOut();
      printSummary(summary, jobConfig, out);
      if (examples > 0) {
        List<String> sample = StrictReads.parquet(spark, jobConfig.output().similarItemsPath(jobConfig.runDate()))
            .select("item_id").distinct().orderBy(
                org.apache.spark.sql.functions.hash(org.apache.spark.sql.functions.col("item_id")))
            .limit(examples).collectAsList().stream().map(r -> r.getString(0)).toList();
        NeighborTable.print(spark, jobConfig.output(), jobConfig.runDate().toString(), sample, out);
      }
      out.flush();
      return 0;
    }

    private int match(MatchConfig jobConfig) {
      SparkSession spark = Sessions.start("itemsim match " + jobConfig.runDate(), jobConfig.spark());
      RunSummary summary = new MatchJob(spark, jobConfig).execute();
      java.io.PrintWriter out = spec.commandLine().getOut();
      out.println();
      out.println("itemsim match (" + jobConfig.kind().value() + ") " + summary.status().name()
          .toLowerCase(java.util.Locale.ROOT) + " for run_date=" + jobConfig.runDate());
      printCounts(summary, out);
      OutputLayout layout = jobConfig.output();
      out.println("  tables:");
      for (String table : List.of(OutputLayout.matches(jobConfig.runDate()), OutputLayout.matchLeft(
          jobConfig.runDate()), OutputLayout.matchRejected(jobConfig.runDate()), OutputLayout.EMBEDDINGS,
          OutputLayout.rejected(jobConfig.runDate()))) {
        out.println("    " + layout.resolve(table));
      }
      out.println("    " + summary.summaryPath());
      if (examples > 0) {
        List<String> sample = StrictReads.parquet(spark, layout.resolve(OutputLayout.matches(jobConfig.runDate()))
                .toString()).select("left_id").distinct().orderBy("left_id").limit(examples).collectAsList()
            .stream().map(r -> r.getString(0)).toList();
        NeighborTable.printMatches(spark, layout, jobConfig.runDate().toString(), sample, out);
      }
      out.flush();
      return 0;
    }

    private static void printCounts(RunSummary summary, java.io.PrintWriter out) {
      summary.counts().forEach((k, v) -> out.printf("  %-32s %s%n", k, v));
      out.println("  stage wall times (ms):");
      for (Map.Entry<String, Long> e : summary.stageMillis().entrySet()) {
        out.printf("    %-24s %8d%n", e.getKey(), e.getValue());
      }
      out.println("  scorer               " + summary.search().scorer());
      if (summary.kernel() != null) {
        out.println("  kernel               " + summary.kernel());
      }
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
      if (summary.runMode() != null) {
        out.println("  run mode             " + summary.runMode());
        summary.fullReasons().forEach(r -> out.println("    from scratch: " + r));
      }
      summary.counts().forEach((k, v) -> out.printf("  %-20s %s%n", k, v));
      out.println("  stage wall times (ms):");
      for (Map.Entry<String, Long> e : summary.stageMillis().entrySet()) {
        out.printf("    %-18s %8d%n", e.getKey(), e.getValue());
      }
      out.println("  scorer               " + summary.search().scorer());
      if (summary.kernel() != null) {
        out.println("  kernel               " + summary.kernel());
      }
      out.println("  tables:");
      out.println("    " + c.output().similarItemsPath(c.runDate()));
      out.println("    " + c.output().resolve(OutputLayout.EMBEDDINGS));
      if (c.against() != null) {
        out.println("    " + c.output().resolve(OutputLayout.EMBEDDINGS_AGAINST));
      }
      out.println("    " + c.output().resolve(OutputLayout.rejected(c.runDate())));
      out.println("    " + c.output().resolve(OutputLayout.STATE) + "  (kept for the next run)");
      out.println("    " + summary.summaryPath());
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, version = Main.VERSION,
      description = "Print an item's text and its top-N neighbours with texts and scores (for a match output: a "
          + "left row's matches); --explain adds why each scores what it does.")
  static final class Show implements Callable<Integer> {
    @Option(names = "--output", required = true, paramLabel = "DIR", description = "The job's output.path.")
    String output;

    @Option(names = "--item", required = true, paramLabel = "ID",
        description = "Item id, or a match run's left id (repeatable).")
    List<String> items;

    @Option(names = "--run-date", paramLabel = "YYYY-MM-DD", description = "Default: the latest run date.")
    String runDate;

    @Option(names = "--kind", paramLabel = "JOB", description = "similar-items or match, when the output holds "
        + "both (default: similar-items).")
    String kind;

    @Option(names = "--explain", description = "Explain every score: each scorer's contribution (cosine × weight), "
        + "the shared model numbers and words.")
    boolean explain;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      SparkSession spark = Sessions.start("itemsim show", Map.of("spark.master", "local[1]",
          "spark.ui.enabled", "false", "spark.ui.showConsoleProgress", "false"));
      RunOutput run = RunOutputs.find(spark, output, kind, runDate);
      java.io.PrintWriter out = spec.commandLine().getOut();
      out.println(run.kind() + " run_date=" + run.runDate());
      if (explain) {
        NeighborTable.printExplained(RunExplanations.explain(spark, run, run.summary(spark), items), out);
      } else if (run.isMatch()) {
        NeighborTable.printMatches(spark, new OutputLayout(output), run.runDate(), items, out);
      } else {
        NeighborTable.print(spark, new OutputLayout(output), run.runDate(), items, out);
      }
      out.flush();
      return 0;
    }
  }

  @Command(name = "report", mixinStandardHelpOptions = true, version = Main.VERSION,
      description = "Write a self-contained HTML report of a published run: similarity heatmap, score "
          + "distributions, coverage and hub items, evaluation charts, explained sample lists, run summary.")
  static final class Report implements Callable<Integer> {
    @Option(names = "--output", required = true, paramLabel = "DIR", description = "The job's output.path.")
    String output;

    @Option(names = "--run-date", paramLabel = "YYYY-MM-DD", description = "Default: the latest run date.")
    String runDate;

    @Option(names = "--kind", paramLabel = "JOB", description = "similar-items or match, when the output holds "
        + "both (default: similar-items).")
    String kind;

    @Option(names = "--html", paramLabel = "FILE",
        description = "Where to write the page (default: DIR/report_<kind>_<run date>.html).")
    String html;

    @Option(names = "--catalog", paramLabel = "PATH",
        description = "Catalogue whose columns group the heatmap (default: the run's input).")
    String catalog;

    @Option(names = "--catalog-format", paramLabel = "FORMAT",
        description = "parquet or csv (default: csv for a .csv path, else parquet).")
    String catalogFormat;

    @Option(names = "--id-column", paramLabel = "COLUMN", defaultValue = "id",
        description = "The catalogue's id column (default: ${DEFAULT-VALUE}).")
    String idColumn;

    @Option(names = "--group-by", paramLabel = "COLUMNS", split = ",", defaultValue = "category,brand",
        description = "Columns tried in order for an item's heatmap group (default: ${DEFAULT-VALUE}).")
    List<String> groupBy;

    @Option(names = "--evaluation", paramLabel = "DIR",
        description = "Output path of an evaluate job whose results to chart (repeatable; DIR itself is always "
            + "looked at).")
    List<String> evaluations = new ArrayList<>();

    @Option(names = "--sample", paramLabel = "N", defaultValue = "25",
        description = "Lists shown with explanations (default: ${DEFAULT-VALUE}).")
    int sample;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      if (sample < 1 || sample > 10_000) {
        throw new InvalidInputException("--sample must be in 1..10000, got " + sample);
      }
      SparkSession spark = Sessions.start("itemsim report", Map.of("spark.master", "local[*]",
          "spark.ui.enabled", "false", "spark.ui.showConsoleProgress", "false",
          "spark.sql.shuffle.partitions", "4"));
      RunOutput run = RunOutputs.find(spark, output, kind, runDate);
      evaluations.forEach(e -> RunOutputs.requireEvaluation(spark, e));
      List<String> evaluationDirs = new ArrayList<>(List.of(output));
      evaluations.stream().filter(e -> !e.equals(output)).forEach(evaluationDirs::add);
      HtmlReport.Options options = new HtmlReport.Options(catalog, catalogFormat, idColumn, groupBy, sample, 8, 6,
          RunOutputs.evaluations(spark, evaluationDirs));
      String target = html != null ? html
          : new org.apache.hadoop.fs.Path(output, "report_" + run.kind() + "_" + run.runDate() + ".html").toString();
      HtmlReport.write(spark, run, options, target);
      spec.commandLine().getOut().println("Wrote " + target);
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  @Command(name = "split-pairs", mixinStandardHelpOptions = true, version = Main.VERSION,
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
      Path input = Path.of(pairs).toAbsolutePath().normalize();
      Path trainFile = train.toAbsolutePath().normalize();
      Path testFile = test.toAbsolutePath().normalize();
      if (trainFile.equals(testFile) || trainFile.equals(input) || testFile.equals(input)
          || trainFile.startsWith(input) || testFile.startsWith(input)) {
        throw new InvalidInputException("split-pairs: --train " + train + ", --test " + test + " and --pairs " + pairs
            + " must be three different files (the split would overwrite what it reads or writes)");
      }
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

  @Command(name = "generate-catalog", mixinStandardHelpOptions = true, version = Main.VERSION,
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
