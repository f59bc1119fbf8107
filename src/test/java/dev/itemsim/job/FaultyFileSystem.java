package dev.itemsim.job;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FilterFileSystem;
import org.apache.hadoop.fs.Path;

/** The local file system whose k-th rename (counted from {@link #failRename}) fails or "kills" the process. */
final class FaultyFileSystem extends FilterFileSystem {
  /** How the chosen rename goes wrong; {@code *_AFTER} renames first, like a reply lost after the work was done. */
  enum Fault { THROW_BEFORE, THROW_AFTER, KILL_BEFORE, KILL_AFTER, THROW_FROM_THEN_ON }

  /** Stands for {@code kill -9}: an Error the code under test must neither catch nor clean up after. */
  static final class Killed extends Error {
    Killed(String message) {
      super(message);
    }
  }

  private int renames;
  private int failAt;
  private Fault fault;
  private boolean fired;
  private boolean failDeletes;

  FaultyFileSystem() throws IOException {
    super(FileSystem.getLocal(new Configuration()));
  }

  /** Makes the {@code k}-th rename from now on (1-based) go wrong as {@code fault}. */
  void failRename(int k, Fault fault) {
    this.renames = 0;
    this.failAt = k;
    this.fault = fault;
    this.fired = false;
  }

  void failDeletes(boolean fail) {
    this.failDeletes = fail;
  }

  void heal() {
    fault = null;
    failDeletes = false;
  }

  /** Whether the armed fault happened (false: there were fewer renames than k). */
  boolean fired() {
    return fired;
  }

  @Override
  public boolean rename(Path src, Path dst) throws IOException {
    int n = ++renames;
    boolean hit = fault != null && (fault == Fault.THROW_FROM_THEN_ON ? n >= failAt : n == failAt);
    if (!hit) {
      return super.rename(src, dst);
    }
    fired = true;
    String what = "rename " + n + " " + src + " -> " + dst;
    if (fault == Fault.THROW_AFTER || fault == Fault.KILL_AFTER) {
      super.rename(src, dst);
    }
    if (fault == Fault.KILL_BEFORE || fault == Fault.KILL_AFTER) {
      throw new Killed("killed at " + what);
    }
    throw new IOException("injected failure of " + what);
  }

  @Override
  public boolean delete(Path f, boolean recursive) throws IOException {
    if (failDeletes) {
      throw new IOException("injected failure of delete " + f);
    }
    return super.delete(f, recursive);
  }
}
