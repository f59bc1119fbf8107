package dev.itemsim.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The Spark standalone cluster of {@code scripts/local-cluster} (a master and two workers with one core and
 * 1.5 GB each, separate JVMs on loopback addresses of their own: Spark sees two machines), started once per
 * test JVM and stopped when it exits. The workers
 * report one fake GPU each, address {@value #FAKE_GPU}, for the GPU-scheduling tests; jobs that do not ask for
 * GPUs are not affected.
 */
final class LocalCluster {
  static final String FAKE_GPU = "7";
  private static LocalCluster shared;

  private final Path dir;
  private final String masterUrl;

  private LocalCluster(Path dir, String masterUrl) {
    this.dir = dir;
    this.masterUrl = masterUrl;
  }

  static synchronized LocalCluster shared() {
    if (shared == null) {
      Launcher.ensureJar();
      Path dir;
      try {
        dir = Files.createTempDirectory(Launcher.ROOT.resolve("target"), "local-cluster-test-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Launcher.ProcessResult started = Launcher.exec(List.of(Launcher.ROOT.resolve("scripts/local-cluster").toString(),
              "start", "--dir", dir.toString(), "--workers", "2", "--cores", "1", "--memory", "1536m",
              "--fake-gpus", FAKE_GPU, "--distinct-hosts"), Duration.ofMinutes(5), dir.resolve("start.log"));
      if (started.exitCode() != 0 || !Files.exists(dir.resolve("master-url"))) {
        new LocalCluster(dir, null).stop();
        throw new IllegalStateException("scripts/local-cluster start failed:\n" + started.output());
      }
      LocalCluster cluster = new LocalCluster(dir, read(dir.resolve("master-url")).strip());
      Runtime.getRuntime().addShutdownHook(new Thread(cluster::stop, "stop-local-cluster"));
      shared = cluster;
    }
    return shared;
  }

  String masterUrl() {
    return masterUrl;
  }

  Path dir() {
    return dir;
  }

  /** {@code scripts/itemsim submit} of {@code spec} to this cluster with small executors, output in {@code log}. */
  Launcher.Submission submit(Path log, Path spec, List<String> sparkOptions, List<String> sets) {
    return submit(log, spec, sparkOptions, sets, Map.of());
  }

  Launcher.Submission submit(Path log, Path spec, List<String> sparkOptions, List<String> sets,
      Map<String, String> env) {
    pruneJars();
    List<String> args = new ArrayList<>(List.of("submit", "--master", masterUrl, "--driver-memory", "1g",
        "--executor-memory", "1g", "--conf", "spark.ui.enabled=false"));
    args.addAll(sparkOptions);
    args.add(spec.toString());
    for (String s : sets) {
      args.add("--set");
      args.add(s);
    }
    return Launcher.start(log, args, env);
  }

  /**
   * Deletes the copies of the application jar in the executors' work folders (one per executor and
   * application, 400+ MB each); tests submit one application at a time, so earlier ones are done.
   */
  private void pruneJars() {
    try (Stream<Path> files = Files.walk(dir.resolve("work"))) {
      for (Path jar : files.filter(p -> p.toString().endsWith(".jar")).toList()) {
        Files.deleteIfExists(jar);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Executor JVMs the workers are running now, with the application they belong to. */
  List<Executor> executors() {
    List<Executor> executors = new ArrayList<>();
    try (Stream<Path> pids = Files.list(dir.resolve("pids"))) {
      for (Path pidFile : pids.filter(p -> p.getFileName().toString().startsWith("worker-")).toList()) {
        String worker = pidFile.getFileName().toString().replace(".pid", "");
        long pid = Long.parseLong(read(pidFile).strip());
        ProcessHandle.of(pid).ifPresent(w -> w.children().forEach(child -> executor(worker, child)
            .ifPresent(executors::add)));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return executors;
  }

  private Optional<Executor> executor(String worker, ProcessHandle process) {
    String[] args = process.info().arguments().orElse(new String[0]);
    if (List.of(args).stream().noneMatch(a -> a.contains("CoarseGrainedExecutorBackend"))) {
      return Optional.empty();
    }
    String app = argument(args, "--app-id");
    String id = argument(args, "--executor-id");
    return Optional.of(new Executor(process, app, id,
        dir.resolve("work").resolve(worker).resolve(app).resolve(id).resolve("stderr")));
  }

  private static String argument(String[] args, String name) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    throw new IllegalStateException("No " + name + " in executor command line " + List.of(args));
  }

  /** An executor JVM of an application, and its log. */
  record Executor(ProcessHandle process, String appId, String id, Path stderr) {
    String log() {
      return Files.exists(stderr) ? read(stderr) : "";
    }

    /** Kills the JVM as the kernel's OOM killer or a lost machine would: no shutdown hooks. */
    void kill() {
      process.destroyForcibly();
      process.onExit().join();
    }
  }

  void stop() {
    Launcher.exec(List.of(Launcher.ROOT.resolve("scripts/local-cluster").toString(), "stop", "--dir",
        dir.toString()), Duration.ofMinutes(2), dir.resolve("stop.log"));
  }

  static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
