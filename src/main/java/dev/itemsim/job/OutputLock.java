package dev.itemsim.job;

import dev.itemsim.InvalidInputException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run's exclusive claim on an output path: the file {@code <output>/_lock}, created only if absent,
 * holding the run id, host, pid and start time of its holder, and touched by a heartbeat.
 *
 * <p>A run uses the output path only inside the lock, in this order:
 * <pre>{@code
 * OutputLock.requireOutsideInputs(conf, outputPath, Map.of("input.path", inputPath, ...)); // before reading
 * try (OutputLock lock = OutputLock.acquire(fs, root, runId)) {   // before reading, too
 *   OutputPublisher.recover(lock);                  // repair what a killed run left
 *   OutputPublisher publisher = new OutputPublisher(lock);
 *   ... write the tables to publisher.stage(...) ...
 *   publisher.commit();                             // or abort() on failure
 *   ... write the run summary ...
 * }                                                 // releases: deletes _lock
 * }</pre>
 *
 * <p>{@link #acquire} fails up front, as an {@link InvalidInputException} (exit code 2), when the output path
 * cannot be written, and as an {@link OutputLockedException} (also exit code 2) when a live run holds the
 * lock. A lock is stale, and is broken with a warning naming its holder, when its holder's pid is not running
 * on this host, or when its heartbeat (the file's modification time, refreshed every
 * {@link #DEFAULT_HEARTBEAT_INTERVAL}) is older than {@link #DEFAULT_STALE_AFTER}. The heartbeat compares
 * clocks of different hosts, so their skew must stay well below that limit; and "this host" is the host name, so
 * containers sharing a host name must not share an output path. A run stalled for longer than the limit may
 * lose its lock to another run: {@link #checkHeld()}, called before the commit manifest is written, then stops
 * it from publishing.
 *
 * <p>Exclusive creation is atomic on HDFS and on local disks (the lock is created with {@code O_EXCL} there);
 * the file system must also support {@link FileSystem#setTimes}. Object stores give neither promise, nor the
 * atomic renames {@link OutputPublisher} needs.
 */
final class OutputLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OutputLock.class);
  static final String LOCK = OutputLayout.LOCK;
  /** How often the holder touches its lock file. */
  static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(10);
  /** A lock whose heartbeat is older than this is stale, whichever host holds it. */
  static final Duration DEFAULT_STALE_AFTER = Duration.ofMinutes(2);
  private static final String UNKNOWN_HOST = "unknown";
  private static final String HOST = localHost();
  private static final int ATTEMPTS = 3;

  private final FileSystem fs;
  private final FileSystem lockFs;
  private final Path root;
  private final Path file;
  private final String runId;
  private final String content;
  private final Duration staleAfter;
  private final ScheduledExecutorService heartbeat;
  private volatile String lost;
  private volatile boolean closed;

  private OutputLock(FileSystem fs, FileSystem lockFs, Path root, String runId, String content,
      Duration interval, Duration staleAfter) {
    this.fs = fs;
    this.lockFs = lockFs;
    this.root = root;
    this.file = new Path(root, LOCK);
    this.runId = runId;
    this.content = content;
    this.staleAfter = staleAfter;
    this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "itemsim-output-lock-heartbeat");
      t.setDaemon(true);
      return t;
    });
    heartbeat.scheduleWithFixedDelay(this::beat, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** {@link #acquire(FileSystem, Path, String, Duration, Duration)} with the default heartbeat and limit. */
  static OutputLock acquire(FileSystem fs, Path root, String runId) {
    return acquire(fs, root, runId, DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_STALE_AFTER);
  }

  /**
   * Creates {@code root} if needed and takes its lock for {@code runId}, breaking a stale one.
   *
   * @throws InvalidInputException {@code output.path = <root> cannot be written: <reason>}
   * @throws OutputLockedException when a live run holds the lock, naming it
   */
  static OutputLock acquire(FileSystem fs, Path root, String runId, Duration heartbeatInterval, Duration staleAfter) {
    if (staleAfter.compareTo(heartbeatInterval.multipliedBy(2)) < 0) {
      throw new IllegalArgumentException("staleAfter " + staleAfter + " must be at least twice the heartbeat interval "
          + heartbeatInterval);
    }
    FileSystem lockFs = fs instanceof ChecksumFileSystem checksummed ? checksummed.getRawFileSystem() : fs;
    Path file = new Path(root, LOCK);
    String content = describeSelf(runId);
    requireDirectory(lockFs, root);
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      if (tryCreate(lockFs, root, file, content)) {
        LOG.info("Took the lock {} for run {}", file, runId);
        return new OutputLock(fs, lockFs, root, runId, content, heartbeatInterval, staleAfter);
      }
      Observed holder = observe(lockFs, file, root);
      if (holder == null) {
        continue;
      }
      String staleness = holder.staleness(staleAfter);
      if (staleness == null || attempt == ATTEMPTS) {
        throw new OutputLockedException("output.path = " + root + " is in use by " + holder.describe()
            + ", last heartbeat " + holder.ageSeconds() + " s ago. Wait for that run to finish; if it is gone, its"
            + " lock " + file + " is broken once its heartbeat is " + staleAfter.toSeconds()
            + " s old (or at once from its own host), or delete the file by hand.");
      }
      breakStale(lockFs, root, file, holder, staleness);
    }
    throw new OutputLockedException("output.path = " + root + " is in use: its lock " + file + " changed hands "
        + ATTEMPTS + " times while run " + runId + " tried to take it");
  }

  /**
   * Rejects an output path equal to or inside one of the inputs (keyed by their configuration key, e.g.
   * {@code input.path}, {@code search.against}; blank values are skipped). Paths are compared qualified by
   * their own file system; a path whose file system cannot be resolved is compared as written.
   *
   * @throws InvalidInputException naming {@code output.path} and the input's key
   */
  static void requireOutsideInputs(Configuration conf, String outputPath, Map<String, String> inputsByKey) {
    URI output = qualified(conf, outputPath);
    for (Map.Entry<String, String> input : inputsByKey.entrySet()) {
      if (input.getValue() == null || input.getValue().isBlank()) {
        continue;
      }
      URI in = qualified(conf, input.getValue());
      if (!Objects.equals(in.getScheme(), output.getScheme())
          || !Objects.equals(in.getAuthority(), output.getAuthority())) {
        continue;
      }
      String inPath = resolved(in);
      String outPath = resolved(output);
      boolean equal = outPath.equals(inPath);
      if (equal || outPath.startsWith(inPath.endsWith("/") ? inPath : inPath + "/")) {
        throw new InvalidInputException("output.path = " + outputPath + (equal ? " is " : " is inside ")
            + input.getKey() + " = " + input.getValue() + ": a run would write into what it reads."
            + " Choose an output.path outside the inputs.");
      }
    }
  }

  FileSystem fileSystem() {
    return fs;
  }

  Path root() {
    return root;
  }

  String runId() {
    return runId;
  }

  /**
   * Checks that this run still holds the lock (it was not released, deleted, or broken as stale by another
   * run); {@link OutputPublisher} calls it before touching live tables.
   *
   * @throws IllegalStateException naming the path and the present holder, if any
   */
  void checkHeld() {
    if (closed) {
      throw new IllegalStateException("The lock " + file + " of run " + runId + " was released");
    }
    Observed now;
    try {
      now = observe(lockFs, file, root);
    } catch (UncheckedIOException e) {
      throw new IllegalStateException("Cannot check the lock " + file + " of run " + runId, e);
    }
    if (now == null || !now.content().equals(content)) {
      throw new IllegalStateException("output.path = " + root + ": run " + runId + " no longer holds " + file
          + (now == null ? " (it was deleted)" : "; " + now.describe() + " holds it")
          + (lost == null ? "" : " (" + lost + ")") + ". Was this run stalled for more than "
          + staleAfter.toSeconds() + " s?");
    }
  }

  /** Stops the heartbeat and deletes the lock file if it is still this run's; never throws. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    heartbeat.shutdownNow();
    try {
      heartbeat.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      Observed now = observe(lockFs, file, root);
      if (now != null && now.content().equals(content)) {
        lockFs.delete(file, false);
        LOG.info("Released the lock {} of run {}", file, runId);
      } else {
        LOG.warn("Not releasing {}: run {} no longer holds it{}. Another run judged this one dead (its heartbeat "
            + "was over {} late: long GC pauses, a stalled file system, or clocks apart between hosts); check the "
            + "summaries under _runs/ of this output", file, runId,
            now == null ? "" : " (" + now.describe() + " does)", DEFAULT_STALE_AFTER);
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("Could not release the lock {} of run {}: {}. The next run breaks it once its heartbeat is {} old; "
          + "delete it by hand to run sooner", file, runId, e.toString(), DEFAULT_STALE_AFTER);
    }
  }

  private void beat() {
    if (closed) {
      return;
    }
    try {
      Observed now = observe(lockFs, file, root);
      if (now == null || !now.content().equals(content)) {
        lost = now == null ? "the lock file disappeared" : now.describe() + " took it over";
        LOG.error("Run {} lost the lock {}: {}; it will not publish", runId, file, lost);
        heartbeat.shutdown();
        return;
      }
      lockFs.setTimes(file, System.currentTimeMillis(), -1);
    } catch (IOException | RuntimeException e) {
      LOG.warn("Could not refresh the lock {} of run {}: {}. If the output file system stays unreachable for {}, "
          + "another run may take the lock over: check the file system", file, runId, e.toString(),
          DEFAULT_STALE_AFTER);
    }
  }

  private static void requireDirectory(FileSystem fs, Path root) {
    try {
      if (fs.exists(root) && !fs.getFileStatus(root).isDirectory()) {
        throw cannotWrite(root, "it is a file", null);
      }
      if (!fs.mkdirs(root)) {
        throw cannotWrite(root, "cannot create the directory", null);
      }
    } catch (IOException e) {
      throw cannotWrite(root, e.getMessage(), e);
    }
  }

  /** Creates the lock file with {@code content} if there is none; false if there is one. */
  private static boolean tryCreate(FileSystem fs, Path root, Path file, String content) {
    OutputStream out;
    try {
      out = createExclusive(fs, file);
    } catch (org.apache.hadoop.fs.FileAlreadyExistsException | java.nio.file.FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      // e.g. HDFS refuses a file another client is creating at this moment
      if (exists(fs, file)) {
        return false;
      }
      throw cannotWrite(root, e.getMessage(), e);
    }
    try (OutputStream o = out) {
      o.write(content.getBytes(StandardCharsets.UTF_8));
      return true;
    } catch (IOException e) {
      try {
        fs.delete(file, false);
      } catch (IOException ignored) {
        // a half-written lock of ours is broken as stale by the next run
      }
      throw cannotWrite(root, e.getMessage(), e);
    }
  }

  private static InvalidInputException cannotWrite(Path root, String reason, Throwable cause) {
    return new InvalidInputException("output.path = " + root + " cannot be written: " + reason, cause);
  }

  private static OutputStream createExclusive(FileSystem fs, Path file) throws IOException {
    if (fs instanceof RawLocalFileSystem local) {
      // Hadoop's local create(overwrite = false) checks and then creates; O_EXCL does both at once
      return java.nio.file.Files.newOutputStream(local.pathToFile(file).toPath(), StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE);
    }
    return fs.create(file, false);
  }

  private static boolean exists(FileSystem fs, Path file) {
    try {
      return fs.exists(file);
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * The path of {@code uri}; on the local file system with symbolic links resolved, as far as it exists (an
   * output that does not exist yet keeps its missing tail), so a link cannot hide an output inside an input.
   */
  private static String resolved(URI uri) {
    if (!"file".equals(uri.getScheme())) {
      return uri.getPath();
    }
    java.nio.file.Path path = java.nio.file.Paths.get(uri.getPath()).normalize();
    java.util.ArrayDeque<java.nio.file.Path> missing = new java.util.ArrayDeque<>();
    java.nio.file.Path existing = path;
    while (existing != null && !java.nio.file.Files.exists(existing)) {
      missing.push(existing.getFileName());
      existing = existing.getParent();
    }
    if (existing == null) {
      return uri.getPath();
    }
    try {
      java.nio.file.Path real = existing.toRealPath();
      while (!missing.isEmpty()) {
        real = real.resolve(missing.pop());
      }
      return real.toString();
    } catch (IOException | RuntimeException e) {
      return uri.getPath();
    }
  }

  private static URI qualified(Configuration conf, String path) {
    Path p = new Path(path);
    try {
      return p.getFileSystem(conf).makeQualified(p).toUri();
    } catch (IOException | RuntimeException e) {
      return p.toUri();
    }
  }

  /**
   * Moves the stale lock aside (one atomic rename: of two runs breaking it, one wins), checks that what it moved
   * is the lock it judged stale and not a fresh one that replaced it meanwhile (which it puts back), and
   * deletes it.
   */
  private static void breakStale(FileSystem fs, Path root, Path file, Observed stale, String staleness) {
    Path aside = new Path(root, LOCK + ".stale." + UUID.randomUUID());
    try {
      if (!fs.rename(file, aside)) {
        return;
      }
      Observed moved = observe(fs, aside, root);
      if (moved != null && !moved.content().equals(stale.content())) {
        fs.rename(aside, file);
        return;
      }
      LOG.warn("Breaking the stale lock of output.path = {} held by {}: {}. That run ended without finishing (see "
          + "its summary under _runs/, if any); its staged tables are completed or discarded next, nothing to do",
          root, stale.describe(), staleness);
      fs.delete(aside, false);
    } catch (IOException e) {
      throw cannotWrite(root, "cannot break the stale lock " + file + " of " + stale.describe() + ": "
          + e.getMessage(), e);
    }
  }

  /** The lock file's holder and heartbeat, or null if there is no lock file. */
  private static Observed observe(FileSystem fs, Path file, Path root) {
    try {
      long modified = fs.getFileStatus(file).getModificationTime();
      String text;
      try (InputStream in = fs.open(file)) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      return new Observed(text, Holder.parse(text), modified);
    } catch (FileNotFoundException e) {
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the lock " + file + " of output.path = " + root, e);
    }
  }

  private static String describeSelf(String runId) {
    return "run_id=" + runId + "\nhost=" + HOST + "\npid=" + ProcessHandle.current().pid()
        + "\nsince=" + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "\ntoken=" + UUID.randomUUID() + "\n";
  }

  private static String localHost() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      String env = System.getenv("HOSTNAME");
      return env == null || env.isBlank() ? UNKNOWN_HOST : env;
    }
  }

  /** This JVM's host name as written into lock files. */
  static String host() {
    return HOST;
  }

  /** What the lock file says: fields are null when it was read while its holder was still writing it. */
  private record Holder(String runId, String host, Long pid, String since) {
    static Holder parse(String text) {
      Map<String, String> fields = new LinkedHashMap<>();
      for (String line : text.split("\n")) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          fields.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
      Long pid;
      try {
        pid = fields.containsKey("pid") ? Long.valueOf(fields.get("pid")) : null;
      } catch (NumberFormatException e) {
        pid = null;
      }
      return new Holder(fields.get("run_id"), fields.get("host"), pid, fields.get("since"));
    }
  }

  private record Observed(String content, Holder holder, long modifiedMillis) {
    String describe() {
      return holder.runId() == null ? "an unknown run (its lock file is incomplete)"
          : "run " + holder.runId() + " (host " + holder.host() + ", pid " + holder.pid() + ", since "
              + holder.since() + ")";
    }

    long ageSeconds() {
      return Math.max(0, System.currentTimeMillis() - modifiedMillis) / 1000;
    }

    /** Why the holder is gone, or null if it may be alive. */
    String staleness(Duration staleAfter) {
      if (holder.pid() != null && HOST.equals(holder.host()) && !UNKNOWN_HOST.equals(HOST)
          && ProcessHandle.of(holder.pid()).map(p -> !p.isAlive()).orElse(true)) {
        return "pid " + holder.pid() + " is not running on this host";
      }
      long age = System.currentTimeMillis() - modifiedMillis;
      if (age > staleAfter.toMillis()) {
        return "its last heartbeat was " + age / 1000 + " s ago (limit " + staleAfter.toSeconds() + " s)";
      }
      return null;
    }
  }
}
