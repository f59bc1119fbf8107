/**
 * Sentence embeddings: model specs and the built-in models, the {@link dev.itemsim.embed.SentenceEncoder}
 * contract, the DJL + ONNX Runtime implementation (length-sorted dynamic batches, mean pooling, L2
 * normalisation), one shared encoder per JVM, and the partition-wise Spark encode stage. itemsim's BERT
 * ({@code BertModel}) is one forward pass for encoding on PyTorch and for fine-tuning
 * ({@link dev.itemsim.embed.ContrastiveTrainer}); tuned weights are written as a model folder
 * ({@link dev.itemsim.embed.ModelFolder}: safetensors, and the base ONNX graph with new initialisers).
 */
package dev.itemsim.embed;
