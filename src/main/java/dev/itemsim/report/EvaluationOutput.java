package dev.itemsim.report;

/**
 * Where an evaluate job's results are: its run summaries (each holding the metrics of one scorer) and the
 * misses of its latest evaluation.
 *
 * @param name how the report names this evaluation (its output path)
 */
public record EvaluationOutput(String name, String runs, String misses) {}
