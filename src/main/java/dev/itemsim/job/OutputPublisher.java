package dev.itemsim.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a run's tables beside the live ones and swaps them in only when all are complete.
 *
 * <p>Each table is written under {@code <root>/_staging/<runId>/<relative path>}; {@link #commit()} then, per
 * table, moves the live directory aside to {@code _staging/<runId>/_previous/<relative path>} and renames
 * the staged one into place (one directory rename each: atomic on HDFS and local disks; object stores
 * without atomic rename give no such promise). A run that dies before {@code commit} leaves the live tables
 * untouched; one that dies between the two renames of a table is repaired by the next run's
 * {@link #recover()}, which puts the previous version back. Paths starting with {@code _} are invisible to
 * Spark's partition discovery, so readers of the tables never see staged data.
 */
final class OutputPublisher {
  private static final Logger LOG = LoggerFactory.getLogger(OutputPublisher.class);
  static final String STAGING = "_staging";
  private static final String PREVIOUS = "_previous";

  private final FileSystem fs;
  private final Path root;
  private final Path runStaging;
  private final Map<String, Path> staged = new LinkedHashMap<>();

  OutputPublisher(FileSystem fs, Path root, String runId) {
    this.fs = fs;
    this.root = root;
    this.runStaging = new Path(new Path(root, STAGING), runId);
  }

  /** Where to write the new version of {@code relative} (e.g. {@code similar_items/run_date=2026-01-01}). */
  Path stage(String relative) {
    Path p = new Path(runStaging, relative);
    staged.put(relative, p);
    return p;
  }

  /** A working folder of this run (e.g. vector blocks), never published; removed with the staging folder. */
  Path scratch(String name) {
    return new Path(new Path(runStaging, "_scratch"), name);
  }

  /** Swaps every staged table into place, then removes the previous versions. */
  void commit() {
    commit(staged.keySet());
  }

  /** Publishes only {@code relative} (e.g. the rejected rows of a run that stops); drops the rest. */
  void commitOnly(String relative) {
    commit(java.util.Set.of(relative));
  }

  private void commit(java.util.Set<String> tables) {
    try {
      for (Map.Entry<String, Path> e : staged.entrySet()) {
        if (!tables.contains(e.getKey())) {
          continue;
        }
        Path target = new Path(root, e.getKey());
        Path aside = new Path(new Path(runStaging, PREVIOUS), e.getKey());
        fs.mkdirs(target.getParent());
        if (fs.exists(target)) {
          fs.mkdirs(aside.getParent());
          rename(target, aside);
        }
        if (!fs.rename(e.getValue(), target)) {
          if (fs.exists(aside)) {
            rename(aside, target);
          }
          throw new IOException("Cannot rename " + e.getValue() + " to " + target);
        }
      }
      fs.delete(runStaging, true);
      LOG.info("Published {} under {}", tables, root);
    } catch (IOException e) {
      throw new UncheckedIOException("Publishing outputs under " + root + " failed", e);
    }
  }

  /** Drops this run's staged data without touching the live tables. */
  void abort() {
    try {
      fs.delete(runStaging, true);
    } catch (IOException e) {
      LOG.warn("Could not remove staging folder {}: {}", runStaging, e.toString());
    }
  }

  /**
   * Restores any live table left missing by a run killed mid-commit, then deletes stale staging folders
   * of earlier runs.
   */
  static void recover(FileSystem fs, Path root) {
    Path staging = new Path(root, STAGING);
    try {
      if (!fs.exists(staging)) {
        return;
      }
      for (FileStatus run : fs.listStatus(staging)) {
        Path previous = new Path(run.getPath(), PREVIOUS);
        if (fs.exists(previous)) {
          restore(fs, previous, root, previous);
        }
        fs.delete(run.getPath(), true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot recover outputs under " + root, e);
    }
  }

  private static void restore(FileSystem fs, Path previousRoot, Path root, Path dir) throws IOException {
    for (FileStatus child : fs.listStatus(dir)) {
      String relative = previousRoot.toUri().relativize(child.getPath().toUri()).getPath();
      Path target = new Path(root, relative);
      boolean isTable = !child.isDirectory() || isTableDir(fs, child.getPath());
      if (isTable) {
        if (!fs.exists(target)) {
          fs.mkdirs(target.getParent());
          fs.rename(child.getPath(), target);
          LOG.warn("Restored {} from an interrupted run", target);
        }
      } else {
        restore(fs, previousRoot, root, child.getPath());
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

  private void rename(Path from, Path to) throws IOException {
    if (!fs.rename(from, to)) {
      throw new IOException("Cannot rename " + from + " to " + to);
    }
  }
}
