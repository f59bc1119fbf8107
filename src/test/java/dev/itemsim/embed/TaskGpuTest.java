package dev.itemsim.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import org.junit.jupiter.api.Test;

class TaskGpuTest {
  @Test
  void withoutCudaVisibleDevicesTheAddressIsTheDeviceIndex() {
    assertThat(TaskGpu.of("0", null).cudaIndex()).isZero();
    assertThat(TaskGpu.of(" 3 ", "").cudaIndex()).isEqualTo(3);
    assertThat(TaskGpu.of("3", null).describe()).isEqualTo("GPU address 3 (CUDA device 3)");
  }

  @Test
  void underCudaVisibleDevicesTheAddressIsItsPositionInTheList() {
    assertThat(TaskGpu.of("7", "4,7").cudaIndex()).isEqualTo(1);
    assertThat(TaskGpu.of("4", "4, 7").cudaIndex()).isZero();
    assertThat(TaskGpu.of("GPU-8f2a", "GPU-11aa,GPU-8f2a").cudaIndex()).isEqualTo(1);
    assertThat(TaskGpu.of("7", "4,7").describe()).isEqualTo("GPU address 7 (CUDA device 1 under CUDA_VISIBLE_DEVICES=4,7)");
  }

  @Test
  void anAddressCudaCannotSeeIsAClearError() {
    assertThatThrownBy(() -> TaskGpu.of("2", "4,7")).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("GPU address 2").hasMessageContaining("CUDA_VISIBLE_DEVICES=4,7");
    assertThatThrownBy(() -> TaskGpu.of("GPU-8f2a", null)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'GPU-8f2a'").hasMessageContaining("device index");
    assertThatThrownBy(() -> TaskGpu.of("-1", null)).isInstanceOf(InvalidInputException.class);
  }

  @Test
  void noTaskMeansNoGpu() {
    assertThat(TaskGpu.assigned()).isNull();
  }
}
