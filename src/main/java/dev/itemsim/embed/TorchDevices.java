package dev.itemsim.embed;

import ai.djl.engine.Engine;

/**
 * CUDA devices as DJL's PyTorch engine opens them, for code outside this package that runs on the GPU Spark
 * assigned to a task ({@link TaskGpu}), such as the exact top-N kernel: the engine is loaded with the encoders'
 * settings (offline, thread pools sized once per JVM) and a device that cannot be opened is explained as the
 * encoders explain it.
 */
public final class TorchDevices {
  private TorchDevices() {}

  /**
   * DJL's PyTorch engine; {@code threads} sizes its intra-op thread pool when this call is the JVM's first use of
   * the engine (later calls, and the encoders', cannot resize it).
   */
  public static Engine pytorch(int threads) {
    return DjlRuntime.pytorch(threads);
  }

  /**
   * Why DJL's PyTorch engine cannot open CUDA device {@code cudaIndex} in this JVM, naming what is missing (the
   * CUDA build of libtorch, the driver) and what to install; null when the engine sees that device.
   */
  public static String whyNotOpenable(int cudaIndex) {
    int visible = DjlRuntime.gpuCount(1);
    if (cudaIndex < visible) {
      return null;
    }
    return visible == 0 ? DjlRuntime.whyNoGpu(0)
        : "DJL's PyTorch engine sees " + visible + " GPU(s), so CUDA device " + cudaIndex + " does not exist in "
            + "this process: check CUDA_VISIBLE_DEVICES and the GPU discovery script";
  }
}
