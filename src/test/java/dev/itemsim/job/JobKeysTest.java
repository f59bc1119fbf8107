package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import dev.itemsim.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A key a job does not read is an error that names the job; keys left at their defaults are fine. */
class JobKeysTest {
  @TempDir
  Path dir;

  private Path spec(String... lines) throws Exception {
    Path p = Files.createTempFile(dir, "job", ".conf");
    Files.write(p, List.of(lines));
    return p;
  }

  @Test
  void similarItemsRefusesEvaluationKeys() throws Exception {
    Path spec = spec("job = similar-items", "input.path = in", "output.path = out", "eval.matches = m.csv");
    assertThatThrownBy(() -> SimilarItemsConfig.from(ConfigLoader.load(spec, "local", List.of())))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("eval.matches")
        .hasMessageContaining("is not used by the similar-items job")
        .hasMessageContaining("belongs to the evaluate job");
  }

  @Test
  void evaluateRefusesRunDateAndTopN() throws Exception {
    Path spec = spec("job = evaluate", "input.path = in", "output.path = out", "eval.matches = m.csv");
    assertThatThrownBy(() -> EvaluateConfig.from(ConfigLoader.load(spec, null, List.of("run.date=2026-01-01"))))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("run.date")
        .hasMessageContaining("is not used by the evaluate job");
    assertThatThrownBy(() -> EvaluateConfig.from(ConfigLoader.load(spec, null, List.of("similarity.topN=5"))))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.topN")
        .hasMessageContaining("evaluate job");
    assertThatThrownBy(() -> EvaluateConfig.from(ConfigLoader.load(spec, null,
        List.of("run.incremental.spareNeighbors=3"))))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("run.incremental.spareNeighbors")
        .hasMessageContaining("belongs to the similar-items job");
  }

  @Test
  void incrementalRunKeysAreReadAndChecked() throws Exception {
    Path spec = spec("job = similar-items", "input.path = in", "output.path = out");
    SimilarItemsConfig config = SimilarItemsConfig.from(ConfigLoader.load(spec, "local",
        List.of("run.full=true", "run.incremental.spareNeighbors=4", "run.incremental.idfDrift=0.2")));
    assertThat(config.full()).isTrue();
    assertThat(config.incremental().spare()).isEqualTo(4);
    assertThat(config.incremental().idfDrift()).isEqualTo(0.2);
    assertThat(config.incremental().maxRecomputedFraction()).isEqualTo(0.25);
    assertThatThrownBy(() -> SimilarItemsConfig.from(ConfigLoader.load(spec, "local",
        List.of("run.incremental.maxRecomputedFraction=2")))).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("run.incremental.maxRecomputedFraction");
    assertThatThrownBy(() -> SimilarItemsConfig.from(ConfigLoader.load(spec, "local",
        List.of("run.incremental.spare=4")))).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("run.incremental.spare");
  }

  @Test
  void everyRetrieversKeysAreAcceptedWhateverTheScorer() throws Exception {
    Path spec = spec("job = similar-items", "input.path = in", "output.path = out", "similarity.scorer = embedding",
        "similarity.hybrid.embeddingWeight = 0.5", "similarity.lexical.ngram = 4", "spark.sql.shuffle.partitions = 3");
    SimilarItemsConfig config = SimilarItemsConfig.from(ConfigLoader.load(spec, "local", List.of()));
    assertThat(config.retriever().name()).isEqualTo("embedding");
  }

  @Test
  void theShippedSpecsPassTheirJobsKeyCheck() {
    for (String spec : List.of("jobs/similar-items.conf", "jobs/similar-items-zh.conf")) {
      assertThat(SimilarItemsConfig.from(ConfigLoader.load(Path.of(spec), "local", List.of())).topN()).isEqualTo(10);
    }
    for (String spec : List.of("jobs/evaluate.conf", "jobs/evaluate-amazon-google.conf")) {
      assertThat(EvaluateConfig.from(ConfigLoader.load(Path.of(spec), "local", List.of())).listSize()).isEqualTo(50);
    }
  }

  @Test
  void finetuneReadsItsOwnKeysAndRefusesSearchKeysItDoesNotUse() throws Exception {
    FinetuneConfig config = FinetuneConfig.from(ConfigLoader.load(Path.of("jobs/finetune.conf"), "local", List.of()));
    assertThat(config.training().epochs()).isEqualTo(4);
    assertThat(config.pairsPath()).isEqualTo("target/splits/abt-buy-train.csv");
    assertThat(config.trainingEncoder().engine()).isEqualTo(dev.itemsim.embed.EngineChoice.PYTORCH);
    assertThatThrownBy(() -> FinetuneConfig.from(ConfigLoader.load(Path.of("jobs/finetune.conf"), "local",
        List.of("similarity.topN=5")))).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("is not used by the finetune job").hasMessageContaining("similar-items job");
    assertThatThrownBy(() -> EvaluateConfig.from(ConfigLoader.load(Path.of("jobs/evaluate.conf"), "local",
        List.of("finetune.epochs=3")))).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("belongs to the finetune job");
    assertThatThrownBy(() -> FinetuneConfig.from(ConfigLoader.load(Path.of("jobs/finetune.conf"), "local",
        List.of("encoder.engine=onnxruntime")))).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("fine-tuning runs on the PyTorch engine");
  }

  @Test
  void aBadRetrieverOptionNamesItsKey() throws Exception {
    Path spec = spec("job = similar-items", "input.path = in", "output.path = out");
    assertThatThrownBy(() -> SimilarItemsConfig.from(ConfigLoader.load(spec, null,
        List.of("similarity.scorer=hybrid", "similarity.hybrid.embeddingWeight=1.5"))))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.hybrid.embeddingWeight");
    assertThatThrownBy(() -> SimilarItemsConfig.from(ConfigLoader.load(spec, null, List.of("similarity.scorer=bm25"))))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.scorer = 'bm25'")
        .hasMessageContaining("embedding, lexical, hybrid");
  }
}
