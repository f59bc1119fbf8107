/**
 * Finding each item's best neighbours. The {@link dev.itemsim.similarity.Retriever} contract and its
 * implementations — exact embedding cosine ({@link dev.itemsim.similarity.EmbeddingRetriever}), lexical
 * TF-IDF ({@link dev.itemsim.similarity.LexicalRetriever}) and their blend
 * ({@link dev.itemsim.similarity.HybridRetriever}) — picked by name in {@link dev.itemsim.similarity.Retrievers},
 * and the retrieval stage every caller runs them through ({@link dev.itemsim.similarity.NeighborSearch}:
 * filters, duplicate collapsing, minimum score). How embedding neighbours are found is a
 * {@link dev.itemsim.similarity.SearchMethod} ({@code similarity.method}): exact, or approximate through inverted
 * lists with its recall measured on every run ({@link dev.itemsim.similarity.IvfSearch}: a spherical k-means
 * quantiser trained on the driver, list segment files, a task plan of bounded work, the exact search's kernel and
 * scan). Underneath: the {@link dev.itemsim.similarity.MatMulKernel}
 * contract and its BLAS implementations (netlib, bound once per JVM to the bundled or the system OpenBLAS by
 * {@link dev.itemsim.similarity.NativeBlas}), block layout in memory or as files, bounded per-row top-N selection
 * fused with block products, and the blocked exact top-N over a Spark cluster
 * ({@link dev.itemsim.similarity.BlockedTopN}); for the lexical and hybrid scorers, both sides as shard files
 * ({@code ItemShards}) that tasks scan chunk by chunk ({@code ShardSearch}: sparse candidates through an
 * inverted index, exact re-scoring blended by {@link dev.itemsim.similarity.Blend}), with TF-IDF weights
 * fitted on the texts or frozen at the last full run ({@link dev.itemsim.similarity.LexicalFeatures.Frequencies}).
 * Lists carried from one run to the next ({@link dev.itemsim.similarity.IncrementalLists}: stored prefixes,
 * {@link dev.itemsim.similarity.ScoredList}, updated with streamed products against the changed items,
 * {@link dev.itemsim.similarity.StreamedTopN}). Also what searches are made of and why they score as they do:
 * user profile vectors ({@link dev.itemsim.similarity.UserProfiles}) and score explanations
 * ({@link dev.itemsim.similarity.ScoreExplainer}, through the same {@link dev.itemsim.similarity.Blend}).
 * Nothing here knows of jobs or the command line.
 */
package dev.itemsim.similarity;
