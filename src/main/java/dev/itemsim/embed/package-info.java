/**
 * Sentence embeddings: model specs and the built-in models, the {@link dev.itemsim.embed.SentenceEncoder}
 * contract, the DJL + ONNX Runtime implementation (length-sorted dynamic batches, mean pooling, L2
 * normalisation), one shared encoder per JVM and device, and the partition-wise Spark encode stage: on the GPU
 * Spark's resource scheduling assigned to each task ({@link dev.itemsim.embed.TaskGpu}), reporting where it ran
 * ({@link dev.itemsim.embed.EncoderUsage}). Model folders are verified against their checksums file
 * ({@link dev.itemsim.embed.ModelChecksums}).
 * itemsim's BERT ({@code BertModel}) is one forward pass for encoding on PyTorch and for fine-tuning
 * ({@link dev.itemsim.embed.ContrastiveTrainer}); tuned weights are written as a model folder
 * ({@link dev.itemsim.embed.ModelFolder}: safetensors, and the base ONNX graph with new initialisers).
 */
package dev.itemsim.embed;
