package dev.itemsim.similarity;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * Creating the scratch files of a search (vector blocks, list segments, item shards): each replaces a leftover
 * of the same name and is created non-recursively, so an attempt still running after its folder was deleted
 * fails instead of creating the folder again.
 *
 * <p>On a local file system the file is created without Hadoop's checksum side file and without setting its
 * permission: Hadoop's local file system sets the permission of every file it creates, and without Hadoop's
 * native library that forks a {@code chmod} process per file, which dominates writing hundreds of small files. The files carry their own header and trailer checks.
 */
final class ScratchFiles {
  private static final int BUFFER = 64 << 10;

  private ScratchFiles() {}

  static FSDataOutputStream create(FileSystem fs, Path file) throws IOException {
    FileSystem raw = fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
    if (raw != null && raw.getClass() == RawLocalFileSystem.class) {  // not a subclass: it may add behaviour
      RawLocalFileSystem local = (RawLocalFileSystem) raw;
      // a plain file stream: fails when the folder is gone, truncates a leftover
      return new FSDataOutputStream(new BufferedOutputStream(new FileOutputStream(local.pathToFile(file)), BUFFER),
          null);
    }
    return fs.createFile(file).overwrite(true).build();
  }
}
