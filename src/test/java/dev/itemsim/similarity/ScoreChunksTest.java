package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ScoreChunksTest {
  /** The test JVM starts with --add-modules jdk.incubator.vector (pom), so the SIMD test is the one in use. */
  @Test
  void theVectorTestIsInUseWhenTheModuleIsPresent() {
    assertThat(ModuleLayer.boot().findModule("jdk.incubator.vector")).isPresent();
    assertThat(ScoreChunks.best().name()).startsWith("vector(");
  }

  /**
   * The scalar test sets exactly the bits of scores at or above min(row threshold, column threshold); the
   * vector test may set more (a whole group of lanes) but never misses one, on values with ties at the
   * thresholds, −∞ thresholds, NaN scores and chunks shorter than 64.
   */
  @Test
  void vectorTestNeverMissesACandidateTheScalarTestFinds() {
    ScoreChunks vector = ScoreChunks.best();
    Random random = new Random(17);
    float[] c = new float[300];
    float[] thresholds = new float[300];
    long vectorExtra = 0;
    for (int round = 0; round < 20_000; round++) {
      for (int k = 0; k < c.length; k++) {
        c[k] = random.nextInt(40) == 0 ? Float.NaN : random.nextInt(21) / 20f;
        thresholds[k] = random.nextInt(30) == 0 ? Float.NEGATIVE_INFINITY : 0.5f + random.nextInt(11) / 20f;
      }
      float rowThreshold = random.nextInt(10) == 0 ? Float.NEGATIVE_INFINITY : 0.5f + random.nextInt(11) / 20f;
      int length = random.nextInt(4) == 0 ? 1 + random.nextInt(64) : 64;
      int cFrom = random.nextInt(c.length - length);
      int tFrom = random.nextInt(thresholds.length - length);
      long expected = 0;
      for (int k = 0; k < length; k++) {
        float s = c[cFrom + k];
        if (s >= Math.min(rowThreshold, thresholds[tFrom + k])) {
          expected |= 1L << k;
        }
      }
      assertThat(ScoreChunks.SCALAR.candidates(c, cFrom, thresholds, tFrom, length, rowThreshold))
          .isEqualTo(expected);
      long bits = vector.candidates(c, cFrom, thresholds, tFrom, length, rowThreshold);
      assertThat(bits & expected).as("round %d", round).isEqualTo(expected);
      assertThat(length == 64 ? bits : bits >>> length).as("no bit past the chunk").isEqualTo(length == 64 ? bits : 0);
      vectorExtra += Long.bitCount(bits & ~expected);
    }
    assertThat(vectorExtra).as("the vector test answers per group of lanes").isPositive();
  }
}
