package dev.itemsim.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs {@code scripts/itemsim} and {@code scripts/local-cluster} as a user would, in child processes with
 * {@code SPARK_HOME} unset (so Spark comes from the jars Maven resolved), after making sure
 * {@code target/itemsim.jar} holds the classes the tests were compiled with.
 */
final class Launcher {
  static final Path ROOT = Path.of("").toAbsolutePath();
  private static boolean jarChecked;

  private Launcher() {}

  /**
   * Builds {@code target/itemsim.jar} from the compiled {@code target/classes} when it is missing or older:
   * {@code mvn package} without compiling again (the test run already did, and recompiling would rewrite classes
   * this JVM is loading) and without tests.
   */
  static synchronized void ensureJar() {
    if (jarChecked) {
      return;
    }
    Path jar = ROOT.resolve("target/itemsim.jar");
    if (!Files.exists(jar) || newestClass().compareTo(modified(jar)) > 0) {
      ProcessResult build = exec(List.of("mvn", "-q", "-B", "-Dstyle.color=never", "package",
          "-Dmaven.main.skip=true", "-Dmaven.resources.skip=true", "-Dmaven.test.skip=true"),
          Duration.ofMinutes(10), ROOT.resolve("target/itemsim-jar-build.log"));
      if (build.exitCode() != 0 || !Files.exists(jar)) {
        throw new IllegalStateException("Could not build target/itemsim.jar:\n" + build.output());
      }
    }
    jarChecked = true;
  }

  private static FileTime newestClass() {
    try (Stream<Path> files = Files.walk(ROOT.resolve("target/classes"))) {
      return files.filter(Files::isRegularFile).map(Launcher::modified).max(FileTime::compareTo)
          .orElse(FileTime.fromMillis(0));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static FileTime modified(Path p) {
    try {
      return Files.getLastModifiedTime(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code scripts/itemsim ARGS...} started in the background, output (stdout and stderr) to {@code log}. */
  static Submission start(Path log, List<String> args, Map<String, String> env) {
    ensureJar();
    List<String> command = new ArrayList<>();
    command.add(ROOT.resolve("scripts/itemsim").toString());
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().remove("SPARK_HOME");
    pb.environment().putAll(env);
    try {
      return new Submission(pb.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  record ProcessResult(int exitCode, String output) {}

  /** Runs {@code command} in the project folder to completion (output also kept in {@code log}). */
  static ProcessResult exec(List<String> command, Duration timeout, Path log) {
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true)
          .redirectOutput(log.toFile());
      pb.environment().remove("SPARK_HOME");
      Process p = pb.start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new IllegalStateException(command + " did not finish within " + timeout);
      }
      return new ProcessResult(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A launcher process running in the background and its log. */
  static final class Submission implements AutoCloseable {
    private final Process process;
    private final Path log;

    Submission(Process process, Path log) {
      this.process = process;
      this.log = log;
    }

    /** The pid of the JVM (the launcher execs java, so it is the process started). */
    long pid() {
      return process.pid();
    }

    Process process() {
      return process;
    }

    String log() {
      try {
        return Files.readString(log, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Waits until the log contains {@code text}; false when the process ended or the time ran out first. */
    boolean awaitLog(String text, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        if (log().contains(text)) {
          return true;
        }
        if (!process.isAlive()) {
          return log().contains(text);
        }
        sleep(200);
      }
      return false;
    }

    /** Waits for the process to end and returns its exit code. */
    int await(Duration timeout) {
      try {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          close();
          throw new IllegalStateException("The launcher did not finish within " + timeout + "; its log:\n" + log());
        }
        return process.exitValue();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    /** Ends the process and its children now, like {@code kill -9}. */
    @Override
    public void close() {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
