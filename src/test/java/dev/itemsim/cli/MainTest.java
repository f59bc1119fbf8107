package dev.itemsim.cli;

import static dev.itemsim.job.JobTestSupport.catalog;
import static dev.itemsim.job.JobTestSupport.cli;
import static dev.itemsim.job.JobTestSupport.run;
import static dev.itemsim.job.JobTestSupport.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import dev.itemsim.job.JobTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  @TempDir
  Path dir;

  @Test
  void unknownOptionExitsWithTwo() {
    JobTestSupport.Result r = cli("run", "jobs/similar-items.conf", "--sett", "x=1");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("--sett");
    assertThat(cli("frobnicate").exitCode()).isEqualTo(2);
    assertThat(cli().exitCode()).isEqualTo(2);
  }

  @Test
  void helpAndVersionWorkOnEveryCommand() {
    for (String command : List.of("run", "show", "report", "split-pairs", "generate-catalog")) {
      JobTestSupport.Result r = cli(command, "--help");
      assertThat(r.exitCode()).isZero();
      assertThat(r.out()).contains("Usage: itemsim " + command);
      JobTestSupport.Result v = cli(command, "--version");
      assertThat(v.exitCode()).isZero();
      assertThat(v.out()).contains(Main.VERSION);
    }
  }

  @Test
  void aJobOfTheWrongTypeOrASplitOverItsOwnFilesExitsWithTwo() throws Exception {
    Path spec = dir.resolve("list.conf");
    Files.writeString(spec, "job = [similar-items]\ninput.path = in\noutput.path = out\n");
    JobTestSupport.Result r = cli("run", spec.toString());
    assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).contains("job");
    Path pairs = dir.resolve("pairs.csv");
    Files.writeString(pairs, "id_a,id_b\na,b\n");
    JobTestSupport.Result split = cli("split-pairs", "--pairs", pairs.toString(), "--train", pairs.toString(),
        "--test", dir.resolve("test.csv").toString());
    assertThat(split.exitCode()).isEqualTo(2);
    assertThat(split.err()).contains("must be three different files");
    assertThat(Files.readString(pairs)).isEqualTo("id_a,id_b\na,b\n");
  }

  @Test
  void unknownConfigKeyExitsWithTwoAndSuggests() {
    JobTestSupport.Result r = run(Path.of("jobs/similar-items.conf"), "similarity.topn=3");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("Unknown configuration key 'similarity.topn'").contains("similarity.topN");
  }

  @Test
  void badEncoderChoicesExitWithTwoListingTheValidOnes() {
    JobTestSupport.Result engine = run(Path.of("jobs/similar-items.conf"), "encoder.engine=tensorflow");
    assertThat(engine.exitCode()).isEqualTo(2);
    assertThat(engine.err()).contains("encoder.engine = 'tensorflow': use auto, onnxruntime, pytorch");
    JobTestSupport.Result pooling = run(Path.of("jobs/similar-items.conf"), "encoder.pooling=max");
    assertThat(pooling.exitCode()).isEqualTo(2);
    assertThat(pooling.err()).contains("encoder.pooling = 'max': use auto, mean or cls");
    JobTestSupport.Result fp16 = run(Path.of("jobs/similar-items.conf"), "encoder.fp16=true", "encoder.device=cpu");
    assertThat(fp16.exitCode()).isEqualTo(2);
    assertThat(fp16.err()).contains("encoder.fp16 = true needs the PyTorch engine on a GPU");
  }

  @Test
  void missingColumnExitsWithTwoNamingIt() throws Exception {
    Path bad = dir.resolve("no-title");
    SparkTestSupport.spark().createDataFrame(List.of(RowFactory.create("1", "x")),
            new StructType().add("id", DataTypes.StringType).add("name", DataTypes.StringType))
        .write().mode(SaveMode.Overwrite).parquet(bad.toString());
    JobTestSupport.Result r = run(spec(dir, bad, dir.resolve("out")));
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("no column 'title'").contains("columns found: id, name");
    assertThat(dir.resolve("out/similar_items")).doesNotExist();
  }

  @Test
  void badModelFolderFoundOnExecutorsStillExitsWithTwo() throws Exception {
    Path catalog = catalog(dir, "c", 5, List.of());
    JobTestSupport.Result r = run(spec(dir, catalog, dir.resolve("out")), "encoder.model=" + dir.resolve("no-model"),
        "similarity.scorer=embedding");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("neither builtin:NAME");
  }

  @Test
  void unreadableInputExitsWithTwoNamingThePath() throws Exception {
    Path missing = dir.resolve("does-not-exist");
    JobTestSupport.Result r = run(spec(dir, missing, dir.resolve("out")));
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains(missing.toString());
  }

  @Test
  void csvInputWorksAndShowPrintsNeighboursWithTitles() throws Exception {
    Path csv = dir.resolve("catalog.csv");
    Files.writeString(csv, """
        id,title,brand
        a1,Sony Turntable - PSLX350H,Sony
        a2,Sony PS-LX350H Belt-Drive Turntable,Sony
        a3,Bose Acoustimass 5 Series III Speaker System,Bose
        a4,Canon PowerShot digital camera,Canon
        """);
    Path out = dir.resolve("csv-out");
    assertThat(run(spec(dir, csv, out), "input.format=csv", "text.template={title}").exitCode()).isZero();
    JobTestSupport.Result shown = cli("show", "--output", out.toString(), "--item", "a1");
    assertThat(shown.exitCode()).as(shown.err()).isZero();
    assertThat(shown.out()).contains("run_date=2026-03-01").contains("Sony Turntable - PSLX350H");
    String firstNeighbour = shown.out().lines().filter(l -> l.trim().startsWith("1 ")).findFirst().orElseThrow();
    assertThat(firstNeighbour).contains("a2").contains("Sony PS-LX350H");

    assertThat(cli("show", "--output", out.toString(), "--item", "a1", "--run-date", "2020-01-01").exitCode())
        .isEqualTo(2);
  }
}
