/**
 * The catalogue side: reading Parquet or CSV with clear errors, checking the columns a job needs, building
 * each item's text from a template, and sorting rows into valid items and counted, reasoned rejections; the
 * same for user-interaction histories ({@link dev.itemsim.catalog.HistoryPreparation}).
 */
package dev.itemsim.catalog;
