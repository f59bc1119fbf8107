package dev.itemsim.job;

/**
 * A run cut short by the JVM's shutdown (a termination signal such as a scheduler's SIGTERM, or an exit), not by
 * its own fault: nothing was published. What Spark raised once its context was gone is the cause.
 */
public final class JobStoppedException extends RuntimeException {
  JobStoppedException(String message, Throwable cause) {
    super(message, cause);
  }
}
