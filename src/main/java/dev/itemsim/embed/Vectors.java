package dev.itemsim.embed;

/** Small float-vector helpers. */
public final class Vectors {
  private Vectors() {}

  /** Scales {@code v} in place to unit L2 norm (a zero vector stays zero) and returns it. */
  public static float[] normalize(float[] v) {
    double sq = 0;
    for (float x : v) {
      sq += (double) x * x;
    }
    if (sq > 0) {
      float inv = (float) (1.0 / Math.sqrt(sq));
      for (int i = 0; i < v.length; i++) {
        v[i] *= inv;
      }
    }
    return v;
  }

  /** Cosine of two vectors, computed in double. */
  public static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
