/**
 * Sentence embeddings: model specs and the built-in models, the {@link dev.itemsim.embed.SentenceEncoder}
 * contract, the DJL + ONNX Runtime implementation (length-sorted dynamic batches, mean pooling, L2
 * normalisation), one shared encoder per JVM, and the partition-wise Spark encode stage.
 */
package dev.itemsim.embed;
