/**
 * Jobs as compositions of shared stages: {@link dev.itemsim.job.CorpusStage} (read → validate → build texts →
 * encode, reusing stored vectors through {@link dev.itemsim.job.PreviousVectors}: the previous run's for the
 * similar-items job, {@code match.catalogEmbeddings} for the match job), the retrieval stage
 * ({@link dev.itemsim.similarity.NeighborSearch} with the configured retriever), and publishing ({@link dev.itemsim.job.OutputLayout} names every table once,
 * {@link dev.itemsim.job.OutputPublisher} replaces all of a run's tables together or none,
 * {@link dev.itemsim.job.OutputLock} keeps one run per output, {@link dev.itemsim.job.NeighborState} is what the
 * next run starts from), all inside {@link dev.itemsim.job.JobRun}, which
 * classifies failures (a task failing on bad input ends the run at once: {@link dev.itemsim.job.TaskMonitor}, which
 * also counts lost executors, failed and speculative tasks) and always writes the typed
 * {@link dev.itemsim.job.RunSummary}. One class per job with its typed, validated configuration
 * ({@link dev.itemsim.job.SimilarItemsJob}, {@link dev.itemsim.job.EvaluateJob}, {@link dev.itemsim.job.MatchJob});
 * each step is a named Spark job group.
 */
package dev.itemsim.job;
