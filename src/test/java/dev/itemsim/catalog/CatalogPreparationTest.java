package dev.itemsim.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CatalogPreparationTest {
  private static final TextTemplate TEMPLATE = TextTemplate.parse("{title} | {brand}", 300);
  private static final StructType SCHEMA = new StructType()
      .add("id", DataTypes.StringType).add("title", DataTypes.StringType).add("brand", DataTypes.StringType);

  private final SparkSession spark = SparkTestSupport.spark();

  @Test
  void classifiesEveryRowOnceAndCountsAddUp() {
    Dataset<Row> raw = spark.createDataFrame(List.of(
        RowFactory.create("1", "Sony Turntable", "Sony"),
        RowFactory.create("2", null, "Bose"),
        RowFactory.create(null, "No id", "X"),
        RowFactory.create("  ", "Blank id", "X"),
        RowFactory.create("7", "First copy", "A"),
        RowFactory.create("7", "Second copy", "B"),
        RowFactory.create("8", " \n ", null),
        RowFactory.create("9", null, null)), SCHEMA);

    PreparedCatalog prepared = CatalogPreparation.prepare(raw, "test", "id", "title", TEMPLATE);

    assertThat(prepared.itemsRead()).isEqualTo(8);
    assertThat(prepared.itemsValid()).isEqualTo(2);
    assertThat(prepared.itemsValid() + prepared.itemsRejected()).isEqualTo(prepared.itemsRead());
    assertThat(prepared.rejectedByReason()).containsEntry("null_id", 1L).containsEntry("blank_id", 1L)
        .containsEntry("duplicate_id", 2L).containsEntry("blank_text", 2L).containsEntry("malformed_row", 0L);
    Map<String, String> items = new HashMap<>();
    prepared.items().collectAsList().forEach(r -> items.put(r.getString(0), r.getString(1)));
    assertThat(items).containsOnly(Map.entry("1", "Sony Turntable | Sony"), Map.entry("2", "Bose"));

    List<Row> rejected = prepared.rejected().orderBy("reason", "record").collectAsList();
    assertThat(rejected).hasSize(6);
    assertThat(rejected).extracting(r -> r.getString(0))
        .containsExactly("blank_id", "blank_text", "blank_text", "duplicate_id", "duplicate_id", "null_id");
    assertThat(rejected.get(3).getString(2)).contains("\"title\":\"First copy\"");
  }

  @Test
  void castsIdsToStringsAndReadsNumbersAsText() {
    StructType schema = new StructType().add("sku", DataTypes.LongType).add("title", DataTypes.StringType)
        .add("size", DataTypes.IntegerType);
    Dataset<Row> raw = spark.createDataFrame(List.of(RowFactory.create(10L, "Shelf", 42)), schema);
    Row item = CatalogPreparation.prepare(raw, "t", "sku", "title", TextTemplate.parse("{title} {size}cm", 50))
        .items().first();
    assertThat(item.getString(0)).isEqualTo("10");
    assertThat(item.getString(1)).isEqualTo("Shelf 42cm");
  }

  @Test
  void missingColumnNamesItAndTheColumnsFound() {
    Dataset<Row> raw = spark.createDataFrame(List.of(RowFactory.create("1", "t", "b")), SCHEMA);
    assertThatThrownBy(() -> CatalogPreparation.prepare(raw, "cat.parquet", "id", "title",
        TextTemplate.parse("{title} {category}", 10)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("no column 'category'").hasMessageContaining("text.template")
        .hasMessageContaining("columns found: id, title, brand");
    assertThatThrownBy(() -> CatalogPreparation.prepare(raw, "cat.parquet", "product_id", "title", TEMPLATE))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("no column 'product_id'")
        .hasMessageContaining("input.idColumn");
  }

  @Test
  void nonAtomicColumnIsAWrongType() {
    StructType schema = new StructType().add("id", DataTypes.StringType)
        .add("title", DataTypes.createArrayType(DataTypes.StringType));
    Dataset<Row> raw = spark.createDataFrame(List.of(RowFactory.create("1", Arrays.asList("a", "b"))), schema);
    assertThatThrownBy(() -> CatalogPreparation.prepare(raw, "c", "id", "title", TextTemplate.parse("{title}", 9)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("column 'title'").hasMessageContaining("array<string>");
  }

  @Test
  void emptyCatalogueIsAnError() {
    Dataset<Row> raw = spark.createDataFrame(List.of(), SCHEMA);
    assertThatThrownBy(() -> CatalogPreparation.prepare(raw, "empty.parquet", "id", "title", TEMPLATE))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("input.path = empty.parquet has no rows");
    CatalogKeys left = new CatalogKeys("match.left.path", "match.left.idColumn", "match.left.titleColumn",
        "match.left.template");
    assertThatThrownBy(() -> CatalogPreparation.prepare(raw, "empty.parquet", left, "id", "title", TEMPLATE,
        Map.of())).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("Catalogue match.left.path = empty.parquet has no rows");
  }

  @Test
  void unreadablePathNamesThePath(@TempDir Path dir) {
    String missing = dir.resolve("nowhere").toString();
    assertThatThrownBy(() -> CatalogReader.read(spark, missing, "parquet"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining(missing);
    assertThatThrownBy(() -> CatalogReader.read(spark, missing, "json"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("input.format");
  }

  @Test
  void malformedCsvLinesAreRejectedNotDropped(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("catalog.csv");
    Files.writeString(csv, "id,title,brand\n1,Good row,Sony\n2,Too,many,fields,here\n3,\"Quoted, with comma\",\n");
    Dataset<Row> raw = CatalogReader.read(spark, csv.toString(), "csv");
    PreparedCatalog prepared = CatalogPreparation.prepare(raw, csv.toString(), "id", "title", TEMPLATE);
    assertThat(prepared.itemsRead()).isEqualTo(3);
    assertThat(prepared.rejectedByReason()).containsEntry("malformed_row", 1L);
    assertThat(prepared.items().collectAsList()).extracting(r -> r.getString(1))
        .containsExactlyInAnyOrder("Good row | Sony", "Quoted, with comma");
    Row bad = prepared.rejected().first();
    assertThat(bad.getString(1)).isEqualTo("2");
    assertThat(bad.getString(3)).endsWith("catalog.csv");
  }
}
