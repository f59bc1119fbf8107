package dev.itemsim.similarity;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * The local file system under the scheme {@code faulty:}, with the faults a task attempt meets switched on
 * by tests: output that breaks after some bytes, a delete that never happens (the attempt's executor is
 * gone), rename that never replaces an existing file (HDFS) instead of POSIX rename, and a hook run just
 * before a rename (another attempt publishing meanwhile). Settings are static, for tests that call the
 * writer in the test's own thread; {@link #reset} clears them.
 */
public final class FaultyFileSystem extends RawLocalFileSystem {
  private static volatile String failWritesTo;
  private static volatile long failAfterBytes;
  private static volatile String refuseDeletesOf;
  private static volatile boolean renameKeepsExisting;
  private static volatile Runnable beforeRename;

  /** A configuration mapping {@code faulty:} to this class, uncached so each use sees the current settings. */
  static Configuration conf(Configuration base) {
    Configuration conf = new Configuration(base);
    conf.set("fs.faulty.impl", FaultyFileSystem.class.getName());
    conf.setBoolean("fs.faulty.impl.disable.cache", true);
    return conf;
  }

  /** {@code faulty:} URI of a local folder. */
  static String uri(java.nio.file.Path local) {
    return "faulty://" + local.toAbsolutePath();
  }

  /** Output to files whose name ends with {@code nameSuffix} throws after {@code bytes} bytes reached the file. */
  static void failWrites(String nameSuffix, long bytes) {
    failWritesTo = nameSuffix;
    failAfterBytes = bytes;
  }

  /** Deleting files whose name ends with {@code nameSuffix} throws, leaving them in place. */
  static void refuseDeletes(String nameSuffix) {
    refuseDeletesOf = nameSuffix;
  }

  static void renameKeepsExisting(boolean keeps) {
    renameKeepsExisting = keeps;
  }

  /** Runs {@code hook} once, just before the next rename. */
  static void beforeNextRename(Runnable hook) {
    beforeRename = hook;
  }

  static void reset() {
    failWritesTo = null;
    refuseDeletesOf = null;
    renameKeepsExisting = false;
    beforeRename = null;
  }

  @Override
  public URI getUri() {
    return URI.create("faulty:///");
  }

  @Override
  public String getScheme() {
    return "faulty";
  }

  @Override
  protected OutputStream createOutputStream(Path f, boolean append) throws IOException {
    return breaking(f, super.createOutputStream(f, append));
  }

  @Override
  protected OutputStream createOutputStreamWithMode(Path f, boolean append, FsPermission permission)
      throws IOException {
    return breaking(f, super.createOutputStreamWithMode(f, append, permission));
  }

  @Override
  public boolean delete(Path p, boolean recursive) throws IOException {
    String suffix = refuseDeletesOf;
    if (suffix != null && p.getName().endsWith(suffix)) {
      throw new IOException("simulated: cannot delete " + p + ", its executor is gone");
    }
    return super.delete(p, recursive);
  }

  @Override
  public boolean rename(Path src, Path dst) throws IOException {
    Runnable hook = beforeRename;
    beforeRename = null;
    if (hook != null) {
      hook.run();
    }
    if (renameKeepsExisting && exists(dst)) {
      return false;
    }
    return super.rename(src, dst);
  }

  private static OutputStream breaking(Path f, OutputStream out) {
    String suffix = failWritesTo;
    if (suffix == null || !f.getName().endsWith(suffix)) {
      return out;
    }
    long limit = failAfterBytes;
    return new FilterOutputStream(out) {
      private long written;

      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        int allowed = (int) Math.max(0, Math.min(len, limit - written));
        out.write(b, off, allowed);
        written += allowed;
        if (allowed < len) {
          out.flush();
          throw new IOException("simulated: write to " + f + " broke after " + written + " bytes");
        }
      }
    };
  }
}
