package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FailuresTest {

  /**
   * A shutdown waits for the run in progress to end (so it can abort, write its summary and say it was
   * stopped before the JVM halts), returns at once when none is, and gives up after its cap.
   */
  @Test
  void aShutdownWaitsForTheRunInProgressWithinItsCap() throws InterruptedException {
    Failures.runStarted();
    Thread ender = new Thread(() -> {
      try {
        Thread.sleep(300);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Failures.runEnded();
    });
    long t0 = System.nanoTime();
    ender.start();
    Failures.awaitRunsEnded(30_000);
    long waited = (System.nanoTime() - t0) / 1_000_000;
    ender.join();
    assertThat(waited).as("waited for the run to end, not for the cap").isBetween(290L, 20_000L);

    t0 = System.nanoTime();
    Failures.awaitRunsEnded(30_000);
    assertThat((System.nanoTime() - t0) / 1_000_000).as("no run in progress").isLessThan(20_000L);

    Failures.runStarted();
    try {
      t0 = System.nanoTime();
      Failures.awaitRunsEnded(200);
      assertThat((System.nanoTime() - t0) / 1_000_000).as("a run that does not end: the cap").isBetween(190L,
          20_000L);
    } finally {
      Failures.runEnded();
    }
  }
}
