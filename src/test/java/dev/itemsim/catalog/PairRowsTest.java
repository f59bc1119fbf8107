package dev.itemsim.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pair files: rows, labels, and the columns and formats they are read by. */
class PairRowsTest {
  private final SparkSession spark = SparkTestSupport.spark();

  @TempDir
  Path dir;

  @Test
  void rowsCarryTheirNumberAndLabel() throws Exception {
    Path file = dir.resolve("pairs.csv");
    Files.writeString(file, "id_a,id_b,label\na,b,1\nc,d,false\ne,f,TRUE\n");
    assertThat(PairRows.read(spark, file.toString(), "k", "Pairs file")).containsExactly(
        new PairRows.Pair(1, "a", "b", true), new PairRows.Pair(2, "c", "d", false),
        new PairRows.Pair(3, "e", "f", true));
  }

  @Test
  void aColumnThatDiffersOnlyInCaseIsAnErrorNotIgnored() throws Exception {
    Path file = dir.resolve("pairs.csv");
    Files.writeString(file, "id_a,id_b,Label\na,b,0\n");
    assertThatThrownBy(() -> PairRows.read(spark, file.toString(), "finetune.pairs", "Training pairs file"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("finetune.pairs = " + file + " has a column 'Label' but no 'label'");
  }

  @Test
  void aFolderOfCompressedCsvIsCsvAndAnythingElseParquet() throws Exception {
    Path folder = Files.createDirectories(dir.resolve("csvs"));
    Files.write(folder.resolve("part-0.csv.gz"), new byte[] {1});
    Files.write(folder.resolve("_SUCCESS"), new byte[0]);
    assertThat(PairRows.format(spark, folder.toString())).isEqualTo("csv");
    assertThat(PairRows.format(spark, dir.resolve("x.CSV").toString())).isEqualTo("csv");
    Files.write(folder.resolve("part-1.parquet"), new byte[] {1});
    assertThat(PairRows.format(spark, folder.toString())).isEqualTo("parquet");
    assertThat(PairRows.format(spark, dir.resolve("missing").toString())).isEqualTo("parquet");
  }
}
