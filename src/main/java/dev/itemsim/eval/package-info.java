/**
 * Evaluation against labelled pairs: ranking metrics (recall@K, MRR, nDCG@10) of neighbour lists against
 * true matches, reading match files, the error analysis of misses, and the match graph: its components and
 * the split of pairs by component that never leaks a held-out item ({@code split-pairs}).
 */
package dev.itemsim.eval;
