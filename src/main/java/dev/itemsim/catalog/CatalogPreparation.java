package dev.itemsim.catalog;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import dev.itemsim.InvalidInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Checks a raw catalogue's columns, renders every row's text, and classifies rows: valid, or rejected with
 * a {@link RejectReason}. Reasons are tried in the enum's order, so a row gets exactly one.
 */
public final class CatalogPreparation {
  private CatalogPreparation() {}

  /**
   * @param source the catalogue's location, for error messages
   * @throws InvalidInputException if a required or templated column is missing or not atomic, or the
   *     catalogue has no rows
   */
  public static PreparedCatalog prepare(Dataset<Row> raw, String source, String idColumn, String titleColumn,
      TextTemplate template) {
    return prepare(raw, source, idColumn, titleColumn, template, Map.of());
  }

  /**
   * As {@link #prepare(Dataset, String, String, String, TextTemplate)}, also carrying the columns named by
   * {@code carry} (column → the configuration key that asks for it) into {@code items} as strings
   * {@code attr_0, attr_1, ...} in the map's iteration order.
   */
  public static PreparedCatalog prepare(Dataset<Row> raw, String source, String idColumn, String titleColumn,
      TextTemplate template, Map<String, String> carry) {
    return prepare(raw, source, CatalogKeys.INPUT, idColumn, titleColumn, template, carry);
  }

  /**
   * As {@link #prepare(Dataset, String, String, String, TextTemplate, Map)}, its column errors naming
   * {@code keys}' configuration keys.
   */
  public static PreparedCatalog prepare(Dataset<Row> raw, String source, CatalogKeys keys, String idColumn,
      String titleColumn, TextTemplate template, Map<String, String> carry) {
    StructType schema = raw.schema();
    for (Map.Entry<String, String> e : carry.entrySet()) {
      requireAtomicColumn(schema, e.getKey(), e.getValue(), source);
    }
    requireAtomicColumn(schema, idColumn, keys.idColumn(), source);
    requireAtomicColumn(schema, titleColumn, keys.titleColumn(), source);
    for (String field : template.fields()) {
      requireAtomicColumn(schema, field, keys.template(), source);
    }

    List<Column> fieldValues = new ArrayList<>();
    for (int i = 0; i < template.fields().size(); i++) {
      fieldValues.add(quoted(template.fields().get(i)).cast(DataTypes.StringType).as("f" + i));
    }
    UserDefinedFunction render = udf((UDF1<Row, String>) fields -> {
      List<String> values = new ArrayList<>(fields.size());
      for (int i = 0; i < fields.size(); i++) {
        values.add(fields.isNullAt(i) ? null : fields.getString(i));
      }
      return template.render(values);
    }, DataTypes.StringType);

    List<String> columns = Arrays.asList(schema.fieldNames());
    Column malformed = columns.contains(CatalogReader.CORRUPT_COLUMN)
        ? col(CatalogReader.CORRUPT_COLUMN).isNotNull() : lit(false);
    Column sourceFile = columns.contains(CatalogReader.SOURCE_FILE_COLUMN)
        ? col(CatalogReader.SOURCE_FILE_COLUMN) : input_file_name();
    Column[] recordColumns = columns.stream().filter(c -> !c.equals(CatalogReader.SOURCE_FILE_COLUMN))
        .map(CatalogPreparation::quoted).toArray(Column[]::new);
    Column itemId = col("item_id");
    Column text = col("text");
    Column reason = when(col("malformed"), RejectReason.MALFORMED_ROW.code())
        .when(itemId.isNull(), RejectReason.NULL_ID.code())
        .when(trim(itemId).equalTo(""), RejectReason.BLANK_ID.code())
        .when(col("id_count").gt(1), RejectReason.DUPLICATE_ID.code())
        .when(text.equalTo(""), RejectReason.BLANK_TEXT.code());

    List<Column> selected = new ArrayList<>(List.of(quoted(idColumn).cast(DataTypes.StringType).as("item_id"),
        render.apply(struct(fieldValues.toArray(Column[]::new))).as("text"),
        to_json(struct(recordColumns)).as("record"),
        sourceFile.as("source_file"),
        malformed.as("malformed")));
    List<String> itemColumns = new ArrayList<>(List.of("item_id", "text"));
    int k = 0;
    for (String column : carry.keySet()) {
      selected.add(quoted(column).cast(DataTypes.StringType).as("attr_" + k));
      itemColumns.add("attr_" + k++);
    }
    Dataset<Row> classified = raw
        .select(selected.toArray(Column[]::new))
        .withColumn("id_count", count(lit(1)).over(Window.partitionBy("item_id")))
        .withColumn("reason", reason)
        .drop("id_count", "malformed")
        .persist(StorageLevel.MEMORY_AND_DISK());

    Map<String, Long> byReason = new LinkedHashMap<>();
    for (RejectReason r : RejectReason.values()) {
      byReason.put(r.code(), 0L);
    }
    long valid = 0;
    long read = 0;
    for (Row r : classified.groupBy("reason").count().collectAsList()) {
      long n = r.getLong(1);
      read += n;
      if (r.isNullAt(0)) {
        valid = n;
      } else {
        byReason.put(r.getString(0), n);
      }
    }
    if (read == 0) {
      classified.unpersist();
      throw new InvalidInputException("Catalogue " + keys.path() + " = " + source + " has no rows");
    }
    Dataset<Row> items = classified.filter(col("reason").isNull())
        .select(itemColumns.stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new));
    Dataset<Row> rejected = classified.filter(col("reason").isNotNull())
        .select("reason", "item_id", "record", "source_file");
    return new PreparedCatalog(items, rejected, read, valid, byReason, classified);
  }

  private static Column quoted(String column) {
    return col("`" + column.replace("`", "``") + "`");
  }

  private static void requireAtomicColumn(StructType schema, String column, String key, String source) {
    StructField field = Arrays.stream(schema.fields()).filter(f -> f.name().equals(column)).findFirst()
        .orElseThrow(() -> new InvalidInputException("Catalogue " + source + " has no column '" + column
            + "' (needed by " + key + "); columns found: " + String.join(", ", Arrays.stream(schema.fieldNames())
            .filter(n -> !n.equals(CatalogReader.CORRUPT_COLUMN) && !n.equals(CatalogReader.SOURCE_FILE_COLUMN))
            .toList())));
    DataType type = field.dataType();
    if (type instanceof StructType || type instanceof ArrayType || type instanceof MapType
        || type.equals(DataTypes.BinaryType)) {
      throw new InvalidInputException("Catalogue " + source + ": column '" + column + "' (needed by " + key
          + ") has type " + type.simpleString() + "; itemsim reads text, number, boolean or date columns");
    }
  }
}
