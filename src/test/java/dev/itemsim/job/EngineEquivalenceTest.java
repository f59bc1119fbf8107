package dev.itemsim.job;

import static dev.itemsim.job.JobTestSupport.catalog;
import static dev.itemsim.job.JobTestSupport.run;
import static dev.itemsim.job.JobTestSupport.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The similar-items job gives the same tables on either engine (the acceptance criterion, on 400 items). */
class EngineEquivalenceTest {
  @TempDir
  Path dir;

  @Test
  void pytorchEngineWritesTheSameNeighboursAsOnnxRuntime() throws Exception {
    Path catalog = catalog(dir, "catalog", 400, List.of());
    Map<String, Row> ort = table(catalog, "ort", "onnxruntime");
    Map<String, Row> pytorch = table(catalog, "pt", "pytorch");
    assertThat(pytorch.keySet()).hasSize(4000);
    int same = 0;
    for (var e : ort.entrySet()) {
      Row other = pytorch.get(e.getKey());
      if (other != null && other.getString(2).equals(e.getValue().getString(2))) {
        same++;
        assertThat(Math.abs(other.getFloat(3) - e.getValue().getFloat(3))).as(e.getKey()).isLessThan(1e-4f);
      }
    }
    assertThat(same).as("identical (item, rank) pairs").isGreaterThanOrEqualTo((int) Math.ceil(0.99 * ort.size()));
  }

  /** (item_id/rank) → row of the job's output with {@code encoder.engine = engine}; scorer embedding, so nothing dilutes a difference. */
  private Map<String, Row> table(Path catalog, String name, String engine) throws Exception {
    Path out = dir.resolve(name);
    JobTestSupport.Result result = run(spec(dir, catalog, out, "similarity.topN = 10",
        "similarity.scorer = embedding"), "encoder.engine=" + engine);
    assertThat(result.exitCode()).as(result.err()).isZero();
    Map<String, Row> rows = new HashMap<>();
    for (Row r : SparkTestSupport.spark().read().parquet(out.resolve(OutputLayout.similarItems(java.time.LocalDate.of(2026, 3, 1))).toString())
        .collectAsList()) {
      rows.put(r.getString(0) + "/" + r.getInt(1), r);
    }
    return rows;
  }
}
