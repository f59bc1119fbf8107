package dev.itemsim.catalog;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import dev.itemsim.SparkTestSupport;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvFilesTest {
  private static final TextTemplate TEMPLATE = TextTemplate.parse("{title} | {brand}", 300);

  private final SparkSession spark = SparkTestSupport.spark();
  @TempDir
  Path dir;

  @Test
  void unterminatedQuoteCostsItsLineOnly() throws Exception {
    List<String> lines = new ArrayList<>(List.of("id,title,brand"));
    for (int i = 1; i <= 52; i++) {
      lines.add(i < 9 ? i + ",\"Product " + i + ", size " + i + "\",Brand " + i : i + ",Product " + i + ",Brand " + i);
    }
    String broken = "9,\"Product 9 has no closing quote,Brand 9";
    lines.set(9, broken); // the 10th line of the file; no quote after it closes the field
    Path csv = write("catalog.csv", String.join("\n", lines) + "\n");

    Dataset<Row> raw = CatalogReader.read(spark, csv.toString(), "csv");
    PreparedCatalog prepared = CatalogPreparation.prepare(raw, csv.toString(), "id", "title", TEMPLATE);

    assertThat(prepared.itemsRead()).isEqualTo(52);
    assertThat(prepared.itemsValid()).isEqualTo(51);
    assertThat(prepared.rejectedByReason()).containsEntry("malformed_row", 1L);
    assertThat(raw.filter(col(CatalogReader.CORRUPT_COLUMN).isNotNull()).select(CatalogReader.CORRUPT_COLUMN)
        .as(org.apache.spark.sql.Encoders.STRING()).collectAsList()).containsExactly(broken);
    Row rejected = prepared.rejected().first();
    assertThat(rejected.getString(0)).isEqualTo("malformed_row");
    assertThat(rejected.getString(1)).isEqualTo("9");
    assertThat(rejected.getString(3)).endsWith("catalog.csv");
    assertThat(prepared.items().filter(col("item_id").isin("8", "10")).orderBy("item_id").collectAsList())
        .extracting(r -> r.getString(1)).containsExactly("Product 10 | Brand 10", "Product 8, size 8 | Brand 8");
  }

  @Test
  void recordWithTheWrongFieldCountIsMalformedAlone() throws Exception {
    Path csv = write("catalog.csv", "id,title,brand\n1,Good,Sony\n2,Too,many,fields\n3,Too few\n4,Also good,\n");
    List<Row> rows = rows(csv);
    assertThat(rows).extracting(r -> r.getString(3))
        .containsExactly(null, "2,Too,many,fields", "3,Too few", null);
    assertThat(rows.get(1).toSeq().take(3).mkString("|")).isEqualTo("2|Too|many");
    assertThat(rows.get(2).toSeq().take(3).mkString("|")).isEqualTo("3|Too few|null");
    assertThat(rows.get(3).toSeq().take(3).mkString("|")).isEqualTo("4|Also good|null");
  }

  @Test
  void quotedFieldsHoldCommasEscapedQuotesAndNewlines() throws Exception {
    Path csv = write("catalog.csv", "id,title,brand\n"
        + "1,\"Shelf, oak\",\"He said \"\"sturdy\"\"\"\n"
        + "2,\"Two\nline\n\ntitle\",\"\"\n"
        + "3,plain,x\n");
    List<Row> rows = rows(csv);
    assertThat(rows).extracting(r -> r.getString(3)).containsOnlyNulls();
    assertThat(rows).extracting(r -> r.getString(1)).containsExactly("Shelf, oak", "Two\nline\n\ntitle", "plain");
    assertThat(rows).extracting(r -> r.getString(2)).containsExactly("He said \"sturdy\"", null, "x");
  }

  @Test
  void invalidUtf8CostsItsLineAndKeepsAReadableCopy() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.writeBytes("id,title,brand\n1,Caf\u00e9 table,Ikea\n2,Caf".getBytes(StandardCharsets.UTF_8));
    bytes.write(0xE9); // Latin-1 é
    bytes.writeBytes(" chair,Ikea\n3,Stool,Ikea\n".getBytes(StandardCharsets.UTF_8));
    Path csv = write("catalog.csv", bytes.toByteArray());
    List<Row> rows = rows(csv);
    assertThat(rows).extracting(r -> r.getString(0)).containsExactly("1", "2", "3");
    assertThat(rows).extracting(r -> r.getString(3)).containsExactly(null, "2,Caf\uFFFD chair,Ikea", null);
    assertThat(rows.get(0).getString(1)).isEqualTo("Caf\u00e9 table");
  }

  @Test
  void byteOrderMarkIsNotPartOfTheFirstColumnName() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.writeBytes(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
    bytes.writeBytes("id,title,brand\n1,Lamp,Ikea\n".getBytes(StandardCharsets.UTF_8));
    Dataset<Row> raw = CatalogReader.read(spark, write("catalog.csv", bytes.toByteArray()).toString(), "csv");
    assertThat(raw.columns()).containsExactly("id", "title", "brand", CatalogReader.CORRUPT_COLUMN,
        CatalogReader.SOURCE_FILE_COLUMN);
    assertThat(raw.first().getString(0)).isEqualTo("1");
  }

  @Test
  void crlfLineEndsAreNotData() throws Exception {
    Path csv = write("catalog.csv", "id,title,brand\r\n1,Lamp,Ikea\r\n2,\"Desk\r\nwith drawer\",Ikea\r\n");
    List<Row> rows = rows(csv);
    assertThat(rows).extracting(r -> r.getString(2)).containsExactly("Ikea", "Ikea");
    assertThat(rows).extracting(r -> r.getString(1)).containsExactly("Lamp", "Desk\nwith drawer");
    assertThat(rows).extracting(r -> r.getString(3)).containsOnlyNulls();
  }

  @Test
  void folderOfPartFilesSkipsEmptyAndHiddenFilesAndNamesEachRowsFile() throws Exception {
    Path folder = Files.createDirectories(dir.resolve("parts"));
    Files.writeString(folder.resolve("part-0.csv"), "id,title,brand\n1,Lamp,Ikea\n");
    Files.write(folder.resolve("part-1.csv"), new byte[0]);
    Files.writeString(folder.resolve("part-2.csv"), "id,title,brand\n");
    try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(folder.resolve("part-3.csv.gz")))) {
      gz.write("id,title,brand\n2,Desk,Ikea\n".getBytes(StandardCharsets.UTF_8));
    }
    Files.writeString(folder.resolve("_SUCCESS"), "");
    Files.writeString(folder.resolve(".draft.csv"), "id,title,brand\n9,Draft,Ikea\n");

    List<Row> rows = CatalogReader.read(spark, folder.toString(), "csv").orderBy("id").collectAsList();
    assertThat(rows).extracting(r -> r.getString(0)).containsExactly("1", "2");
    assertThat(rows).extracting(r -> r.getString(4)).satisfiesExactly(
        f -> assertThat(f).endsWith("parts/part-0.csv"), f -> assertThat(f).endsWith("parts/part-3.csv.gz"));
  }

  @Test
  void zeroByteFilesOnlyOrAHeaderOnlyMeanNoRows() throws Exception {
    Path folder = Files.createDirectories(dir.resolve("empty"));
    Files.write(folder.resolve("part-0.csv"), new byte[0]);
    Files.write(folder.resolve("part-1.csv"), new byte[0]);
    assertThatThrownBy(() -> CatalogReader.read(spark, folder.toString(), "csv"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("input.path = " + folder + " has no rows");
    assertThatThrownBy(() -> CatalogReader.read(spark, folder.toString(), "match.left.path", "csv", 1))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("match.left.path = " + folder + " has no rows");

    Path headerOnly = write("header.csv", "id,title,brand\n");
    Dataset<Row> raw = CatalogReader.read(spark, headerOnly.toString(), "csv");
    assertThatThrownBy(() -> CatalogPreparation.prepare(raw, headerOnly.toString(), "id", "title", TEMPLATE))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("header.csv has no rows");
  }

  @Test
  void partFilesWithDifferentHeadersNameTheFileAndBothHeaders() throws Exception {
    Path folder = Files.createDirectories(dir.resolve("mixed"));
    Files.writeString(folder.resolve("part-0.csv"), "id,title,brand\n1,Lamp,Ikea\n");
    Files.writeString(folder.resolve("part-1.csv"), "id,name,brand\n2,Desk,Ikea\n");
    assertThatThrownBy(() -> CatalogReader.read(spark, folder.toString(), "csv"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("part-1.csv has header [id, name, brand]")
        .hasMessageContaining("part-0.csv has [id, title, brand]");
  }

  @Test
  void missingPathNamesThePath() {
    String missing = dir.resolve("nowhere.csv").toString();
    assertThatThrownBy(() -> CatalogReader.read(spark, missing, "csv"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining(missing);
  }

  @Test
  void aRecordTheFieldSplitterEndsEarlyIsMalformedAndLeavesNothingBehind() {
    CsvFiles.FieldSplitter splitter = new CsvFiles.FieldSplitter();
    assertThat(splitter.split("1,\"a\nb\",c")).containsExactly("1", "a\nb", "c");
    assertThat(splitter.split("x, \"a\nb\",c")).isNull(); // a quote after a space opens no quoted field
    assertThat(splitter.split("1,2,3")).containsExactly("1", "2", "3");
  }

  private List<Row> rows(Path csv) {
    Dataset<Row> raw = CatalogReader.read(spark, csv.toString(), "csv");
    assertThat(Arrays.asList(raw.columns())).containsExactly("id", "title", "brand", CatalogReader.CORRUPT_COLUMN,
        CatalogReader.SOURCE_FILE_COLUMN);
    return raw.collectAsList();
  }

  private Path write(String name, String text) throws Exception {
    return write(name, text.getBytes(StandardCharsets.UTF_8));
  }

  private Path write(String name, byte[] bytes) throws Exception {
    return Files.write(dir.resolve(name), bytes);
  }
}
