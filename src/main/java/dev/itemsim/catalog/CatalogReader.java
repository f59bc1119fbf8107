package dev.itemsim.catalog;

import dev.itemsim.InvalidInputException;
import dev.itemsim.StrictReads;
import java.util.List;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Opens a catalogue as a DataFrame. Parquet keeps its types. CSV is read with a header, every column as a
 * string (ids keep leading zeros), UTF-8, RFC-4180 quoting ({@code ""} inside quotes; quoted fields may span
 * lines). A malformed CSV record costs that record only, and a broken quote costs only its line: it becomes
 * one row with its raw text in {@value #CORRUPT_COLUMN}, and reading resumes at the next line.
 */
public final class CatalogReader {
  /** Column that holds the raw text of a CSV record that could not be parsed (null for good rows). */
  public static final String CORRUPT_COLUMN = "_corrupt_record";
  /** Column that names the file each CSV row came from (Parquet rows have none: use input_file_name()). */
  public static final String SOURCE_FILE_COLUMN = "_source_file";
  /**
   * Physical lines one CSV record may span ({@code input.csvMaxRecordLines}). A quoted field still open after
   * this many lines is taken for a missing closing quote: only its first line is rejected.
   */
  public static final int DEFAULT_CSV_MAX_RECORD_LINES = 100;

  private CatalogReader() {}

  public static Dataset<Row> read(SparkSession spark, String path, String format) {
    return read(spark, path, format, DEFAULT_CSV_MAX_RECORD_LINES);
  }

  /** @param csvMaxRecordLines physical lines one CSV record may span, at least 1 */
  public static Dataset<Row> read(SparkSession spark, String path, String format, int csvMaxRecordLines) {
    return read(spark, path, CatalogKeys.INPUT.path(), format, csvMaxRecordLines);
  }

  /** As {@link #read(SparkSession, String, String, int)}; its errors name {@code pathKey}, the path's key. */
  public static Dataset<Row> read(SparkSession spark, String path, String pathKey, String format,
      int csvMaxRecordLines) {
    try {
      return switch (format) {
        case "parquet" -> StrictReads.parquet(spark, path);
        case "csv" -> CsvFiles.read(spark, path, pathKey, csvMaxRecordLines);
        default -> throw new InvalidInputException("input.format = '" + format + "' is not one of parquet, csv");
      };
    } catch (InvalidInputException e) {
      throw e;
    } catch (Exception e) {
      // Scala throws AnalysisException (a checked exception in Java's eyes) without declaring it.
      String message = e instanceof AnalysisException ae ? ae.getSimpleMessage() : e.getMessage();
      throw new InvalidInputException("Cannot read " + pathKey + " = " + path + " as " + format + ": "
          + message, e);
    }
  }

  /** Nullable string columns {@code columns}, then {@value #CORRUPT_COLUMN} and {@value #SOURCE_FILE_COLUMN}. */
  static StructType stringSchema(List<String> columns) {
    StructType schema = new StructType();
    for (String column : columns) {
      schema = schema.add(column, DataTypes.StringType, true);
    }
    return schema.add(CORRUPT_COLUMN, DataTypes.StringType, true).add(SOURCE_FILE_COLUMN, DataTypes.StringType, true);
  }
}
