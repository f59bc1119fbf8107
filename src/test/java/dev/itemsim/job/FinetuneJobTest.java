package dev.itemsim.job;

import static dev.itemsim.job.JobTestSupport.cli;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.AbtBuySample;
import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("integration")
class FinetuneJobTest {
  @TempDir
  Path dir;

  /** The first 60 Abt-Buy match pairs, their products (A and B) as CSV, and the pairs file. */
  private Path[] labelledSample() throws Exception {
    return AbtBuySample.firstPairs(dir, 60, "pairs.csv");
  }

  private JobTestSupport.Result finetune(Path[] sample, Path out, String... sets) {
    List<String> args = new ArrayList<>(List.of("run", "jobs/finetune.conf", "--profile", "local",
        "--set", "input.path=" + sample[0], "--set", "search.against=" + sample[1],
        "--set", "finetune.pairs=" + sample[2], "--set", "output.path=" + out,
        "--set", "finetune.batchSize=8", "--set", "finetune.epochs=2", "--set", "finetune.validationFraction=0.25",
        "--set", "encoder.maxTokens=64"));
    for (String s : sets) {
      args.add("--set");
      args.add(s);
    }
    return cli(args.toArray(String[]::new));
  }

  @Test
  void labelledPairsTrainAModelFolderThatTheEvaluateJobLoads() throws Exception {
    Path[] sample = labelledSample();
    Path out = dir.resolve("tuned");
    JobTestSupport.Result result = finetune(sample, out);
    assertThat(result.exitCode()).as(result.err()).isZero();
    Path model = out.resolve(OutputLayout.MODEL);
    assertThat(result.out()).contains("use it: --set encoder.model=" + model).contains("recall@1");
    for (String file : List.of("config.json", "model.safetensors", "model.onnx", "tokenizer.json",
        "1_Pooling/config.json", "training.json", "hybrid-blend.json")) {
      assertThat(model.resolve(file)).as(file).isRegularFile();
    }
    JsonNode training = new ObjectMapper().readTree(model.resolve("training.json").toFile());
    assertThat(training.get("base_model").asText()).isEqualTo("builtin:all-minilm-l6-v2");
    assertThat(training.get("data").get("digest").asText()).hasSize(64);
    assertThat(training.get("data").get("positive_pairs").asInt()).isEqualTo(60);
    JsonNode split = training.get("split");
    assertThat(split.get("train_pairs").asInt() + split.get("validation_pairs").asInt()).isEqualTo(60);
    assertThat(split.get("validation_pairs").asInt()).isBetween(15, 20);
    assertThat(training.get("hyper_parameters").get("batch_size").asInt()).isEqualTo(8);
    int steps = 0;
    for (JsonNode epoch : training.get("epochs")) {
      steps += epoch.get("steps").asInt();
      assertThat(epoch.get("validation").get("recall@1").asDouble()).isBetween(0.0, 1.0);
    }
    assertThat(training.get("loss_per_step")).hasSize(steps);
    assertThat(steps).isGreaterThanOrEqualTo(2 * split.get("train_pairs").asInt() / 8);
    assertThat(training.get("validation_before").get("pairs").asInt()).isEqualTo(split.get("validation_pairs").asInt());
    assertThat(training.get("time").get("tokens_per_s").asLong()).isPositive();
    assertThat(SparkTestSupport.spark().read().parquet(out.resolve("training/pairs").toString()).count())
        .isEqualTo(60);
    try (var runs = Files.list(out.resolve(OutputLayout.RUNS))) {
      JsonNode run = new ObjectMapper().readTree(runs.filter(p -> p.toString().endsWith(".json")).findFirst()
          .orElseThrow().toFile());
      assertThat(run.get("job").asText()).isEqualTo("finetune");
      assertThat(run.get("status").asText()).isEqualTo("succeeded");
      assertThat(run.get("training").get("best_epoch").asInt()).isBetween(0, 2);
    }

    Path evaluation = dir.resolve("evaluated");
    JobTestSupport.Result evaluate = cli("run", "jobs/evaluate.conf", "--profile", "local",
        "--set", "input.path=" + sample[0], "--set", "search.against=" + sample[1],
        "--set", "eval.matches=" + sample[2], "--set", "output.path=" + evaluation,
        "--set", "similarity.scorer=embedding", "--set", "encoder.model=" + model);
    assertThat(evaluate.exitCode()).as(evaluate.err()).isZero();
    JsonNode metrics = new ObjectMapper().readTree(evaluation.resolve("evaluation/metrics.json").toFile());
    assertThat(metrics.get("model").asText()).isEqualTo(model.toString());
    assertThat(metrics.get("a_to_b").get("recall@10").asDouble()).isGreaterThan(0.8);

    assertThat(training.get("blend").get("fitted_on").asText()).isEqualTo("validation pairs");
    assertThat(training.get("blend").get("positives").asLong()).isPositive();
    Path blended = dir.resolve("blended");
    JobTestSupport.Result learned = cli("run", "jobs/evaluate.conf", "--profile", "local",
        "--set", "input.path=" + sample[0], "--set", "search.against=" + sample[1],
        "--set", "eval.matches=" + sample[2], "--set", "output.path=" + blended, "--set", "encoder.model=" + model,
        "--set", "similarity.hybrid.learned=" + model.resolve("hybrid-blend.json"));
    assertThat(learned.exitCode()).as(learned.err()).isZero();
    JsonNode learnedMetrics = new ObjectMapper().readTree(blended.resolve("evaluation/metrics.json").toFile());
    assertThat(learnedMetrics.get("settings").get("hybrid.learned").asText()).endsWith("hybrid-blend.json");
    assertThat(learnedMetrics.get("settings").has("hybrid.embeddingWeight")).isFalse();
    assertThat(learnedMetrics.get("a_to_b").get("recall@10").asDouble()).isGreaterThan(0.8);
  }

