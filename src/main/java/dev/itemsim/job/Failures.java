package dev.itemsim.job;

import dev.itemsim.InvalidInputException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Tells bad input from faults. Spark reports an unreadable input file (a corrupt or truncated Parquet part,
 * columns whose types differ between parts) as a {@code SparkException} from inside a task, which Java sees
 * as an undeclared checked exception; such failures are user errors (exit code 2) and become an
 * {@link InvalidInputException} whose message names the file.
 */
final class Failures {
  /** Markers of an input file Spark could not read, in exception class names and messages. */
  private static final List<String> BAD_FILE_MARKERS = List.of("FAILED_READ_FILE", "ParquetDecodingException",
      "is not a Parquet file", "SchemaColumnConvertNotSupportedException", "PARQUET_COLUMN_DATA_TYPE_MISMATCH",
      "CANNOT_MERGE_SCHEMAS", "CANNOT_READ_FILE_FOOTER", "Could not read footer", "expected magic number");

  /** Spark's prefix before a task's own failure message. */
  private static final java.util.regex.Pattern STAGE_FAILURE = java.util.regex.Pattern.compile(
      "^Job aborted due to stage failure: .*?most recent failure: Lost task [^:]*?\\): ");

  /** Set once the JVM begins to shut down (a termination signal, or System.exit), by {@link #watchShutdown}. */
  private static final AtomicBoolean STOPPING = new AtomicBoolean();
  private static final AtomicBoolean WATCHING = new AtomicBoolean();

  private Failures() {}

  /**
   * Makes sure a shutdown of the JVM is noticed: a run killed while it works (SIGTERM from a scheduler's timeout)
   * then fails with {@link JobStoppedException} instead of whatever Spark reports once its context is gone.
   * Call before the work starts; the first call registers one shutdown hook for the JVM, later calls do nothing.
   */
  static void watchShutdown() {
    if (WATCHING.compareAndSet(false, true)) {
      try {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          STOPPING.set(true);
          awaitRunsEnded(SHUTDOWN_WAIT_MILLIS);
        }, "itemsim-note-shutdown"));
      } catch (IllegalStateException shuttingDown) {
        STOPPING.set(true);  // the JVM accepts no new hook once its shutdown has begun
      }
    }
  }

  /**
   * How long a shutdown waits for the runs in progress to end: the JVM halts once every shutdown hook has
   * returned, and a run stopped by a signal still has to abort its staged outputs, write its summary and say
   * how it ended.
   */
  static final long SHUTDOWN_WAIT_MILLIS = 10_000;
  /** Runs in progress in this JVM ({@link #runStarted}, {@link #runEnded}); guarded by the class. */
  private static int running;

  /** A run begins: a shutdown from now on waits for it ({@link #watchShutdown}). */
  static synchronized void runStarted() {
    running++;
  }

  /** A run has ended, whatever its outcome, and reported it. */
  static synchronized void runEnded() {
    running--;
    Failures.class.notifyAll();
  }

  /** Waits until no run is in progress, at most {@code millis}. */
  static synchronized void awaitRunsEnded(long millis) {
    long deadline = System.nanoTime() + millis * 1_000_000;
    try {
      for (long left = millis; running > 0 && left > 0; left = (deadline - System.nanoTime()) / 1_000_000) {
        Failures.class.wait(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The exception the command line should see: bad input as {@link InvalidInputException}, a run cut short by
   * the JVM's shutdown as {@link JobStoppedException}, the rest as is. {@code published}: whether the run had
   * already put its tables in place (a stop then says so instead of "nothing was published").
   */
  static RuntimeException classify(Throwable failure, boolean published) {
    if (STOPPING.get()) {
      // what Spark raises once its context is gone (often "[INTERNAL_ERROR] ... a bug in Spark") stays the cause
      return new JobStoppedException("The run was stopped: the JVM is shutting down (a termination signal such as "
          + "SIGTERM, or an exit) while the job ran; " + (published
          ? "its tables had been published and are live and complete (run_summary published = true)"
          : "nothing was published"), failure);
    }
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof InvalidInputException invalid) {
        return invalid;
      }
      if (t instanceof TooManyRejectsException rejects) {
        return rejects;
      }
    }
    for (Throwable t = failure; t != null; t = t.getCause()) {
      String text = t.getClass().getName() + ": " + t.getMessage();
      if (BAD_FILE_MARKERS.stream().anyMatch(text::contains)) {
        return new InvalidInputException("Cannot read input: " + oneLine(t), failure);
      }
    }
    return failure instanceof RuntimeException runtime ? runtime : new JobFailedException(oneLine(failure), failure);
  }

  /** The failure in one line: its innermost informative message, without Spark's stack dump. */
  static String oneLine(Throwable failure) {
    String message = STAGE_FAILURE.matcher(String.valueOf(failure.getMessage())).replaceFirst("");
    if (message == null || message.isBlank()) {
      message = failure.getClass().getSimpleName();
    }
    int cut = message.indexOf('\n');
    String line = cut < 0 ? message : message.substring(0, cut);
    return line.length() > 1000 ? line.substring(0, 1000) + "…" : line.strip();
  }

  /** A fault that is not a runtime exception (a checked exception from Spark, an error). */
  static final class JobFailedException extends RuntimeException {
    JobFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  static boolean mentions(Throwable t, String text) {
    return String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT).contains(text.toLowerCase(Locale.ROOT));
  }
}
