package dev.itemsim.embed;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * One loaded encoder per JVM and {@link EncoderSettings}: created lazily by the first task that needs it,
 * then shared by every task and thread of that executor, and closed when the JVM exits.
 */
public final class SharedEncoders {
  private static final ConcurrentMap<EncoderSettings, SentenceEncoder> ENCODERS = new ConcurrentHashMap<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> ENCODERS.values().forEach(SentenceEncoder::close),
        "itemsim-close-encoders"));
  }

  private SharedEncoders() {}

  public static SentenceEncoder get(EncoderSettings settings) {
    return ENCODERS.computeIfAbsent(settings, Encoders::load);
  }

  /** How many distinct encoders this JVM has loaded (for tests and the run summary). */
  public static int loadedCount() {
    return ENCODERS.size();
  }
}
