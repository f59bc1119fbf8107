package dev.itemsim.catalog;

import dev.itemsim.InvalidInputException;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Opens a catalogue as a DataFrame. Parquet keeps its types. CSV is read with a header, every column as a
 * string (ids keep leading zeros), and malformed lines kept in {@value #CORRUPT_COLUMN} rather than dropped.
 */
public final class CatalogReader {
  /** Column that holds a CSV line Spark could not parse (null for good lines). */
  public static final String CORRUPT_COLUMN = "_corrupt_record";

  private CatalogReader() {}

  public static Dataset<Row> read(SparkSession spark, String path, String format) {
    try {
      return switch (format) {
        case "parquet" -> spark.read().parquet(path);
        case "csv" -> readCsv(spark, path);
        default -> throw new InvalidInputException("input.format = '" + format + "' is not one of parquet, csv");
      };
    } catch (InvalidInputException e) {
      throw e;
    } catch (Exception e) {
      // Scala throws AnalysisException (a checked exception in Java's eyes) without declaring it.
      String message = e instanceof AnalysisException ae ? ae.getSimpleMessage() : e.getMessage();
      throw new InvalidInputException("Cannot read catalogue input.path = " + path + " as " + format + ": "
          + message, e);
    }
  }

  private static Dataset<Row> readCsv(SparkSession spark, String path) {
    StructType header = csvReader(spark).load(path).schema();
    StructType schema = new StructType();
    for (StructField f : header.fields()) {
      schema = schema.add(f.name(), DataTypes.StringType, true);
    }
    schema = schema.add(CORRUPT_COLUMN, DataTypes.StringType, true);
    return csvReader(spark)
        .schema(schema)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT_COLUMN)
        .load(path);
  }

  private static org.apache.spark.sql.DataFrameReader csvReader(SparkSession spark) {
    return spark.read().format("csv")
        .option("header", "true")
        .option("inferSchema", "false")
        .option("multiLine", "true")
        .option("escape", "\"")
        .option("encoding", "UTF-8");
  }
}
