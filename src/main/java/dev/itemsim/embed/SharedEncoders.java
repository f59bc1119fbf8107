package dev.itemsim.embed;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One loaded encoder per JVM, {@link EncoderSettings} and assigned GPU: created by the first task that needs
 * it, then shared by every task and thread of that executor that runs with the same settings on the same
 * device, and closed when the JVM exits.
 */
public final class SharedEncoders {
  private record Key(EncoderSettings settings, TaskGpu gpu) {}

  private static final ConcurrentMap<Key, Encoders.Loaded> ENCODERS = new ConcurrentHashMap<>();

  /** How long the exit hook waits for running encode calls before leaving the models to the exiting process. */
  static final long CLOSE_WAIT_MS = 2_000;

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> ENCODERS.values().forEach(l -> l.encoder().close()),
        "itemsim-close-encoders"));
  }

  private SharedEncoders() {}

  /**
   * The JVM's encoder for {@code settings} when no GPU is assigned by Spark.
   */
  public static SentenceEncoder get(EncoderSettings settings) {
    return acquire(settings, null).loaded().encoder();
  }

  /**
   * The JVM's encoder for {@code settings} on {@code gpu} (null: no GPU assigned); {@link Lease#loadedNow}
   * says whether this call loaded it.
   */
  public static Lease acquire(EncoderSettings settings, TaskGpu gpu) {
    boolean[] loadedNow = {false};
    Encoders.Loaded loaded = ENCODERS.computeIfAbsent(new Key(settings, gpu), key -> {
      loadedNow[0] = true;
      Encoders.Loaded fresh = Encoders.load(settings, gpu);
      return new Encoders.Loaded(new Guarded(fresh.encoder()), fresh.device(), fresh.note());
    });
    return new Lease(loaded, loadedNow[0]);
  }

  /** An encoder handed to a task, and whether handing it out loaded the model. */
  public record Lease(Encoders.Loaded loaded, boolean loadedNow) {}

  /**
   * A shared encoder whose close never frees the native model under a running encode call: the JVM's exit hook
   * closes the encoders while executor threads may still be encoding (a job killed with SIGTERM), and freeing an
   * ONNX Runtime session or a PyTorch module under a running call crashes the JVM (SIGSEGV, an hs_err file)
   * instead of letting it exit. Encode calls hold a read lock; close takes the write lock, waiting up to
   * {@value #CLOSE_WAIT_MS} ms for running calls, and when they do not finish in time leaves the model to the
   * exiting process. Calls after close fail with an {@link IllegalStateException}.
   */
  static final class Guarded implements SentenceEncoder {
    private final SentenceEncoder encoder;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile boolean closed;

    Guarded(SentenceEncoder encoder) {
      this.encoder = encoder;
    }

    @Override
    public Encoded encode(List<String> texts) {
      return underReadLock(() -> encoder.encode(texts));
    }

    /** Under the read lock too: before the first encode call, the dimension is found by encoding a text. */
    @Override
    public int dimension() {
      return underReadLock(encoder::dimension);
    }

    private <T> T underReadLock(java.util.function.Supplier<T> call) {
      lock.readLock().lock();
      try {
        if (closed) {
          throw new IllegalStateException("The encoder is closed: this JVM is shutting down");
        }
        return call.get();
      } finally {
        lock.readLock().unlock();
      }
    }

    @Override
    public void close() {
      closed = true;
      boolean locked = false;
      try {
        locked = lock.writeLock().tryLock(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (!locked) {
        return;  // a call is still running: its native memory goes with the process
      }
      try {
        encoder.close();
      } finally {
        lock.writeLock().unlock();
      }
    }
  }

  /** The model under a shared encoder's guard (tests check which engine was loaded). */
  static SentenceEncoder unwrap(SentenceEncoder shared) {
    return shared instanceof Guarded g ? g.encoder : shared;
  }

  /** How many distinct encoders this JVM has loaded (for tests and the run summary). */
  public static int loadedCount() {
    return ENCODERS.size();
  }
}
