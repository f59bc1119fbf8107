package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.itemsim.InvalidInputException;
import dev.itemsim.embed.TaskGpu;
import dev.ludovic.netlib.blas.JavaBLAS;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class KernelsTest {

  private static void assumeLinuxX8664() {
    assumeThat(System.getProperty("os.name") + " " + System.getProperty("os.arch"))
        .as("the jar bundles OpenBLAS for Linux x86-64 only").isEqualTo("Linux amd64");
  }

  @Test
  void autoIsTheBundledOpenBlasAndAgreesWithJavaBlas() {
    assumeLinuxX8664();
    MatMulKernel kernel = Kernels.select("auto");
    assertThat(kernel.isNative()).as(kernel.name()).isTrue();
    assertThat(kernel.name()).isEqualTo("native-blas(bundled-openblas 0.3.31)");
    assertThat(Kernels.select("native-blas")).isSameAs(Kernels.select("native-blas"));
    assertThat(Kernels.select("native-blas").name()).isEqualTo(kernel.name());

    // odd sizes and row offsets into both inputs, as the top-N tiles use them
    Random random = new Random(3);
    int dim = 77;
    float[] a = random(300 * dim, random);
    float[] b = random(250 * dim, random);
    float[] nativeC = new float[123 * 201];
    float[] javaC = new float[123 * 201];
    kernel.multiplyTransposed(a, 40, 123, b, 17, 201, dim, nativeC);
    MatMulKernel java = Kernels.select("java");
    assertThat(java.isNative()).isFalse();
    java.multiplyTransposed(a, 40, 123, b, 17, 201, dim, javaC);
    for (int i = 0; i < 123; i++) {
      for (int j = 0; j < 201; j++) {
        double dot = 0;
        for (int k = 0; k < dim; k++) {
          dot += (double) a[(40 + i) * dim + k] * b[(17 + j) * dim + k];
        }
        assertThat(nativeC[i * 201 + j]).as("c[%d][%d]", i, j).isCloseTo(javaC[i * 201 + j], Offset.offset(1e-4f))
            .isCloseTo((float) dot, Offset.offset(1e-4f));
      }
    }
  }

  @Test
  void oneKernelPerNameAndJvmWhateverTheSpelling() {
    MatMulKernel kernel = Kernels.select("auto");
    assertThat(Kernels.select(" AUTO")).isSameAs(kernel);
    assertThat(Kernels.select("auto", "bundled")).isSameAs(kernel);
    assertThat(Kernels.select("java")).isSameAs(Kernels.select("java"));
  }

  @Test
  void theJavaFallbackWarnsOncePerJvmAndNativeBlasRefusesIt() {
    List<String> warnings = new ArrayList<>();
    List<String> bindings = new ArrayList<>();
    NativeBlas.Binding javaOnly = new NativeBlas.Binding(JavaBLAS.getInstance(), false, "VectorBLAS", "bundled",
        "netlib could not load libblas.so.3");
    Kernels.Selection selection = new Kernels.Selection(source -> {
      bindings.add(source);
      return javaOnly;
    }, warnings::add);
    MatMulKernel first = selection.select("auto", "bundled");
    for (int task = 0; task < 5; task++) {
      assertThat(selection.select("auto", "bundled")).isSameAs(first);
    }
    assertThat(first.isNative()).isFalse();
    assertThat(first.name()).isEqualTo("java-blas(VectorBLAS)");
    assertThat(warnings).hasSize(1);
    assertThat(warnings.get(0)).contains("no native BLAS").contains("netlib could not load libblas.so.3");
    for (int task = 0; task < 2; task++) {
      assertThatThrownBy(() -> selection.select("native-blas", "bundled")).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("similarity.kernel = native-blas").hasMessageContaining("libblas.so.3");
    }
    assertThat(warnings).hasSize(1);
    assertThat(bindings).as("the binding is checked on every call").hasSize(8);
    assertThatThrownBy(() -> selection.select("fast", "bundled")).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'fast'");
  }

  @Test
  void aJvmBindsOneBlas() {
    assumeLinuxX8664();
    NativeBlas.Binding binding = NativeBlas.bind("bundled");
    assertThat(NativeBlas.bind("bundled")).isSameAs(binding);
    assertThat(binding.library()).isEqualTo("bundled-openblas 0.3.31");
    assertThat(binding.problem()).isEmpty();
    assertThatThrownBy(() -> NativeBlas.bind("system")).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already bound to bundled-openblas 0.3.31");
    assertThatThrownBy(() -> NativeBlas.bind("mkl")).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("similarity.blas = 'mkl'");
  }

  // --- GPUs: the selection rules with a fake opener (no Spark, no CUDA) ---

  private static final TaskGpu ASSIGNED = TaskGpu.of("7", "4,7");
  private static final String DEVICE = "GPU address 7 (CUDA device 1 under CUDA_VISIBLE_DEVICES=4,7)";
  private static final String MISSING = "CUDA natives missing: add pytorch-native-cu128";
  /** A native BLAS as far as the selection can tell, so no pure-Java warning mixes with the GPU ones. */
  private static final NativeBlas.Binding NATIVE = new NativeBlas.Binding(JavaBLAS.getInstance(), true, "fake-openblas",
      "bundled", "");

  /** Opens the CUDA indexes in {@code working} as fake kernels, counting what it is asked to open. */
  private static final class FakeGpus implements IntFunction<Kernels.GpuOpening> {
    private final Set<Integer> working;
    final List<Integer> asked = new ArrayList<>();

    FakeGpus(Integer... working) {
      this.working = Set.of(working);
    }

    @Override
    public synchronized Kernels.GpuOpening apply(int cudaIndex) {
      asked.add(cudaIndex);
      return working.contains(cudaIndex) ? new Kernels.GpuOpening(new FakeGpuKernel(cudaIndex), null)
          : Kernels.GpuOpening.failed(MISSING);
    }
  }

  private record FakeGpuKernel(int cudaIndex) implements MatMulKernel {
    @Override
    public void multiplyTransposed(float[] a, int aFrom, int aRows, float[] b, int bFrom, int bRows, int dim,
        float[] c) {
      throw new UnsupportedOperationException();
    }

    @Override
    public String name() {
      return "fake-gpu(" + cudaIndex + ")";
    }

    @Override
    public boolean isNative() {
      return true;
    }
  }

  private static Supplier<TaskGpu> task(TaskGpu gpu) {
    return () -> gpu;
  }

  private static Supplier<TaskGpu> notAsked() {
    return () -> {
      throw new AssertionError("the task's GPU must not be looked up");
    };
  }

  @Test
  void autoRunsOnTheAssignedGpuOneKernelPerDevice() {
    FakeGpus gpus = new FakeGpus(0, 1);
    List<String> warnings = new ArrayList<>();
    Kernels.Selection selection = new Kernels.Selection(source -> NATIVE, warnings::add, gpus);
    Kernels.Chosen first = selection.choose("auto", "bundled", task(ASSIGNED));
    assertThat(first.kernel().name()).isEqualTo("fake-gpu(1)");
    assertThat(first.device()).isEqualTo("gpu(1)");
    assertThat(first.gpu()).isEqualTo(ASSIGNED);
    assertThat(first.note()).isNull();
    for (int task = 0; task < 5; task++) {
      assertThat(selection.choose("auto", "bundled", task(ASSIGNED)).kernel()).isSameAs(first.kernel());
    }
    Kernels.Chosen other = selection.choose("auto", "bundled", task(TaskGpu.of("4", "4,7")));
    assertThat(other.kernel().name()).isEqualTo("fake-gpu(0)");
    assertThat(gpus.asked).as("each device opened once per JVM").containsExactly(1, 0);

    Kernels.Chosen noGpu = selection.choose("auto", "bundled", task(null));
    assertThat(noGpu.kernel().name()).isEqualTo("native-blas(fake-openblas)");
    assertThat(noGpu.device()).isEqualTo("cpu");
    assertThat(noGpu.note()).isNull();
    assertThat(gpus.asked).as("auto without an assigned GPU opens none").hasSize(2);
    assertThat(warnings).isEmpty();
  }

  @Test
  void autoFallsBackToTheCpuWhenTheAssignedGpuCannotBeOpenedAndWarnsOncePerJvm() {
    FakeGpus gpus = new FakeGpus();
    List<String> warnings = new ArrayList<>();
    Kernels.Selection selection = new Kernels.Selection(source -> NATIVE, warnings::add, gpus);
    MatMulKernel cpu = selection.select("auto", "bundled");
    for (int task = 0; task < 4; task++) {
      Kernels.Chosen chosen = selection.choose("auto", "bundled", task(ASSIGNED));
      assertThat(chosen.kernel()).isSameAs(cpu);
      assertThat(chosen.device()).isEqualTo("cpu");
      assertThat(chosen.gpu()).isEqualTo(ASSIGNED);
      assertThat(chosen.note()).contains("Spark assigned " + DEVICE).contains(MISSING)
          .contains("Exact top-N runs on the CPU").contains("native-blas(fake-openblas)")
          .contains("similarity.kernel = gpu");
    }
    selection.choose("auto", "bundled", task(TaskGpu.of("4", "4,7")));
    assertThat(gpus.asked).as("a device that failed is not tried again").containsExactly(1, 0);
    assertThat(warnings).hasSize(1);
    assertThat(warnings.get(0)).contains(DEVICE).contains(MISSING).contains("similarity.kernel = gpu");

    // an address CUDA_VISIBLE_DEVICES does not list: auto says why and runs on the CPU
    Kernels.Chosen unlisted = selection.choose("auto", "bundled", () -> TaskGpu.of("2", "4,7"));
    assertThat(unlisted.kernel()).isSameAs(cpu);
    assertThat(unlisted.note()).contains("GPU address 2").contains("CUDA_VISIBLE_DEVICES=4,7");
    assertThat(warnings).hasSize(1);
  }

  @Test
  void gpuFailsNamingTheAddressAndWhatIsMissing() {
    FakeGpus gpus = new FakeGpus();
    Kernels.Selection selection = new Kernels.Selection(source -> NATIVE, w -> {}, gpus);
    for (int task = 0; task < 3; task++) {
      assertThatThrownBy(() -> selection.choose("gpu", "bundled", task(ASSIGNED)))
          .isInstanceOf(InvalidInputException.class).hasMessageContaining("similarity.kernel = gpu")
          .hasMessageContaining("Spark assigned " + DEVICE).hasMessageContaining(MISSING)
          .hasMessageContaining("similarity.kernel = auto");
    }
    assertThatThrownBy(() -> selection.choose("gpu", "bundled", task(null)))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("Spark assigned no GPU")
        .hasMessageContaining("sees none").hasMessageContaining(MISSING);
    assertThatThrownBy(() -> selection.choose("gpu", "bundled", () -> TaskGpu.of("2", "4,7")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("CUDA_VISIBLE_DEVICES=4,7");
    assertThat(gpus.asked).containsExactly(1, 0);
  }

  @Test
  void gpuRunsOnTheAssignedDeviceOrWithoutOneOnTheFirstDjlSees() {
    FakeGpus gpus = new FakeGpus(0, 1);
    Kernels.Selection selection = new Kernels.Selection(source -> NATIVE, w -> {}, gpus);
    Kernels.Chosen assigned = selection.choose("gpu", "bundled", task(ASSIGNED));
    assertThat(assigned.kernel().name()).isEqualTo("fake-gpu(1)");
    assertThat(assigned.device()).isEqualTo("gpu(1)");
    Kernels.Chosen local = selection.choose("gpu", "bundled", task(null));
    assertThat(local.kernel().name()).isEqualTo("fake-gpu(0)");
    assertThat(local.gpu()).isNull();
    assertThat(selection.choose(" GPU ", "bundled", task(TaskGpu.of("4", "4,7"))).kernel()).isSameAs(local.kernel());
    assertThat(gpus.asked).containsExactly(1, 0);
  }

  @Test
  void cpuKernelsNeverLookForGpusAndNamesOpenNone() {
    FakeGpus gpus = new FakeGpus(0, 1);
    Kernels.Selection selection = new Kernels.Selection(source -> NATIVE, w -> {}, gpus);
    assertThat(selection.choose("native-blas", "bundled", notAsked()).device()).isEqualTo("cpu");
    assertThat(selection.choose("java", "bundled", notAsked()).kernel().isNative()).isFalse();
    assertThat(selection.describe("gpu", "bundled")).isEqualTo("pytorch(gpu)");
    assertThat(selection.describe("auto", "bundled")).isEqualTo("native-blas(fake-openblas)");
    assertThat(gpus.asked).isEmpty();
    assertThat(Kernels.describe("gpu")).isEqualTo("pytorch(gpu)");
    assertThatThrownBy(() -> selection.describe("cuda", "bundled")).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'cuda'").hasMessageContaining("auto, gpu, native-blas, java");
  }

  private static float[] random(int n, Random random) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = random.nextFloat() * 2 - 1;
    }
    return v;
  }
}
