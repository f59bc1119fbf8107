package dev.itemsim.similarity;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ScoreChunks} on the Vector API: a chunk's scores compared lane-wise with min(row threshold, column
 * thresholds), every lane of a vector flagged when one of them passes. Loaded only when the
 * {@code jdk.incubator.vector} module is present ({@link ScoreChunks#best()}).
 */
final class VectorScoreChunks implements ScoreChunks {
  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = SPECIES.length();
  /** One bit per lane (a float vector has at most 16). */
  private static final long LANE_BITS = (1L << LANES) - 1;

  @Override
  public long candidates(float[] c, int cFrom, float[] columnThresholds, int tFrom, int length,
      float rowThreshold) {
    if (length != MAX_LENGTH || MAX_LENGTH % LANES != 0) {
      return SCALAR.candidates(c, cFrom, columnThresholds, tFrom, length, rowThreshold);
    }
    FloatVector rowGate = FloatVector.broadcast(SPECIES, rowThreshold);
    long bits = 0;
    for (int k = 0; k < MAX_LENGTH; k += LANES) {
      FloatVector gate = FloatVector.fromArray(SPECIES, columnThresholds, tFrom + k).min(rowGate);
      // GE is false for NaN scores, as in the scalar test
      if (FloatVector.fromArray(SPECIES, c, cFrom + k).compare(VectorOperators.GE, gate).anyTrue()) {
        bits |= LANE_BITS << k;
      }
    }
    return bits;
  }

  @Override
  public String name() {
    return "vector(" + SPECIES.vectorBitSize() + "-bit)";
  }
}
