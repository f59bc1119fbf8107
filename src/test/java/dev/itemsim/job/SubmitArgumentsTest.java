package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code scripts/itemsim submit} hands to {@code spark-submit}: a stand-in {@code $SPARK_HOME/bin/spark-submit}
 * prints its arguments, one per line.
 */
@Tag("integration")
class SubmitArgumentsTest {
  private static final String ITEMSIM_OPTS =
      "--add-modules=jdk.incubator.vector -Dai.djl.offline=true -Dai.djl.onnx.disable_alternative=true";

  @TempDir
  Path dir;

  @Test
  void theUsersJavaOptionsAreAddedToItemsimsNotPutInTheirPlace() throws Exception {
    List<String> args = submitted("--master", "local[2]", "--conf", "spark.executor.extraJavaOptions=-Xlog:gc",
        "--executor-memory", "1g", "jobs/similar-items.conf", "--set", "run.date=2026-03-01");

    assertThat(args).containsSubsequence("--conf", "spark.driver.extraJavaOptions=" + ITEMSIM_OPTS)
        .containsSubsequence("--conf", "spark.executor.extraJavaOptions=" + ITEMSIM_OPTS + " -Xlog:gc")
        .containsSubsequence("--master", "local[2]", "--executor-memory", "1g")
        .endsWith("run", "--profile", "cluster", Launcher.ROOT.resolve("jobs/similar-items.conf").toString(),
            "--set", "run.date=2026-03-01");
    assertThat(args.stream().filter(a -> a.startsWith("spark.executor.extraJavaOptions="))).hasSize(1);
    assertThat(args).doesNotContainSequence("--conf", "--conf").last().isNotEqualTo("--conf");
  }

  @Test
  void withoutJavaOptionsOfTheUsersItemsimsAreSet() throws Exception {
    List<String> args = submitted("--master", "local[2]", "jobs/similar-items.conf");

    assertThat(args).containsSubsequence("--conf", "spark.driver.extraJavaOptions=" + ITEMSIM_OPTS)
        .containsSubsequence("--conf", "spark.executor.extraJavaOptions=" + ITEMSIM_OPTS);
  }

  private List<String> submitted(String... args) throws Exception {
    Path bin = Files.createDirectories(dir.resolve("spark/bin"));
    Path submit = bin.resolve("spark-submit");
    Files.writeString(submit, "#!/usr/bin/env bash\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
    Files.setPosixFilePermissions(submit, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path log = dir.resolve("submit.log");
    Launcher.Submission run = Launcher.start(log, List.of(prepend("submit", args)),
        Map.of("SPARK_HOME", dir.resolve("spark").toString()));
    assertThat(run.await(Duration.ofMinutes(2))).as(run.log()).isZero();
    List<String> lines = Files.readAllLines(log);
    return lines.subList(lines.indexOf("--class"), lines.size());
  }

  private static String[] prepend(String first, String[] rest) {
    String[] all = new String[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }
}
