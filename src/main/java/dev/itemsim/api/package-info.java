/**
 * itemsim as a library for a Spark application of your own, without itemsim's configuration files:
 * {@link dev.itemsim.api.TextEmbedder} (a Spark ML {@code Transformer} that adds sentence embeddings, usable in
 * an ML {@code Pipeline}, savable and loadable), {@link dev.itemsim.api.NearestNeighbors} (exact cosine top-N
 * over {@code (id, vector)} rows, one dataset or against a second one) and {@link dev.itemsim.api.HybridSearch}
 * (the blended embedding + lexical scorer over {@code (id, text, vector)} rows). They run the same code as the
 * itemsim jobs: the same encoders and batching, the same blocked kernel, the same hybrid scorer.
 */
package dev.itemsim.api;
