package dev.itemsim.job;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a run's tables beside the live ones and replaces them all together or not at all.
 *
 * <p>Each table is written under {@code <root>/_staging/<runId>/<relative path>}. {@link #commit()} then
 * <ol>
 *   <li>checks that the run still holds its {@link OutputLock} and that every staged table exists;
 *   <li>writes the commit manifest {@code _staging/<runId>/_commit} listing the tables (a temporary file renamed
 *       into place): from here on the commit is decided;
 *   <li>per table, moves the live directory (if any) aside to {@code _staging/<runId>/_previous/<relative path>}
 *       and renames the staged one into place;
 *   <li>deletes {@code _previous}, then the manifest, then the run's folder.
 * </ol>
 * Each move is one directory rename: atomic on HDFS and local disks, where it never falls back to copying
 * ({@link #rename}); object stores without atomic rename give no such promise. Paths starting with {@code _}
 * are invisible to Spark's partition discovery, so readers of the tables never see staged data.
 *
 * <p>Whatever fails, and wherever a run is killed, readers find the complete previous set of tables or the
 * complete new set, at the latest once the next run's {@link #recover} has run; a previous table is deleted
 * only once every new table is in place.
 * <ul>
 *   <li>An exception in steps 2–3 rolls back in the same process: each new table goes back to staging and its
 *       previous version back into place, the manifest is deleted, and the exception is rethrown. The run has
 *       failed, so its tables are not published. Should the rollback fail too, the manifest stays, {@link
 *       #abort()} keeps the run's folder, and the next run rolls the commit forward.
 *   <li>A kill leaves the run's folder behind. {@link #recover} rolls a folder with a manifest forward (every
 *       table it lists was complete when it was written) and discards one without (its run never touched the
 *       live tables).
 *   <li>A failure in step 4 is only logged: the new set is live; the next {@link #recover} removes the rest.
 * </ul>
 * Tables of the output path that a run does not stage (e.g. other {@code run_date} partitions) are never
 * touched.
 */
final class OutputPublisher {
  private static final Logger LOG = LoggerFactory.getLogger(OutputPublisher.class);
  static final String STAGING = OutputLayout.STAGING;
  static final String PREVIOUS = "_previous";
  static final String MANIFEST = "_commit";
  private static final String SCRATCH = "_scratch";
  private static final String MANIFEST_HEADER = "itemsim commit manifest v1";
  private static final String MANIFEST_END = "end";

  private final OutputLock lock;
  private final FileSystem fs;
  private final Path root;
  private final Path runFolder;
  private final Set<String> staged = new LinkedHashSet<>();
  private boolean committing;
  /** Set once a commit has put every table of it in place. */
  private boolean published;

  /** A publisher for the run holding {@code lock}, writing under the lock's output path. */
  OutputPublisher(OutputLock lock) {
    this.lock = lock;
    this.fs = lock.fileSystem();
    this.root = lock.root();
    this.runFolder = new Path(new Path(root, STAGING), lock.runId());
  }

  /**
   * Where to write the new version of {@code relative} (e.g. {@code similar_items/run_date=2026-01-01}): a
   * relative path whose segments do not start with {@code _} or {@code .}.
   */
  Path stage(String relative) {
    requireOpen();
    requireTableName(relative);
    staged.add(relative);
    return new Path(runFolder, relative);
  }

  /** A working folder of this run (e.g. vector blocks), never published; removed with the staging folder. */
  Path scratch(String name) {
    return new Path(new Path(runFolder, SCRATCH), name);
  }

  /** Replaces the live version of every staged table with the staged one, all or none (see the class comment). */
  void commit() {
    publish(List.copyOf(staged));
  }

  /**
   * Publishes only {@code relative} (e.g. the rejected rows of a run that stops), with the same guarantees as
   * {@link #commit()}; the other staged tables are dropped.
   */
  void commitOnly(String relative) {
    if (!staged.contains(relative)) {
      throw new IllegalArgumentException("Table " + relative + " was not staged; staged: " + staged);
    }
    publish(List.of(relative));
  }

  /** Whether a commit of this run has put its tables in place: they are live, whatever fails after. */
  boolean published() {
    return published;
  }

  /**
   * Drops this run's staged data without touching the live tables, unless a failed commit could not be rolled
   * back: then its folder stays for the next run's {@link #recover}.
   */
  void abort() {
    try {
      if (fs.exists(new Path(runFolder, MANIFEST))) {
        LOG.warn("Keeping {}: its commit was decided but neither completed nor rolled back; the next run on {}"
            + " completes it, nothing to do", runFolder, root);
        return;
      }
      fs.delete(runFolder, true);
    } catch (IOException e) {
      LOG.warn("Could not remove staging folder {}: {}. No table reads it; delete it by hand if it stays",
          runFolder, e.toString());
    }
  }

  /**
   * Repairs what runs killed on this output path left: completes the commit of every staging folder with a
   * manifest, discards every other staging folder. Runs only under the output path's lock, so no other run's
   * staging folder is live.
   *
   * @throws UncheckedIOException when a folder cannot be repaired (it is left as it was, naming what to fix)
   */
  static void recover(OutputLock lock) {
    lock.checkHeld();
    FileSystem fs = lock.fileSystem();
    Path root = lock.root();
    Path staging = new Path(root, STAGING);
    try {
      if (!fs.exists(staging)) {
        return;
      }
      for (FileStatus run : fs.listStatus(staging)) {
        if (run.isDirectory()) {
          recoverRun(fs, root, run.getPath());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot recover outputs under " + root + ": " + e.getMessage(), e);
    }
  }

  private void publish(List<String> relatives) {
    requireOpen();
    committing = true;
    lock.checkHeld();
    List<Table> tables = relatives.stream().map(r -> Table.of(root, runFolder, r)).toList();
    try {
      for (Table t : tables) {
        if (!fs.exists(t.staged())) {
          throw new IllegalStateException("Table " + t.relative() + " was staged but never written to " + t.staged());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Publishing outputs under " + root + " failed before it began", e);
    }
    try {
      writeManifest(relatives);
      for (Table t : tables) {
        swapIn(fs, t);
      }
    } catch (IOException | RuntimeException e) {
      throw rollBack(tables, e);
    }
    published = true;
    cleanUp(fs, runFolder);
    LOG.info("Published {} under {}", relatives, root);
  }

  private static void swapIn(FileSystem fs, Table t) throws IOException {
    if (fs.exists(t.live())) {
      fs.mkdirs(t.aside().getParent());
      rename(fs, t.live(), t.aside());
    }
    fs.mkdirs(t.live().getParent());
    rename(fs, t.staged(), t.live());
  }

  /** Undoes {@link #swapIn} from whichever state it reached: every step is judged by what exists. */
  private static void swapOut(FileSystem fs, Table t) throws IOException {
    if (!fs.exists(t.staged()) && fs.exists(t.live())) {
      rename(fs, t.live(), t.staged());
    }
    if (fs.exists(t.aside())) {
      if (fs.exists(t.live())) {
        throw new IOException("Cannot put " + t.aside() + " back: " + t.live() + " exists");
      }
      fs.mkdirs(t.live().getParent());
      rename(fs, t.aside(), t.live());
    }
  }

  private RuntimeException rollBack(List<Table> tables, Exception failure) {
    String message = "Publishing outputs under " + root + " failed";
    try {
      for (int i = tables.size() - 1; i >= 0; i--) {
        swapOut(fs, tables.get(i));
      }
      fs.delete(new Path(runFolder, MANIFEST), false);
      LOG.warn("{}; the previous tables are back in place", message);
      message += "; the previous tables are back in place";
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
      LOG.error("{} and could not be rolled back; the next run on this output path completes it from {}", message,
          runFolder, e);
      message += " and could not be rolled back; the next run on this output path completes it from " + runFolder;
    }
    return failure instanceof IOException io ? new UncheckedIOException(message, io)
        : new IllegalStateException(message, failure);
  }

  private void writeManifest(List<String> relatives) throws IOException {
    Path manifest = new Path(runFolder, MANIFEST);
    Path tmp = new Path(runFolder, MANIFEST + ".tmp");
    StringBuilder text = new StringBuilder(MANIFEST_HEADER).append('\n');
    relatives.forEach(r -> text.append(r).append('\n'));
    text.append(MANIFEST_END).append('\n');
    try (OutputStream out = fs.create(tmp, true)) {
      out.write(text.toString().getBytes(StandardCharsets.UTF_8));
    }
    rename(fs, tmp, manifest);
  }

  private static List<String> readManifest(FileSystem fs, Path manifest) throws IOException {
    String text;
    try (InputStream in = fs.open(manifest)) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    List<String> lines = List.of(text.split("\n"));
    if (lines.size() < 2 || !lines.get(0).equals(MANIFEST_HEADER) || !lines.get(lines.size() - 1).equals(MANIFEST_END)) {
      throw new IOException("Unreadable commit manifest " + manifest + "; its run folder was left as it is");
    }
    List<String> relatives = new ArrayList<>(lines.subList(1, lines.size() - 1));
    relatives.forEach(OutputPublisher::requireTableName);
    return relatives;
  }

  private static void recoverRun(FileSystem fs, Path root, Path runFolder) throws IOException {
    Path manifest = new Path(runFolder, MANIFEST);
    if (fs.exists(manifest)) {
      List<String> relatives = readManifest(fs, manifest);
      for (String relative : relatives) {
        rollForward(fs, Table.of(root, runFolder, relative));
      }
      LOG.warn("Completed the publication of {} by the interrupted run {} (nothing to do)", relatives,
          runFolder.getName());
      cleanUp(fs, runFolder);
      return;
    }
    Path previous = new Path(runFolder, PREVIOUS);
    if (fs.exists(previous)) {
      // only a run of a version without manifests leaves tables here
      restoreMissing(fs, previous, root, previous);
    }
    if (!fs.delete(runFolder, true) && fs.exists(runFolder)) {
      throw new IOException("Cannot delete " + runFolder);
    }
    LOG.info("Discarded {}, left by a run that stopped before publishing", runFolder);
  }

  private static void rollForward(FileSystem fs, Table t) throws IOException {
    if (fs.exists(t.staged())) {
      if (fs.exists(t.live()) && fs.exists(t.aside())) {
        throw new IOException("Cannot complete the publication of " + t.relative() + ": " + t.staged() + ", "
            + t.live() + " and " + t.aside() + " all exist; keep one of the last two by hand");
      }
      swapIn(fs, t);
      LOG.warn("Published {} staged by an interrupted run (nothing to do)", t.live());
    } else if (!fs.exists(t.live())) {
      if (fs.exists(t.aside())) {
        throw new IOException("Cannot complete the publication of " + t.relative() + ": neither " + t.staged()
            + " nor " + t.live() + " exists; its previous version is in " + t.aside());
      }
      LOG.warn("{} was published by an interrupted run but has since been deleted; this run writes it again if it "
          + "is one of its tables", t.live());
    }
  }

  /** Puts back every previous table whose live one is missing (the recovery of runs without manifests). */
  private static void restoreMissing(FileSystem fs, Path previousRoot, Path root, Path dir) throws IOException {
    for (FileStatus child : fs.listStatus(dir)) {
      String relative = previousRoot.toUri().relativize(child.getPath().toUri()).getPath();
      Path target = new Path(root, relative);
      if (!child.isDirectory() || isTableDir(fs, child.getPath())) {
        if (!fs.exists(target)) {
          fs.mkdirs(target.getParent());
          rename(fs, child.getPath(), target);
          LOG.warn("Restored {} from an interrupted run (nothing to do)", target);
        }
      } else {
        restoreMissing(fs, previousRoot, root, child.getPath());
      }
    }
  }

  /** A table directory holds files (parquet parts, _SUCCESS), not only sub-directories. */
  private static boolean isTableDir(FileSystem fs, Path dir) throws IOException {
    for (FileStatus s : fs.listStatus(dir)) {
      if (s.isFile()) {
        return true;
      }
    }
    return false;
  }

  /** Deletes the previous versions, then the manifest, then the rest; a failure leaves work for {@link #recover}. */
  private static void cleanUp(FileSystem fs, Path runFolder) {
    try {
      for (Path p : List.of(new Path(runFolder, PREVIOUS), new Path(runFolder, MANIFEST), runFolder)) {
        if (!fs.delete(p, true) && fs.exists(p)) {
          throw new IOException("Cannot delete " + p);
        }
      }
    } catch (IOException e) {
      LOG.warn("Published, but could not remove {}: {}; the next run removes it", runFolder, e.toString());
    }
  }

  /**
   * Renames {@code from} to {@code to}, which must not exist, in one step or not at all. When its rename fails (a
   * permission, another device), Hadoop's local file system copies and deletes instead, and a copy that fails
   * halfway leaves a table in two places, or in none. On a local disk this is therefore one {@code rename(2)},
   * which fails whole; a renamed file's checksum file follows it. Other file systems rename as they do.
   */
  static void rename(FileSystem fs, Path from, Path to) throws IOException {
    FileSystem raw = fs instanceof ChecksumFileSystem checksummed ? checksummed.getRawFileSystem() : fs;
    if (raw == null || raw.getClass() != RawLocalFileSystem.class) {  // not a subclass: it may add behaviour
      if (!fs.rename(from, to)) {
        throw new IOException("Cannot rename " + from + " to " + to);
      }
      return;
    }
    RawLocalFileSystem local = (RawLocalFileSystem) raw;
    java.nio.file.Path source = local.pathToFile(from).toPath();
    java.nio.file.Path target = local.pathToFile(to).toPath();
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("Cannot rename " + from + " to " + to + ": the target exists");
    }
    try {
      Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new IOException("Cannot rename " + from + " to " + to + " (nothing was moved): " + e, e);
    }
    if (fs instanceof ChecksumFileSystem checksummed && Files.isRegularFile(target)) {
      java.nio.file.Path crc = local.pathToFile(checksummed.getChecksumFile(from)).toPath();
      if (Files.exists(crc)) {
        try {
          Files.move(crc, local.pathToFile(checksummed.getChecksumFile(to)).toPath(),
              StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {  // a file without its checksum file is read unchecked, not refused
          LOG.warn("Renamed {} to {}, but not its checksum file: {}", from, to, e.toString());
        }
      }
    }
  }

  private void requireOpen() {
    if (committing) {
      throw new IllegalStateException("Run " + lock.runId() + " has already published (or tried to)");
    }
  }

  private static void requireTableName(String relative) {
    boolean valid = !relative.isEmpty() && !relative.startsWith("/") && !relative.endsWith("/");
    for (String segment : relative.split("/", -1)) {
      valid &= !segment.isEmpty() && !segment.startsWith("_") && !segment.startsWith(".");
    }
    if (!valid) {
      throw new IllegalArgumentException("Not a table path: '" + relative + "' (relative, no segment empty or"
          + " starting with _ or .)");
    }
  }

  /** A table's three places: staged by this run, live, and moved aside while it is replaced. */
  private record Table(String relative, Path staged, Path live, Path aside) {
    static Table of(Path root, Path runFolder, String relative) {
      return new Table(relative, new Path(runFolder, relative), new Path(root, relative),
          new Path(new Path(runFolder, PREVIOUS), relative));
    }
  }
}
