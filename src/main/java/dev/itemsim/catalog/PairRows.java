package dev.itemsim.catalog;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.itemsim.InvalidInputException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;

/**
 * A file of item pairs, {@code id_a, id_b} and an optional {@code label} (1 or true: a match; 0 or false: a
 * non-match), as CSV with a header or Parquet, read on the driver. Every row must be readable: a broken CSV
 * record, a blank id or another label fails naming the file, its key and the row.
 */
public final class PairRows {
  private static final List<String> CSV_SUFFIXES = List.of(".csv", ".csv.gz", ".csv.bz2", ".csv.deflate",
      ".csv.zst", ".csv.lz4", ".csv.snappy");

  private PairRows() {}

  /**
   * One row of a pair file.
   *
   * @param row the row's number among the file's data rows, from 1
   * @param match its label ({@code true} without a label column)
   */
  public record Pair(int row, String a, String b, boolean match) {}

  /**
   * A pair file whole: its columns, and per row the pair and every column's value as text.
   *
   * @param values per row of {@code pairs}, the values of {@code columns} (null where empty)
   */
  public record Table(List<String> columns, List<Pair> pairs, List<String[]> values) {}

  /** The rows of the pair file at {@code path} ({@link #readTable}). */
  public static List<Pair> read(SparkSession spark, String path, String key, String what) {
    return readTable(spark, path, key, what).pairs();
  }

  /**
   * The pair file at {@code path}, every row checked: it must be a readable record with both ids and a label
   * of 1, 0, true or false, and no pair may be labelled both a match and a non-match.
   *
   * @param key the configuration key (or option) naming {@code path}, which errors name
   * @param what what the file is, for errors ("Match file")
   */
  public static Table readTable(SparkSession spark, String path, String key, String what) {
    String format = format(spark, path);
    var raw = CatalogReader.read(spark, path, key, format, CatalogReader.DEFAULT_CSV_MAX_RECORD_LINES);
    List<String> columns = new ArrayList<>(Arrays.asList(raw.columns()));
    boolean csv = columns.remove(CatalogReader.CORRUPT_COLUMN);
    columns.remove(CatalogReader.SOURCE_FILE_COLUMN);
    String file = what + " " + key + " = " + path;
    for (String name : List.of("id_a", "id_b", "label")) {
      String near = columns.stream().filter(c -> !c.equals(name) && c.trim().equalsIgnoreCase(name)).findFirst()
          .orElse(null);
      if (near != null && !columns.contains(name)) {  // not read as the column it looks like: say so
        throw new InvalidInputException(file + " has a column '" + near + "' but no '" + name + "': column names "
            + "are case-sensitive; columns found: " + String.join(", ", columns));
      }
    }
    if (!columns.contains("id_a") || !columns.contains("id_b")) {
      throw new InvalidInputException(file + " needs columns id_a and id_b (and optionally label); columns found: "
          + String.join(", ", columns));
    }
    int ia = columns.indexOf("id_a");
    int ib = columns.indexOf("id_b");
    int il = columns.indexOf("label");
    List<Column> select = new ArrayList<>();
    columns.forEach(c -> select.add(col("`" + c.replace("`", "``") + "`").cast(DataTypes.StringType)));
    select.add(csv ? col(CatalogReader.CORRUPT_COLUMN) : lit(null).cast(DataTypes.StringType));
    List<Pair> pairs = new ArrayList<>();
    List<String[]> values = new ArrayList<>();
    Map<List<String>, Pair> firstByLabel = new HashMap<>();
    List<String> conflicts = new ArrayList<>();
    int row = 0;
    for (Row r : raw.select(select.toArray(Column[]::new)).collectAsList()) {
      row++;
      if (!r.isNullAt(columns.size())) {
        String record = r.getString(columns.size());
        throw new InvalidInputException(file + ", row " + row + " cannot be read as CSV: "
            + (record.length() <= 80 ? record : record.substring(0, 80) + "..."));
      }
      String[] v = new String[columns.size()];
      for (int k = 0; k < v.length; k++) {
        v[k] = r.isNullAt(k) ? null : r.getString(k);
      }
      if (v[ia] == null || v[ib] == null || v[ia].isBlank() || v[ib].isBlank()) {
        throw new InvalidInputException(file + ", row " + row + ": id_a and id_b must both be set");
      }
      Pair pair = new Pair(row, v[ia], v[ib], il < 0 || label(v[il], file, row));
      Pair other = firstByLabel.get(List.of(pair.a(), pair.b(), String.valueOf(!pair.match())));
      if (other != null) {
        conflicts.add("the pair " + pair.a() + ", " + pair.b() + " is labelled a match in row "
            + (pair.match() ? pair : other).row() + " and a non-match in row " + (pair.match() ? other : pair).row());
      }
      firstByLabel.putIfAbsent(List.of(pair.a(), pair.b(), String.valueOf(pair.match())), pair);
      pairs.add(pair);
      values.add(v);
    }
    if (!conflicts.isEmpty()) {
      throw new InvalidInputException(file + ": " + conflicts.size() + " pair(s) labelled both ways: "
          + String.join("; ", conflicts.subList(0, Math.min(5, conflicts.size())))
          + (conflicts.size() > 5 ? "; ..." : ""));
    }
    return new Table(List.copyOf(columns), pairs, values);
  }

  private static boolean label(String value, String file, int row) {
    String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "1", "1.0", "true" -> true;
      case "0", "0.0", "false" -> false;
      default -> throw new InvalidInputException(file + ", row " + row + ": label = '" + value
          + "' is not one of 1, 0, true, false");
    };
  }

  /**
   * {@code csv} for a file named {@code *.csv} (compressed too: {@code *.csv.gz}, ...) or a folder whose data files
   * all are; otherwise {@code parquet}.
   */
  public static String format(SparkSession spark, String path) {
    if (isCsv(path)) {
      return "csv";
    }
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(conf);
      if (fs.getFileStatus(p).isDirectory()) {
        List<String> names = new ArrayList<>();
        for (FileStatus f : fs.listStatus(p)) {
          String name = f.getPath().getName();
          if (f.isFile() && f.getLen() > 0 && !name.startsWith("_") && !name.startsWith(".")) {
            names.add(name);
          }
        }
        if (!names.isEmpty() && names.stream().allMatch(PairRows::isCsv)) {
          return "csv";
        }
      }
    } catch (IOException | IllegalArgumentException e) {
      // unreadable or absent: the read that follows names the path and the key
    }
    return "parquet";
  }

  private static boolean isCsv(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    return CSV_SUFFIXES.stream().anyMatch(lower::endsWith);
  }
}
