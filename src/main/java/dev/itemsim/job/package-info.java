/**
 * Jobs: one class per job with its typed, validated configuration; each reads as load → validate → encode →
 * search → write, every step a named Spark job group, with outputs published atomically and a run summary.
 */
package dev.itemsim.job;
