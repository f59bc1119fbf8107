package dev.itemsim.catalog;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.itemsim.InvalidInputException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
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
   * The rows of the pair file at {@code path}.
   *
   * @param key the configuration key (or option) naming {@code path}, which errors name
   * @param what what the file is, for errors ("Match file")
   */
  public static List<Pair> read(SparkSession spark, String path, String key, String what) {
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
    boolean labelled = columns.contains("label");
    List<Column> select = new ArrayList<>(List.of(col("id_a").cast(DataTypes.StringType),
        col("id_b").cast(DataTypes.StringType),
        labelled ? col("label").cast(DataTypes.StringType) : lit("1"),
        csv ? col(CatalogReader.CORRUPT_COLUMN) : lit(null).cast(DataTypes.StringType)));
    List<Pair> pairs = new ArrayList<>();
    int row = 0;
    for (Row r : raw.select(select.toArray(Column[]::new)).collectAsList()) {
      row++;
      if (!r.isNullAt(3)) {
        String record = r.getString(3);
        throw new InvalidInputException(file + ", row " + row + " cannot be read as CSV: "
            + (record.length() <= 80 ? record : record.substring(0, 80) + "..."));
      }
      if (r.isNullAt(0) || r.isNullAt(1) || r.getString(0).isBlank() || r.getString(1).isBlank()) {
        throw new InvalidInputException(file + ", row " + row + ": id_a and id_b must both be set");
      }
      pairs.add(new Pair(row, r.getString(0), r.getString(1), label(r.isNullAt(2) ? null : r.getString(2),
          file, row)));
    }
    return pairs;
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
