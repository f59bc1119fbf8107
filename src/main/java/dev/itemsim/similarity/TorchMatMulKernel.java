package dev.itemsim.similarity;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.itemsim.embed.TorchDevices;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@code C = A · Bᵀ} with libtorch's matmul on one device of DJL's PyTorch engine: a CUDA device for the GPU
 * Spark assigned to a task, or the CPU (tests). Each call copies the two row ranges to the device, multiplies
 * there in float32 and copies the product back; the device tensors live only for the call (a sub-manager closed
 * before it returns), so tasks sharing the kernel share nothing but the device. Staging the inputs reuses one
 * direct buffer per thread.
 */
public final class TorchMatMulKernel implements MatMulKernel {
  private final NDManager manager;
  private final Device device;
  private final String name;
  private final ThreadLocal<ByteBuffer[]> staging = ThreadLocal.withInitial(() -> new ByteBuffer[2]);

  private TorchMatMulKernel(NDManager manager, Device device) {
    this.manager = manager;
    this.device = device;
    this.name = "pytorch(" + (device.isGpu() ? "gpu(" + device.getDeviceId() + ")" : "cpu") + ")";
  }

  /**
   * Opens {@code device} on DJL's PyTorch engine and multiplies a 1×1 product there, so that a kernel this
   * returns has run on the device.
   *
   * @throws RuntimeException whatever DJL or libtorch throws when the device cannot be used
   */
  public static TorchMatMulKernel open(Device device) {
    NDManager manager = TorchDevices.pytorch(1).newBaseManager(device);
    try {
      TorchMatMulKernel kernel = new TorchMatMulKernel(manager, device);
      float[] c = new float[1];
      kernel.multiplyTransposed(new float[] {2f}, 1, new float[] {3f}, 1, 1, c);
      if (c[0] != 6f) {
        throw new IllegalStateException("libtorch on " + device + " computed 2·3 = " + c[0]);
      }
      return kernel;
    } catch (RuntimeException | Error e) {
      manager.close();
      throw e;
    }
  }

  @Override
  public void multiplyTransposed(float[] a, int aFrom, int aRows, float[] b, int bFrom, int bRows, int dim,
      float[] c) {
    ByteBuffer[] buffers = staging.get();
    try (NDManager call = manager.newSubManager()) {
      NDArray x = call.create(stage(buffers, 0, a, aFrom * dim, aRows * dim), new Shape(aRows, dim),
          DataType.FLOAT32);
      NDArray y = call.create(stage(buffers, 1, b, bFrom * dim, bRows * dim), new Shape(bRows, dim),
          DataType.FLOAT32);
      NDArray product = x.matMul(y.transpose());
      product.toByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer().get(c, 0, aRows * bRows);
    }
  }

  /** {@code length} floats of {@code source} from {@code offset} in this thread's staging buffer {@code slot}. */
  private static ByteBuffer stage(ByteBuffer[] buffers, int slot, float[] source, int offset, int length) {
    ByteBuffer buffer = buffers[slot];
    if (buffer == null || buffer.capacity() < 4 * length) {
      buffer = ByteBuffer.allocateDirect(4 * length).order(ByteOrder.nativeOrder());
      buffers[slot] = buffer;
    }
    buffer.clear();
    buffer.asFloatBuffer().put(source, offset, length);
    buffer.limit(4 * length);
    return buffer;
  }

  /** The device the products run on. */
  public Device device() {
    return device;
  }

  /** {@code pytorch(gpu(N))} or {@code pytorch(cpu)}. */
  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean isNative() {
    return true;
  }
}
