/**
 * Jobs as compositions of shared stages: {@link dev.itemsim.job.CorpusStage} (read → validate → build texts →
 * encode), the retrieval stage ({@link dev.itemsim.similarity.NeighborSearch} with the configured retriever),
 * and publishing ({@link dev.itemsim.job.OutputLayout} names every table once,
 * {@link dev.itemsim.job.OutputPublisher} replaces all of a run's tables together or none,
 * {@link dev.itemsim.job.OutputLock} keeps one run per output), all inside {@link dev.itemsim.job.JobRun}, which
 * classifies failures and always writes the typed {@link dev.itemsim.job.RunSummary}. One class per job with
 * its typed, validated configuration ({@link dev.itemsim.job.SimilarItemsJob}, {@link dev.itemsim.job.EvaluateJob},
 * {@link dev.itemsim.job.MatchJob}); each step is a named Spark job group.
 */
package dev.itemsim.job;
