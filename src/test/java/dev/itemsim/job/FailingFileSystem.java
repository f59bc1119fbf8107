package dev.itemsim.job;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * The local file system under the scheme {@code failing:}, for whole job runs: creating a file whose path
 * contains a chosen text fails (a broken disk under one stage's output), and renaming to a path with a chosen
 * ending fails or "kills" the run (an {@link Error} the job cannot clean up after, standing for {@code kill -9}). Settings
 * are static (Spark's local executors share the JVM); {@link #heal} clears them.
 */
public final class FailingFileSystem extends RawLocalFileSystem {
  private static volatile String failCreating;
  private static volatile String failRenamingTo;
  private static volatile boolean renameKills;
  private static volatile boolean fired;

  /** Stands for {@code kill -9}. */
  static final class Killed extends Error {
    Killed(String message) {
      super(message);
    }
  }

  /** Registers the scheme in {@code conf}, uncached so each use sees the current settings. */
  static void register(Configuration conf) {
    conf.set("fs.failing.impl", FailingFileSystem.class.getName());
    conf.setBoolean("fs.failing.impl.disable.cache", true);
  }

  static String uri(java.nio.file.Path local) {
    return "failing://" + local.toAbsolutePath();
  }

  /** Creating any file whose path contains {@code text} throws. */
  static void failCreating(String text) {
    failCreating = text;
    fired = false;
  }

  /** Renaming anything to a path ending with {@code text} throws an IOException, or kills when {@code kill}. */
  static void failRenamingTo(String text, boolean kill) {
    failRenamingTo = text;
    renameKills = kill;
    fired = false;
  }

  static boolean fired() {
    return fired;
  }

  static void heal() {
    failCreating = null;
    failRenamingTo = null;
    renameKills = false;
  }

  @Override
  public URI getUri() {
    return URI.create("failing:///");
  }

  @Override
  public String getScheme() {
    return "failing";
  }

  @Override
  protected OutputStream createOutputStream(Path f, boolean append) throws IOException {
    check(f);
    return super.createOutputStream(f, append);
  }

  @Override
  protected OutputStream createOutputStreamWithMode(Path f, boolean append, FsPermission permission)
      throws IOException {
    check(f);
    return super.createOutputStreamWithMode(f, append, permission);
  }

  private static void check(Path f) throws IOException {
    String text = failCreating;
    if (text != null && f.toString().contains(text)) {
      fired = true;
      throw new IOException("simulated: cannot create " + f);
    }
  }

  @Override
  public boolean rename(Path src, Path dst) throws IOException {
    String text = failRenamingTo;
    if (text != null && dst.toString().endsWith(text)) {
      fired = true;
      if (renameKills) {
        throw new Killed("simulated kill at rename " + src + " -> " + dst);
      }
      throw new IOException("simulated: cannot rename " + src + " to " + dst);
    }
    return super.rename(src, dst);
  }
}
