package dev.itemsim.job;

/** More rows were rejected than {@code validation.maxRejectedFraction} allows; exit code 3. */
public final class TooManyRejectsException extends RuntimeException {
  public TooManyRejectsException(String message) {
    super(message);
  }
}