  @Test
  void aCrossFittedPairwiseBlendIsFittedOnEveryTrainingQueryAndComparedOnTheValidationSlice() throws Exception {
    Path[] sample = labelledSample();
    Path out = dir.resolve("crossfit");
    JobTestSupport.Result result = finetune(sample, out, "finetune.blendFolds=2", "finetune.epochs=1",
        "finetune.blendObjective=pairwise");
    assertThat(result.exitCode()).as(result.err()).isZero();
    Path model = out.resolve(OutputLayout.MODEL);
    JsonNode training = new ObjectMapper().readTree(model.resolve("training.json").toFile());
    JsonNode blend = training.get("blend");
    assertThat(blend.get("fitted_on").asText()).isEqualTo("training pairs, cross-fitted in 2 folds");
    // every training pair's anchor is a query of its fold (among Abt-Buy's first 60 pairs one anchor has two)
    int trainPairs = training.get("split").get("train_pairs").asInt();
    assertThat(blend.get("queries").asInt()).isBetween(trainPairs - 1, trainPairs);
    assertThat(blend.get("positives").asLong()).isPositive();
    // two models, each trained on the other fold's pairs only, for the one epoch the kept model ran
    assertThat(blend.get("folds")).hasSize(2);
    int foldQueries = 0;
    for (JsonNode fold : blend.get("folds")) {
      assertThat(fold.get("epochs").asInt()).isEqualTo(1);
      assertThat(fold.get("train_pairs").asInt()).isBetween(1, trainPairs - 1);
      foldQueries += fold.get("queries").asInt();
    }
    assertThat(blend.get("folds").get(0).get("train_pairs").asInt() + blend.get("folds").get(1).get("train_pairs")
        .asInt()).isEqualTo(trainPairs);
    assertThat(foldQueries).isEqualTo(blend.get("queries").asInt());
    int validationPairs = training.get("split").get("validation_pairs").asInt();
    for (String which : List.of("hand_tuned", "learned")) {
      assertThat(blend.get("validation").get(which).get("pairs").asInt()).as(which).isEqualTo(validationPairs);
      assertThat(blend.get("validation").get(which).get("recall@10").asDouble()).as(which).isGreaterThan(0.8);
    }
    assertThat(training.get("hyper_parameters").get("blend_folds").asInt()).isEqualTo(2);
    assertThat(blend.get("objective").asText()).startsWith("pairwise");
    JsonNode file = new ObjectMapper().readTree(model.resolve("hybrid-blend.json").toFile());
    assertThat(file.get("intercept").asDouble()).isZero();  // differences of features carry no intercept
    // the partner outranks the other candidates: the cosines weigh positively
    assertThat(blend.get("coefficients").get("embedding").asDouble()).isPositive();
    JobTestSupport.Result unknown = finetune(sample, dir.resolve("unknown"), "finetune.blendObjective=listwise");
    assertThat(unknown.exitCode()).isNotZero();
    assertThat(unknown.err()).contains("finetune.blendObjective");
    JobTestSupport.Result bad = finetune(sample, dir.resolve("bad"), "finetune.blendFolds=1");
    assertThat(bad.exitCode()).isNotZero();
    assertThat(bad.err()).contains("finetune.blendFolds = 1");
  }

