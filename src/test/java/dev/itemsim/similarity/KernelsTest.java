package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.itemsim.InvalidInputException;
import dev.ludovic.netlib.blas.JavaBLAS;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
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

  private static float[] random(int n, Random random) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = random.nextFloat() * 2 - 1;
    }
    return v;
  }
}
