package dev.itemsim.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.SparkTestSupport;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SharedEncodersTest {
  /**
   * The exit hook closes shared encoders while executor threads may still be encoding (a job killed with
   * SIGTERM). Freeing the ONNX Runtime session under a running call crashed the JVM (SIGSEGV); through the
   * guard, close waits for the running call, and later calls fail cleanly.
   */
  @Test
  void closingTheRealModelWhileItEncodesWaitsForTheCallAndRefusesLaterOnes() throws Exception {
    SharedEncoders.Guarded guarded = new SharedEncoders.Guarded(
        Encoders.load(EncoderSettings.defaults("builtin:all-minilm-l6-v2")));
    List<String> titles = SparkTestSupport.sampleTitles(100);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    CountDownLatch firstDone = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    try {
      Future<Throwable> encoding = pool.submit(() -> {
        try {
          while (true) {
            assertThat(guarded.encode(titles).vectors()).hasNumberOfRows(100);
            calls.incrementAndGet();
            firstDone.countDown();
          }
        } catch (IllegalStateException e) {
          return e;
        }
      });
      assertThat(firstDone.await(60, TimeUnit.SECONDS)).isTrue();
      guarded.close();  // lands while a call runs: the loop never pauses
      assertThat(encoding.get(60, TimeUnit.SECONDS)).hasMessageContaining("shutting down");
      assertThat(calls.get()).isPositive();
      assertThatThrownBy(() -> guarded.encode(titles)).isInstanceOf(IllegalStateException.class);
    } finally {
      pool.shutdownNow();
    }
  }

  /** A call that outlasts the wait keeps its model: close returns without freeing it under the call. */
  @Test
  void aCallOutlastingTheWaitKeepsItsModel() throws Exception {
    CountDownLatch inCall = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean innerClosed = new AtomicBoolean();
    SentenceEncoder slow = new SentenceEncoder() {
      @Override
      public Encoded encode(List<String> texts) {
        inCall.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        assertThat(innerClosed).isFalse();
        return new Encoded(new float[][] {{1f}}, 1, 1);
      }

      @Override
      public int dimension() {
        return 1;
      }

      @Override
      public void close() {
        innerClosed.set(true);
      }
    };
    SharedEncoders.Guarded guarded = new SharedEncoders.Guarded(slow);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<SentenceEncoder.Encoded> call = pool.submit(() -> guarded.encode(List.of("x")));
      assertThat(inCall.await(10, TimeUnit.SECONDS)).isTrue();
      long start = System.nanoTime();
      guarded.close();
      long waitedMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(waitedMs).isGreaterThanOrEqualTo(SharedEncoders.CLOSE_WAIT_MS - 50);
      assertThat(innerClosed).as("closed under a running call").isFalse();
      release.countDown();
      assertThat(call.get(10, TimeUnit.SECONDS).vectors()).hasNumberOfRows(1);
      assertThatThrownBy(() -> guarded.encode(List.of("y"))).hasMessageContaining("shutting down");
    } finally {
      pool.shutdownNow();
    }
  }

  /** A cold encoder finds its dimension by encoding a text: that call holds the guard as an encode call does. */
  @Test
  void aDimensionCallKeepsItsModelAndFailsAfterClose() throws Exception {
    CountDownLatch inCall = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean innerClosed = new AtomicBoolean();
    SentenceEncoder cold = new SentenceEncoder() {
      @Override
      public Encoded encode(List<String> texts) {
        return new Encoded(new float[][] {{1f, 0f}}, 1, 2);
      }

      @Override
      public int dimension() {
        inCall.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return innerClosed.get() ? -1 : 2;
      }

      @Override
      public void close() {
        innerClosed.set(true);
      }
    };
    SharedEncoders.Guarded guarded = new SharedEncoders.Guarded(cold);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Integer> call = pool.submit(guarded::dimension);
      assertThat(inCall.await(10, TimeUnit.SECONDS)).isTrue();
      guarded.close();
      assertThat(innerClosed).as("closed under a running dimension call").isFalse();
      release.countDown();
      assertThat(call.get(10, TimeUnit.SECONDS)).isEqualTo(2);
      assertThatThrownBy(guarded::dimension).hasMessageContaining("shutting down");
    } finally {
      pool.shutdownNow();
    }
  }
}
