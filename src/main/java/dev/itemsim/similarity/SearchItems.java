package dev.itemsim.similarity;

import dev.itemsim.InvalidInputException;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * The columns every retriever reads: {@value #ID} (string, unique, not null), {@value #EMBEDDING}
 * ({@code array<float>}, unit length, one dimension for all), {@value #TEXT} (string; read by lexical
 * scoring) and any filter columns (strings). Other columns are ignored.
 */
public final class SearchItems {
  public static final String ID = "item_id";
  public static final String EMBEDDING = "embedding";
  public static final String TEXT = "text";

  private SearchItems() {}

  /**
   * Fails naming {@code role} (e.g. "queries") and the column when a column the search needs is missing or
   * of the wrong type.
   */
  public static void check(Dataset<Row> items, String role, boolean needsEmbedding, boolean needsText,
      List<String> filterColumns) {
    require(items, role, ID, DataTypes.StringType);
    if (needsEmbedding) {
      require(items, role, EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType));
    }
    if (needsText) {
      require(items, role, TEXT, DataTypes.StringType);
    }
    for (String c : filterColumns) {
      require(items, role, c, DataTypes.StringType);
    }
  }

  private static void require(Dataset<Row> items, String role, String column, DataType type) {
    StructField field = Arrays.stream(items.schema().fields()).filter(f -> f.name().equals(column)).findFirst()
        .orElseThrow(() -> new InvalidInputException("The " + role + " have no column '" + column + "'; columns: "
            + String.join(", ", items.columns())));
    DataType actual = field.dataType();
    boolean ok = type instanceof ArrayType want && actual instanceof ArrayType got
        ? want.elementType().equals(got.elementType()) : actual.equals(type);
    if (!ok) {
      throw new InvalidInputException("The " + role + "' column '" + column + "' has type "
          + actual.simpleString() + ", expected " + type.simpleString());
    }
  }
}
