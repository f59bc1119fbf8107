package dev.itemsim.similarity;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The candidate test of the fused top-N scans: which scores of a chunk of up to 64 could enter a top-N list,
 * either their row's (score ≥ the row's threshold) or their column's (score ≥ that column's threshold).
 * Answered as a bit mask, so the scans look only at the few candidates, one by one.
 *
 * <p>The SIMD version needs the JDK's incubating Vector API ({@code --add-modules jdk.incubator.vector} on
 * the driver and executors, as {@code scripts/itemsim} and the test and benchmark JVMs pass it). Without it
 * {@link #best()} returns the scalar loop: same results, a slower scan. {@link #name()} says which one runs;
 * the job logs it and puts it in the run summary.
 */
public interface ScoreChunks {
  /** Most scores one call tests: one bit each in a {@code long}. */
  int MAX_LENGTH = 64;

  /**
   * Bit {@code k} (k &lt; {@code length} ≤ 64) is set when {@code c[cFrom + k] ≥ min(rowThreshold,
   * columnThresholds[tFrom + k])}: the score may enter its row's or its column's list. NaN scores are never
   * candidates. Other bits below {@code length} may be set too (the SIMD test flags whole vectors), never
   * bits at or above it. The caller re-checks each candidate against the current thresholds, which only
   * rise, so thresholds read at the start of a chunk are safe to use for all of it.
   */
  long candidates(float[] c, int cFrom, float[] columnThresholds, int tFrom, int length, float rowThreshold);

  /** "vector(512-bit)" or "scalar", for logs and run summaries. */
  String name();

  /** The fastest test this JVM supports. */
  static ScoreChunks best() {
    return Holder.BEST;
  }

  /** One comparison per score, in plain Java. */
  ScoreChunks SCALAR = new ScoreChunks() {
    @Override
    public long candidates(float[] c, int cFrom, float[] columnThresholds, int tFrom, int length,
        float rowThreshold) {
      long bits = 0;
      for (int k = 0; k < length; k++) {
        float s = c[cFrom + k];
        if (s >= rowThreshold || s >= columnThresholds[tFrom + k]) {
          bits |= 1L << k;
        }
      }
      return bits;
    }

    @Override
    public String name() {
      return "scalar";
    }
  };

  /** Resolved once per JVM. */
  final class Holder {
    private static final Logger LOG = LoggerFactory.getLogger(ScoreChunks.class);
    static final ScoreChunks BEST = resolve();

    private Holder() {}

    private static ScoreChunks resolve() {
      if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
        LOG.info("top-N scan: scalar (start the JVMs with --add-modules jdk.incubator.vector for the vectorised "
            + "candidate test)");
        return SCALAR;
      }
      try {
        ScoreChunks vector = (ScoreChunks) Class.forName("dev.itemsim.similarity.VectorScoreChunks")
            .getDeclaredConstructor().newInstance();
        LOG.info("top-N scan: {}", vector.name());
        return vector;
      } catch (ReflectiveOperationException | LinkageError e) {
        LOG.warn("top-N scan: scalar, the Vector API could not be used ({}); same results, about 10 % slower. "
            + "Report it with the JVM's version", e.toString());
        return SCALAR;
      }
    }
  }
}
