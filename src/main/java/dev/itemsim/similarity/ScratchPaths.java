package dev.itemsim.similarity;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/** Scratch folders of a search (vector blocks, list segments, item shards): removed once read. */
final class ScratchPaths {
  private ScratchPaths() {}

  /**
   * Deletes {@code dir} and everything under it, on its own file system; a folder already gone is fine.
   *
   * @throws UncheckedIOException naming {@code dir} when the file system refuses
   */
  static void delete(String dir, Configuration conf) {
    Path path = new Path(dir);
    try {
      path.getFileSystem(conf).delete(path, true);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + dir, e);
    }
  }
}
