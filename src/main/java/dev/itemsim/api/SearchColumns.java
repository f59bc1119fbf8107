package dev.itemsim.api;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import dev.itemsim.InvalidInputException;
import dev.itemsim.similarity.SearchItems;
import java.util.Arrays;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;

/**
 * A user's {@code (id, vector[, text])} columns turned into the retrievers' {@link SearchItems} columns: ids
 * cast to string, vectors ({@code array<float|double>} or ML {@code Vector}) L2-normalised to
 * {@code array<float>}, so scores are cosines whatever the input's scale. A null id, a null, empty or zero
 * vector, a vector of another dimension than the rest, an id given twice, or (for searches that read texts) a
 * null text fails naming the row's id.
 */
final class SearchColumns {
  private SearchColumns() {}

  static Dataset<Row> of(Dataset<Row> items, String role, String idCol, String vectorCol, String textCol) {
    DataType vectorType = type(items, role, vectorCol);
    type(items, role, idCol);
    boolean mlVector = vectorType.equals(SQLDataTypes.VectorType());
    if (!mlVector && !(vectorType instanceof ArrayType array && array.elementType() instanceof NumericType)) {
      throw new InvalidInputException("The " + role + "' vector column '" + vectorCol + "' has type "
          + vectorType.simpleString() + "; expected array<float>, array<double> or an ML Vector");
    }
    Column id = col(quote(idCol)).cast(DataTypes.StringType);
    Column vector = mlVector ? normalizedVector().apply(id, col(quote(vectorCol)))
        : normalizedArray().apply(id, col(quote(vectorCol)).cast(DataTypes.createArrayType(DataTypes.DoubleType)));
    Dataset<Row> out = textCol == null
        ? items.select(id.as(SearchItems.ID), vector.as(SearchItems.EMBEDDING))
        : items.select(id.as(SearchItems.ID), vector.as(SearchItems.EMBEDDING),
            col(quote(textCol)).cast(DataTypes.StringType).as(SearchItems.TEXT));
    if (textCol != null) {
      type(items, role, textCol);
    }
    Column nullText = textCol == null ? lit(false) : col(SearchItems.TEXT).isNull();
    Row nulls = out.agg(count(when(col(SearchItems.ID).isNull(), 1)), count(when(nullText, 1)),
        min(when(nullText, col(SearchItems.ID)))).first();
    if (nulls.getLong(0) > 0) {
      throw new InvalidInputException("The " + role + " have " + nulls.getLong(0) + " rows with a null '" + idCol
          + "'");
    }
    if (nulls.getLong(1) > 0) {
      throw new InvalidInputException("The " + role + " have " + nulls.getLong(1) + " rows with a null '" + textCol
          + "', the first by id '" + nulls.getString(2) + "': give each item a text (an empty one if it has none)");
    }
    return out;
  }

  private static DataType type(Dataset<Row> items, String role, String column) {
    return Arrays.stream(items.schema().fields()).filter(f -> f.name().equals(column)).map(StructField::dataType)
        .findFirst().orElseThrow(() -> new InvalidInputException("The " + role + " have no column '" + column
            + "'; columns: " + String.join(", ", items.columns())));
  }

  private static String quote(String column) {
    return "`" + column.replace("`", "``") + "`";
  }

  private static UserDefinedFunction normalizedArray() {
    return udf((UDF2<String, scala.collection.Seq<Double>, float[]>) (id, values) -> {
      if (values == null) {
        throw zero(id, "null");
      }
      double[] v = new double[values.size()];
      for (int k = 0; k < v.length; k++) {
        Double d = values.apply(k);
        if (d == null) {
          throw new InvalidInputException("Item '" + id + "': its vector has a null at position " + k);
        }
        v[k] = d;
      }
      return unit(id, v);
    }, DataTypes.createArrayType(DataTypes.FloatType, false));
  }

  private static UserDefinedFunction normalizedVector() {
    return udf((UDF2<String, Vector, float[]>) (id, vector) -> {
      if (vector == null) {
        throw zero(id, "null");
      }
      return unit(id, vector.toArray());
    }, DataTypes.createArrayType(DataTypes.FloatType, false));
  }

  private static float[] unit(String id, double[] v) {
    double norm = 0;
    for (double x : v) {
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    if (v.length == 0 || !(norm > 0) || Double.isInfinite(norm)) {
      throw zero(id, v.length == 0 ? "empty" : Double.isNaN(norm) || Double.isInfinite(norm) ? "not finite"
          : "all zeros");
    }
    float[] out = new float[v.length];
    for (int k = 0; k < v.length; k++) {
      out[k] = (float) (v[k] / norm);
    }
    return out;
  }

  private static InvalidInputException zero(String id, String what) {
    return new InvalidInputException("Item '" + id + "': its vector is " + what + ", so it has no cosine");
  }
}
