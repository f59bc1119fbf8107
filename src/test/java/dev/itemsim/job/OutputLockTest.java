package dev.itemsim.job;

import static dev.itemsim.job.OutputFixtures.hadoop;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputLockTest {
  @TempDir
  Path dir;

  private static FileSystem fs() throws Exception {
    return FileSystem.getLocal(new Configuration());
  }

  private Path out() {
    return dir.resolve("out");
  }

  private void writeLock(String runId, String host, long pid, Instant heartbeat) throws Exception {
    Files.createDirectories(out());
    Path file = out().resolve(OutputLock.LOCK);
    Files.writeString(file, "run_id=" + runId + "\nhost=" + host + "\npid=" + pid + "\nsince=2026-01-01T00:00:00Z\n");
    Files.setLastModifiedTime(file, FileTime.from(heartbeat));
  }

  private String lockContent() throws Exception {
    return Files.readString(out().resolve(OutputLock.LOCK));
  }

  @Test
  void aSecondRunIsRefusedWithTheHolderNamedAndTheFirstRunsStagingKept() throws Exception {
    try (OutputLock first = OutputLock.acquire(fs(), hadoop(out()), "run-a")) {
      Path staged = out().resolve("_staging/run-a/embeddings");
      OutputFixtures.table(staged, "new");
      assertThatThrownBy(() -> OutputLock.acquire(fs(), hadoop(out()), "run-b"))
          .isInstanceOf(OutputLockedException.class).isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("output.path = " + out()).hasMessageContaining("run run-a")
          .hasMessageContaining("host " + OutputLock.host())
          .hasMessageContaining("pid " + ProcessHandle.current().pid()).hasMessageContaining("since ");
      assertThat(staged.resolve("part-0.parquet")).hasContent("new");
      assertThatCode(first::checkHeld).doesNotThrowAnyException();
    }
  }

  @Test
  void releaseDeletesTheLockAndTheNextRunGetsIt() throws Exception {
    OutputLock first = OutputLock.acquire(fs(), hadoop(out()), "run-a");
    assertThat(lockContent()).contains("run_id=run-a");
    first.close();
    assertThat(out().resolve(OutputLock.LOCK)).doesNotExist();
    try (OutputLock second = OutputLock.acquire(fs(), hadoop(out()), "run-b")) {
      assertThat(lockContent()).contains("run_id=run-b");
    }
  }

  @Test
  void aLockWhoseProcessIsDeadOnThisHostIsBroken() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    writeLock("killed-run", OutputLock.host(), gone.pid(), Instant.now());
    try (OutputLock lock = OutputLock.acquire(fs(), hadoop(out()), "run-b")) {
      assertThat(lockContent()).contains("run_id=run-b");
    }
  }

  @Test
  void aLockWithAnOldHeartbeatFromAnotherHostIsBroken() throws Exception {
    writeLock("lost-run", "elsewhere.example", 1, Instant.now().minus(Duration.ofMinutes(3)));
    try (OutputLock lock = OutputLock.acquire(fs(), hadoop(out()), "run-b")) {
      assertThat(lockContent()).contains("run_id=run-b");
    }
  }

  @Test
  void aLockWithAFreshHeartbeatFromAnotherHostIsKept() throws Exception {
    writeLock("busy-run", "elsewhere.example", 4242, Instant.now().minusSeconds(30));
    assertThatThrownBy(() -> OutputLock.acquire(fs(), hadoop(out()), "run-b"))
        .isInstanceOf(OutputLockedException.class)
        .hasMessageContaining("output.path = " + out())
        .hasMessageContaining("run busy-run (host elsewhere.example, pid 4242, since 2026-01-01T00:00:00Z)");
    assertThat(lockContent()).contains("run_id=busy-run");
  }

  @Test
  void anIncompleteLockIsKeptUntilItsHeartbeatIsOld() throws Exception {
    Files.createDirectories(out());
    Files.writeString(out().resolve(OutputLock.LOCK), "");
    assertThatThrownBy(() -> OutputLock.acquire(fs(), hadoop(out()), "run-b"))
        .isInstanceOf(OutputLockedException.class).hasMessageContaining("an unknown run");
    Files.setLastModifiedTime(out().resolve(OutputLock.LOCK), FileTime.from(Instant.now().minusSeconds(600)));
    assertThatCode(() -> OutputLock.acquire(fs(), hadoop(out()), "run-b").close()).doesNotThrowAnyException();
  }

  @Test
  void theHeartbeatKeepsTheLockFresh() throws Exception {
    try (OutputLock lock = OutputLock.acquire(fs(), hadoop(out()), "run-a", Duration.ofMillis(50),
        Duration.ofSeconds(1))) {
      Path file = out().resolve(OutputLock.LOCK);
      FileTime old = FileTime.from(Instant.now().minusSeconds(3600));
      Files.setLastModifiedTime(file, old);
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (Files.getLastModifiedTime(file).equals(old) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(Files.getLastModifiedTime(file).toInstant()).isAfter(Instant.now().minusSeconds(60));
    }
  }

  @Test
  void aLockTakenOverIsNoticedAndNotDeleted() throws Exception {
    OutputLock lock = OutputLock.acquire(fs(), hadoop(out()), "run-a");
    writeLock("run-c", "elsewhere.example", 7, Instant.now());
    assertThatThrownBy(lock::checkHeld).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("run-a no longer holds").hasMessageContaining("run run-c");
    lock.close();
    assertThat(lockContent()).contains("run_id=run-c");
  }

  @Test
  void anOutputPathUnderAFileCannotBeWritten() throws Exception {
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    assertThatThrownBy(() -> OutputLock.acquire(fs(), hadoop(file.resolve("out")), "run-a"))
        .isInstanceOf(InvalidInputException.class).isNotInstanceOf(OutputLockedException.class)
        .hasMessageStartingWith("output.path = " + file.resolve("out") + " cannot be written: ");
    assertThatThrownBy(() -> OutputLock.acquire(fs(), hadoop(file), "run-a"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("output.path = " + file + " cannot be written: it is a file");
  }

  @Test
  void anOutputPathEqualToOrInsideAnInputIsRejected() {
    Configuration conf = new Configuration();
    String in = dir.resolve("catalog").toString();
    assertThatThrownBy(() -> OutputLock.requireOutsideInputs(conf, in, Map.of("input.path", in)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith("output.path = " + in + " is input.path = " + in);
    assertThatThrownBy(() -> OutputLock.requireOutsideInputs(conf, in + "/out", inputs("input.path", in + "/",
        "search.against", "")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith("output.path = " + in + "/out is inside input.path = " + in + "/");
    assertThatThrownBy(() -> OutputLock.requireOutsideInputs(conf, "file://" + in + "/x/../out",
        inputs("input.path", dir.resolve("other").toString(), "search.against", in)))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("is inside search.against = " + in);
  }

  @Test
  void aSymbolicLinkDoesNotHideAnOutputInsideAnInput() throws Exception {
    Path in = Files.createDirectories(dir.resolve("catdir"));
    Path link = Files.createSymbolicLink(dir.resolve("catlink"), in);
    assertThatThrownBy(() -> OutputLock.requireOutsideInputs(new Configuration(), link.resolve("out").toString(),
        Map.of("input.path", in.toString())))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("is inside input.path = " + in);
    assertThatThrownBy(() -> OutputLock.requireOutsideInputs(new Configuration(), in.resolve("model").toString(),
        Map.of("encoder.model", link.resolve("model").toString())))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("is encoder.model = " + link);
  }

  @Test
  void anOutputPathBesideTheInputsIsAccepted() {
    Configuration conf = new Configuration();
    String in = dir.resolve("catalog").toString();
    assertThatCode(() -> OutputLock.requireOutsideInputs(conf, in + "-out", inputs("input.path", in,
        "search.against", "", "eval.matches", dir.resolve("matches.csv").toString()))).doesNotThrowAnyException();
    assertThatCode(() -> OutputLock.requireOutsideInputs(conf, dir.toString() + "/out",
        inputs("input.path", dir.resolve("out-catalog").toString()))).doesNotThrowAnyException();
    assertThatCode(() -> OutputLock.requireOutsideInputs(conf, in + "/out",
        inputs("input.path", "nosuchfs://bucket" + in))).doesNotThrowAnyException();
  }

  private static Map<String, String> inputs(String... keysAndPaths) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndPaths.length; i += 2) {
      m.put(keysAndPaths[i], keysAndPaths[i + 1]);
    }
    return m;
  }
}
