package dev.itemsim.embed;

import java.util.List;

/**
 * Turns texts into L2-normalised float32 sentence vectors. Implementations are thread-safe and expensive to
 * create: share one per JVM and model ({@link SharedEncoders}).
 */
public interface SentenceEncoder extends AutoCloseable {

  /**
   * Encodes {@code texts}; vector {@code i} of the result belongs to {@code texts.get(i)} whatever order the
   * implementation batches them in. Texts longer than the configured token limit are truncated.
   */
  Encoded encode(List<String> texts);

  /** Length of every vector. */
  int dimension();

  @Override
  void close();

  /**
   * Vectors in input order, with the work it took: {@code tokens} real tokens and {@code paddedTokens} slots
   * the model ran over (tokens plus padding), for throughput and padding-efficiency figures.
   */
  record Encoded(float[][] vectors, long tokens, long paddedTokens) {}
}
