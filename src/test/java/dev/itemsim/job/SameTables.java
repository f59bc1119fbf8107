package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.SparkTestSupport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Exact comparison of job outputs: the same rows, bit for bit (scores and vectors as stored). */
final class SameTables {
  private SameTables() {}

  /** Asserts that table {@code relative} (e.g. {@code similar_items/run_date=D}) holds the same rows in both. */
  static void assertSameRows(Path expectedOutput, Path actualOutput, String relative, String... columns) {
    assertThat(read(expectedOutput, relative, columns).count()).as("rows of %s in %s", relative, expectedOutput)
        .isPositive();
    assertSameRowsOrNone(expectedOutput, actualOutput, relative, columns);
  }

  /** As {@link #assertSameRows}, for a table that may be empty in both. */
  static void assertSameRowsOrNone(Path expectedOutput, Path actualOutput, String relative, String... columns) {
    Dataset<Row> expected = read(expectedOutput, relative, columns);
    Dataset<Row> actual = read(actualOutput, relative, columns);
    long expectedRows = expected.count();
    assertThat(actual.count()).as("rows of %s in %s", relative, actualOutput).isEqualTo(expectedRows);
    List<Row> missing = expected.exceptAll(actual).limit(5).collectAsList();
    List<Row> extra = actual.exceptAll(expected).limit(5).collectAsList();
    assertThat(missing).as("rows of %s only in %s (first 5)", relative, expectedOutput).isEmpty();
    assertThat(extra).as("rows of %s only in %s (first 5)", relative, actualOutput).isEmpty();
  }

  /** The {@code similar_items} partition, {@code embeddings} and {@code rejected} partition of a run date. */
  static void assertSameSimilarItems(Path expectedOutput, Path actualOutput, java.time.LocalDate date) {
    assertSameRows(expectedOutput, actualOutput, OutputLayout.similarItems(date));
    assertSameRows(expectedOutput, actualOutput, OutputLayout.EMBEDDINGS, "item_id", "model", "text_hash",
        "embedding", "text");
  }

  private static Dataset<Row> read(Path output, String relative, String... columns) {
    Dataset<Row> table = SparkTestSupport.spark().read().parquet(output.resolve(relative).toString());
    return columns.length == 0 ? table : table.selectExpr(columns);
  }

  /** The summary of the latest run under {@code output}. */
  static JsonNode latestSummary(Path output) {
    try (Stream<Path> runs = Files.list(output.resolve(OutputLayout.RUNS))) {
      Path latest = runs.filter(p -> p.toString().endsWith(".json"))
          .max(Comparator.comparing(p -> p.getFileName().toString())).orElseThrow();
      return new ObjectMapper().readTree(latest.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
