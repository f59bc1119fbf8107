/** The {@code itemsim} command line (picocli): run a job spec, show an item's neighbours. */
package dev.itemsim.cli;
