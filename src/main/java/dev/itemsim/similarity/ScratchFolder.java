package dev.itemsim.similarity;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;

/**
 * The folder of a search's scratch files (vector blocks, list segments, item shards) as the tasks reading them
 * see it: its path, and the driver's Hadoop configuration broadcast once for all of them. It travels with the
 * structure that holds it; a task resolves the configuration on first use. Views of one structure share one
 * instance, so the folder is deleted and its broadcast destroyed once, whichever view {@link #delete}s it.
 */
final class ScratchFolder implements Serializable {
  private final String dir;
  private final Broadcast<SerializableConfiguration> shared;
  private transient Configuration conf;
  /** Set on the driver by {@link #delete}, so a second call does not destroy the broadcast again. */
  private transient boolean deleted;

  /**
   * @param conf the driver's configuration, used on the driver instead of reading the broadcast (null: read it)
   */
  ScratchFolder(String dir, Broadcast<SerializableConfiguration> shared, Configuration conf) {
    this.dir = dir;
    this.shared = shared;
    this.conf = conf;
  }

  /**
   * Creates {@code dir}, which must not exist yet: scratch files are written into a new folder only, so a
   * leftover of another run is never mixed in. {@code what} names the folder in the messages ("shard folder").
   */
  static void createNew(Path dir, Configuration conf, String what) {
    try {
      FileSystem fs = dir.getFileSystem(conf);
      if (fs.exists(dir)) {
        throw new IllegalArgumentException("The " + what + " " + dir + " exists already: it must be a new folder");
      }
      if (!fs.mkdirs(dir)) {
        throw new IOException("mkdirs returned false");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create the " + what + " " + dir, e);
    }
  }

  String dir() {
    return dir;
  }

  /** The configuration the files are opened with. */
  Configuration conf() {
    if (conf == null) {
      conf = shared.value().value();
    }
    return conf;
  }

  /** The broadcast configuration, for tasks that open files before this folder's structure exists. */
  Broadcast<SerializableConfiguration> shared() {
    return shared;
  }

  /**
   * Deletes the folder and, the first time, destroys the broadcast configuration: call it on the driver once
   * every computation reading the folder has been materialised (RDDs are lazy), never before.
   */
  void delete() {
    Path path = new Path(dir);
    try {
      path.getFileSystem(conf()).delete(path, true);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + dir, e);
    } finally {
      if (!deleted) {
        deleted = true;
        shared.destroy();
      }
    }
  }
}
