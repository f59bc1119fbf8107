package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped Chinese job spec runs as is on the Chinese sample, and finds each listing's re-worded twin. */
class ChineseSampleJobTest {
  @Test
  void chineseSampleJobRunsAndPairsRewordedListings(@TempDir Path dir) {
    Path out = dir.resolve("zh");
    JobTestSupport.Result result = JobTestSupport.run(Path.of("jobs/similar-items-zh.conf"),
        "output.path=" + out, "run.date=2026-03-01", "similarity.scorer=embedding");
    assertThat(result.exitCode()).as(result.err()).isZero();
    List<Row> rows = SparkTestSupport.spark().read().parquet(out.resolve(OutputLayout.similarItems(java.time.LocalDate.of(2026, 3, 1))).toString())
        .collectAsList();
    assertThat(rows).hasSize(237 * 10);
    assertThat(rows).allSatisfy(r -> assertThat(r.getString(4)).isEqualTo("builtin:bge-small-zh-v15"));
    // a known pair of listings of the same TV, worded differently by two sellers
    var texts = SparkTestSupport.spark().read().option("header", "true").csv("sample-data/zh-products/products.csv")
        .collectAsList();
    String a = idOfTitleStartingWith(texts, "TCL 75英寸 4K");
    String b = idOfTitleStartingWith(texts, "TCLQ10G 75英寸");
    assertThat(rows).anySatisfy(r -> {
      assertThat(r.getString(0)).isEqualTo(a);
      assertThat(r.getString(2)).isEqualTo(b);
      assertThat(r.getInt(1)).isLessThanOrEqualTo(3);
    });
  }

  private static String idOfTitleStartingWith(List<Row> rows, String prefix) {
    return rows.stream().filter(r -> r.getString(1).startsWith(prefix)).findFirst().orElseThrow().getString(0);
  }
}
