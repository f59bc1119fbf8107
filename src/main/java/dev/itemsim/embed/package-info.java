/**
 * Sentence embeddings: model specs and the built-in models, the {@link dev.itemsim.embed.SentenceEncoder}
 * contract, the DJL + ONNX Runtime implementation (length-sorted dynamic batches, mean pooling, L2
 * normalisation), one shared encoder per JVM and device, and the partition-wise Spark encode stage: on the GPU
 * Spark's resource scheduling assigned to each task ({@link dev.itemsim.embed.TaskGpu}), reporting where it ran
 * ({@link dev.itemsim.embed.EncoderUsage}). Model folders are verified against their checksums file
 * ({@link dev.itemsim.embed.ModelChecksums}).
 */
package dev.itemsim.embed;
