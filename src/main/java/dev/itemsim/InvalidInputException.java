package dev.itemsim;

/**
 * A problem with what the user gave itemsim (configuration, input data, command line) rather than a fault
 * of itemsim or its environment. The command line turns it into exit code 2 and prints only the message,
 * which must name the offending key, column, file or value.
 */
public class InvalidInputException extends RuntimeException {
  public InvalidInputException(String message) {
    super(message);
  }

  public InvalidInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
