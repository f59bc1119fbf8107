package dev.itemsim.eval;

import dev.itemsim.InvalidInputException;
import dev.itemsim.catalog.PairRows;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/**
 * {@code split-pairs}: a pairs file ({@link PairRows#readTable}: {@code id_a, id_b}, an optional {@code label}
 * and any other columns) split into a training and a test CSV by match-graph component ({@link MatchGraph#split}). Rows with
 * {@code label} 0/false are not edges of the graph: such a row goes to the test file when either of its ids is a
 * test item, else to the training file. Both files are written to temporary files and moved into place.
 */
public final class PairFiles {
  private PairFiles() {}

  /** What the split did. */
  public record Split(int pairs, int components, int trainPairs, int trainComponents, int testPairs,
      int testComponents) {}

  public static Split split(SparkSession spark, String pairsPath, Path train, Path test, double testFraction,
      long seed) {
    PairRows.Table table = PairRows.readTable(spark, pairsPath, "--pairs", "Pairs file");
    List<String> columns = table.columns();
    int ia = columns.indexOf("id_a");
    int ib = columns.indexOf("id_b");
    List<String[]> positives = new ArrayList<>();
    List<String[]> negatives = new ArrayList<>();
    for (int i = 0; i < table.pairs().size(); i++) {
      (table.pairs().get(i).match() ? positives : negatives).add(table.values().get(i));
    }
    if (positives.isEmpty()) {
      throw new InvalidInputException("Pairs file " + pairsPath + " has no pairs to split");
    }
    List<String[]> edges = positives.stream().map(v -> new String[] {v[ia], v[ib]}).toList();
    MatchGraph graph = new MatchGraph(edges);
    MatchGraph.Split s = graph.split(testFraction, seed);
    Set<String> testComponents = new HashSet<>();
    s.test().forEach(p -> testComponents.add(graph.component(p[0])));
    List<String[]> trainRows = new ArrayList<>();
    List<String[]> testRows = new ArrayList<>();
    for (String[] v : positives) {
      (testComponents.contains(graph.component(v[ia])) ? testRows : trainRows).add(v);
    }
    for (String[] v : negatives) {
      boolean touchesTest = testComponents.contains(graph.component(v[ia]))
          || testComponents.contains(graph.component(v[ib]));
      (touchesTest ? testRows : trainRows).add(v);
    }
    writeCsv(train, columns, trainRows);
    writeCsv(test, columns, testRows);
    return new Split(positives.size(), s.trainComponents() + s.testComponents(), s.train().size(),
        s.trainComponents(), s.test().size(), s.testComponents());
  }

  private static void writeCsv(Path file, List<String> columns, List<String[]> rows) {
    Path dir = file.toAbsolutePath().getParent();
    try {
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
      try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        out.write(String.join(",", columns.stream().map(PairFiles::quote).toList()));
        out.write('\n');
        for (String[] row : rows) {
          List<String> fields = new ArrayList<>();
          for (String v : row) {
            fields.add(v == null ? "" : quote(v));
          }
          out.write(String.join(",", fields));
          out.write('\n');
        }
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + file, e);
    }
  }

  private static String quote(String v) {
    boolean needs = v.indexOf(',') >= 0 || v.indexOf('"') >= 0 || v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0
        || !v.equals(v.trim());
    return needs ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
  }
}
