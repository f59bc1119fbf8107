package dev.itemsim.job;

import org.apache.hadoop.fs.Path;

/**
 * More rows were rejected than {@code validation.maxRejectedFraction} allows; exit code 3. The run replaces
 * no table; its rejected rows are kept beside its run summary.
 */
public final class TooManyRejectsException extends RuntimeException {
  private final transient Path stagedRejects;

  public TooManyRejectsException(String message, Path stagedRejects) {
    super(message);
    this.stagedRejects = stagedRejects;
  }

  /** Where the run staged its rejected rows (moved beside the run summary when the run stops). */
  Path stagedRejects() {
    return stagedRejects;
  }
}
