package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import dev.itemsim.SparkTestSupport;
import dev.itemsim.embed.TaskGpu;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the product tasks of a search report to the driver about their kernel, in real Spark tasks. */
class KernelUsageTest {
  private static final StructType ITEMS = new StructType()
      .add(SearchItems.ID, DataTypes.StringType, false)
      .add(SearchItems.EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType, false), false);

  private final SparkSession spark = SparkTestSupport.spark();
  @TempDir
  Path scratch;

  @Test
  void eachTaskReportsOnceHoweverOftenItSelects() {
    KernelUsage usage = KernelUsage.register(spark.sparkContext());
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    long products = jsc.parallelize(IntStream.range(0, 40).boxed().toList(), 4)
        .map(i -> KernelUsage.select(usage, "auto").name())
        .count();
    assertThat(products).isEqualTo(40);
    KernelUsage.Report report = usage.report();
    assertThat(report.tasks()).isEqualTo(4);
    assertThat(report.jvms()).isEqualTo(1);
    assertThat(report.kernels()).containsOnlyKeys(Kernels.describe("auto")).containsValue(4);
    assertThat(report.devices()).containsOnlyKeys("cpu").containsValue(4);
    assertThat(report.gpuAddresses()).isEmpty();
    assertThat(report.notes()).isEmpty();
    assertThat(KernelUsage.register(spark.sparkContext()).report().tasks()).as("one accumulator per search").isZero();
  }

  @Test
  void fallbacksOnTheExecutorsReachTheDriverOnceEach() {
    KernelUsage usage = KernelUsage.register(spark.sparkContext());
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    jsc.parallelize(IntStream.range(0, 6).boxed().toList(), 3).foreach(i -> {
      MatMulKernel cpu = Kernels.select("auto");
      TaskGpu gpu = TaskGpu.of(TaskContext.getPartitionId() == 1 ? "4" : "7", "4,7");
      usage.record(new Kernels.Chosen(cpu, "cpu", gpu, "Spark assigned " + gpu.describe() + ", which cannot be "
          + "opened"));
    });
    KernelUsage.Report report = usage.report();
    assertThat(report.tasks()).isEqualTo(3);
    assertThat(report.devices()).containsOnlyKeys("cpu");
    assertThat(report.gpuAddresses()).containsExactly("4", "7");
    assertThat(report.notes()).containsExactlyInAnyOrder(
        "Spark assigned GPU address 7 (CUDA device 1 under CUDA_VISIBLE_DEVICES=4,7), which cannot be opened",
        "Spark assigned GPU address 4 (CUDA device 0 under CUDA_VISIBLE_DEVICES=4,7), which cannot be opened");
  }

  @Test
  void exactSearchesReportWhereTheirProductsRan() {
    Random random = new Random(3);
    Dataset<Row> items = items(200, "i", random);
    Dataset<Row> others = items(50, "o", random);
    EmbeddingRetriever retriever = new EmbeddingRetriever(new EmbeddingRetriever.Options("auto", 32));
    for (boolean self : new boolean[] {true, false}) {
      try (Ranking ranking = retriever.rank(spark, new SearchRequest(items, self ? items : others, 5, null,
          scratch.toString()))) {
        assertThat(ranking.rows().count()).isEqualTo(200 * 5);
        KernelUsage.Report report = ranking.facts().kernelUsage().report();
        assertThat(report.tasks()).as("self=%s", self).isPositive();
        assertThat(report.kernels()).containsOnlyKeys(ranking.facts().kernel());
        assertThat(report.devices()).containsOnlyKeys("cpu");
        assertThat(report.notes()).isEmpty();
      }
    }
  }

  @Test
  void aGpuKernelNoTaskCanOpenFailsOnTheDriverNamingWhatIsMissing() {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    // local mode: no GPU assigned, and DJL's PyTorch engine here has only its CPU natives
    assertThatThrownBy(() -> Kernels.checkOnExecutors(jsc, "gpu")).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("similarity.kernel = gpu but Spark assigned no GPU to this task")
        .hasMessageContaining("CUDA natives missing").hasMessageContaining("pytorch-native-cu128")
        .hasMessageContaining("similarity.kernel = auto");
    Kernels.checkOnExecutors(jsc, "auto");
    Kernels.checkOnExecutors(jsc, "native-blas");
  }

  private Dataset<Row> items(int n, String prefix, Random random) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] v = new float[8];
      double norm = 0;
      for (int k = 0; k < v.length; k++) {
        v[k] = random.nextFloat() - 0.5f;
        norm += v[k] * v[k];
      }
      List<Float> values = new ArrayList<>();
      for (float x : v) {
        values.add((float) (x / Math.sqrt(norm)));
      }
      rows.add(RowFactory.create(prefix + i, values));
    }
    return spark.createDataFrame(rows, ITEMS);
  }
}
