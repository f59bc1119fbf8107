/**
 * Evaluation against labelled pairs: ranking metrics (recall@K, MRR, nDCG@10) of neighbour lists against
 * true matches, reading match files, and the error analysis of misses.
 */
package dev.itemsim.eval;
