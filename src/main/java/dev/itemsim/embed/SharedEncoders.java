package dev.itemsim.embed;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * One loaded encoder per JVM, {@link EncoderSettings} and assigned GPU: created by the first task that needs
 * it, then shared by every task and thread of that executor that runs with the same settings on the same
 * device, and closed when the JVM exits.
 */
public final class SharedEncoders {
  private record Key(EncoderSettings settings, TaskGpu gpu) {}

  private static final ConcurrentMap<Key, Encoders.Loaded> ENCODERS = new ConcurrentHashMap<>();

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
      return Encoders.load(settings, gpu);
    });
    return new Lease(loaded, loadedNow[0]);
  }

  /** An encoder handed to a task, and whether handing it out loaded the model. */
  public record Lease(Encoders.Loaded loaded, boolean loadedNow) {}

  /** How many distinct encoders this JVM has loaded (for tests and the run summary). */
  public static int loadedCount() {
    return ENCODERS.size();
  }
}
