package dev.itemsim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.RuntimeConfig;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StrictReadsTest {
  @TempDir
  Path dir;

  @Test
  void aCorruptFileFailsTheReadWhereTheSessionWouldSkipIt() throws Exception {
    SparkSession spark = SparkTestSupport.spark();
    Path table = dir.resolve("table");
    spark.range(100).selectExpr("cast(id as string) as id").repartition(4).write().parquet(table.toString());
    Path bad = table.resolve("part-99999-corrupt.snappy.parquet");
    Files.write(bad, "PAR1 not parquet".getBytes());
    RuntimeConfig conf = spark.conf();
    conf.set("spark.sql.files.ignoreCorruptFiles", "true");
    try {
      // what Spark does on such a cluster: the file's rows are gone, and the read succeeds
      assertThat(spark.read().parquet(table.toString()).count()).isEqualTo(100);
      assertThatThrownBy(() -> StrictReads.parquet(spark, table.toString()).count())
          .hasStackTraceContaining(bad.getFileName().toString());
    } finally {
      conf.unset("spark.sql.files.ignoreCorruptFiles");
    }
  }
}