  @Test
  void badPairsFilesFailNamingTheFile() throws Exception {
    Path[] sample = labelledSample();
    Files.writeString(sample[2], "id_a,id_b\n" + Files.readAllLines(sample[2]).get(1) + "\n999999,10011646\n");
    JobTestSupport.Result unknown = finetune(sample, dir.resolve("o1"));
    assertThat(unknown.exitCode()).isEqualTo(2);
    assertThat(unknown.err()).contains("Training pairs file " + sample[2]).contains("id_a 999999 is not in")
        .contains("row 2");

    Files.writeString(sample[2], "abt,buy\n1,2\n");
    JobTestSupport.Result columns = finetune(sample, dir.resolve("o2"));
    assertThat(columns.exitCode()).isEqualTo(2);
    assertThat(columns.err()).contains("Training pairs file finetune.pairs = " + sample[2])
        .contains("needs columns id_a and id_b")
        .contains("columns found: abt, buy");

    Files.writeString(sample[2], "id_a,id_b,label\n" + Files.readAllLines(Path.of("sample-data/abt-buy/matches.csv"))
        .get(1) + ",maybe\n");
    JobTestSupport.Result label = finetune(sample, dir.resolve("o3"));
    assertThat(label.exitCode()).isEqualTo(2);
    assertThat(label.err()).contains(sample[2].toString()).contains("label = 'maybe'");

    List<String> star = new ArrayList<>(List.of("id_a,id_b"));  // every pair shares one item: nothing to learn
    String hub = Files.readAllLines(Path.of("sample-data/abt-buy/matches.csv")).get(1).split(",")[0];
    Files.readAllLines(Path.of("sample-data/abt-buy/matches.csv")).subList(1, 9)
        .forEach(line -> star.add(hub + "," + line.split(",")[1]));
    Files.write(sample[2], star);
    JobTestSupport.Result nothing = finetune(sample, dir.resolve("o5"), "finetune.validationFraction=0");
    assertThat(nothing.exitCode()).as(nothing.err()).isEqualTo(2);
    assertThat(nothing.err()).contains("pack only into batches of one");

    Path base = Files.createDirectories(dir.resolve("base"));  // a model folder the run would write over
    Files.writeString(base.resolve("tokenizer.json"), "{}");
    Files.writeString(base.resolve("model.onnx"), "not read: the run stops before");
    JobTestSupport.Result over = finetune(sample, base, "encoder.model=" + base);
    assertThat(over.exitCode()).isEqualTo(2);
    assertThat(over.err()).contains("is encoder.model = " + base);
    assertThat(base.resolve("_runs")).doesNotExist();

    JobTestSupport.Result both = finetune(sample, dir.resolve("o4"), "finetune.events=x.csv");
    assertThat(both.exitCode()).isEqualTo(2);
    assertThat(both.err()).contains("set exactly one of them");
    assertThat(dir.resolve("o1").resolve(OutputLayout.MODEL)).doesNotExist();
  }

  @Test
  void coEngagementEventsTrainAModelToo() throws Exception {
    Path out = dir.resolve("events");
    JobTestSupport.Result result = cli("run", "jobs/finetune.conf", "--profile", "local",
        "--set", "input.path=sample-data/abt-buy/products_b.csv", "--set", "search.against=",
        "--set", "finetune.pairs=", "--set", "finetune.events=sample-data/events/events.csv",
        "--set", "output.path=" + out, "--set", "finetune.epochs=1", "--set", "finetune.validationFraction=0",
        "--set", "finetune.minCount=5", "--set", "finetune.learnBlend=false",
        "--set", "encoder.maxTokens=64");
    assertThat(result.exitCode()).as(result.err()).isZero();
    JsonNode training = new ObjectMapper().readTree(out.resolve("model/training.json").toFile());
    JsonNode events = training.get("data").get("events");
    assertThat(events.get("pairs_kept").asInt()).isEqualTo(30);
    assertThat(events.get("events_rejected").asInt()).isEqualTo(3);
    assertThat(events.get("events_of_unknown_items").asInt()).isEqualTo(2);
    assertThat(training.get("split").get("by").asText()).isEqualTo("pair");
    assertThat(training.get("best_epoch").asInt()).isEqualTo(1);
    assertThat(SparkTestSupport.spark().read().parquet(out.resolve("training/rejected_events").toString()).count())
        .isEqualTo(5);
    assertThat(SparkTestSupport.spark().read().parquet(out.resolve("training/pairs").toString())
        .filter("pmi > 0").count()).isEqualTo(events.get("pairs_kept").asLong());
  }
}
