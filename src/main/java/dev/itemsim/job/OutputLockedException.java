package dev.itemsim.job;

import dev.itemsim.InvalidInputException;

/**
 * Another live run holds the lock on {@code output.path} ({@link OutputLock}); the message names the path and
 * the holder (run id, host, pid, since when). An {@link InvalidInputException}, so the command line exits 2.
 */
public final class OutputLockedException extends InvalidInputException {
  public OutputLockedException(String message) {
    super(message);
  }
}
