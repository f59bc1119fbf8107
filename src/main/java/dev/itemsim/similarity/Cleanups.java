package dev.itemsim.similarity;

/** Releasing what a search made (broadcasts, scratch files, rankings) when one step may fail. */
final class Cleanups {
  private Cleanups() {}

  /**
   * Runs every step in order, even after one fails; then throws the first failure, with the later ones
   * suppressed in it, so no step is skipped and no failure is lost.
   */
  static void runAll(Iterable<? extends Runnable> steps) {
    RuntimeException failure = null;
    for (Runnable step : steps) {
      try {
        step.run();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
