/**
 * Similarity search over unit vectors: the {@link dev.itemsim.similarity.MatMulKernel} contract and its
 * BLAS implementations (netlib, bound once per JVM to the bundled or the system OpenBLAS by
 * {@link dev.itemsim.similarity.NativeBlas}), bounded per-row top-N selection fused with block products, and
 * the blocked exact top-N over a Spark cluster ({@link dev.itemsim.similarity.BlockedTopN}).
 */
package dev.itemsim.similarity;
