/**
 * Finding each item's best neighbours. The {@link dev.itemsim.similarity.Retriever} contract and its
 * implementations — exact embedding cosine ({@link dev.itemsim.similarity.EmbeddingRetriever}), lexical
 * TF-IDF ({@link dev.itemsim.similarity.LexicalRetriever}) and their blend
 * ({@link dev.itemsim.similarity.HybridRetriever}) — picked by name in {@link dev.itemsim.similarity.Retrievers},
 * and the retrieval stage every caller runs them through ({@link dev.itemsim.similarity.NeighborSearch}:
 * filters, duplicate collapsing, minimum score). Underneath: the {@link dev.itemsim.similarity.MatMulKernel}
 * contract and its BLAS implementations (netlib, bound once per JVM to the bundled or the system OpenBLAS by
 * {@link dev.itemsim.similarity.NativeBlas}), block layout in memory or as files, bounded per-row top-N selection
 * fused with block products, and the blocked exact top-N over a Spark cluster
 * ({@link dev.itemsim.similarity.BlockedTopN}). Also what searches are made of and why they score as they do:
 * user profile vectors ({@link dev.itemsim.similarity.UserProfiles}) and score explanations
 * ({@link dev.itemsim.similarity.ScoreExplainer}). Nothing here knows of jobs or the command line.
 */
package dev.itemsim.similarity;
