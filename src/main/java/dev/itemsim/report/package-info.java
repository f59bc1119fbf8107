/**
 * What people look at instead of Parquet: the self-contained HTML report of a published run
 * ({@link dev.itemsim.report.HtmlReport}, charts by {@link dev.itemsim.report.Charts}) and the explained neighbour
 * lists it shares with {@code itemsim show --explain} ({@link dev.itemsim.report.RunExplanations}, over
 * {@link dev.itemsim.similarity.ScoreExplainer}). It reads the tables whose paths the caller names
 * ({@link dev.itemsim.report.RunOutput}) and knows nothing of jobs.
 */
package dev.itemsim.report;
