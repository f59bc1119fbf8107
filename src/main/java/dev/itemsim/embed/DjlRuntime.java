package dev.itemsim.embed;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.itemsim.InvalidInputException;

/**
 * Process-wide DJL settings, set before any DJL engine initialises: never download anything, do not load
 * PyTorch as ONNX Runtime's "alternative engine" (seconds per load and hundreds of MB), and size PyTorch's
 * thread pools once per JVM (one Spark task = one core, so intra-op threads = {@code encoder.threadsPerTask}),
 * and keep DJL's CUDA probes quiet where they can only fail ({@link #quietCudaProbes}).
 */
final class DjlRuntime {
  static final String PYTORCH = "PyTorch";

  private DjlRuntime() {}

  private static boolean quieted;

  static void configureOffline() {
    System.setProperty("ai.djl.offline", "true");
    if (System.getProperty("ai.djl.onnx.disable_alternative") == null) {
      System.setProperty("ai.djl.onnx.disable_alternative", "true");
    }
    quietCudaProbes();
  }

  /**
   * DJL asks for CUDA devices whatever the engine: its ONNX Runtime engine tries to add the CUDA provider, which
   * the CPU build of ONNX Runtime that itemsim ships never has (a warning on every machine), and {@code CudaUtils}
   * asks the CUDA runtime, which fails with a warning wherever a CUDA toolkit is installed without the NVIDIA
   * driver. Both warnings say nothing actionable there, so their loggers are set to ERROR: OrtEngine's always,
   * CudaUtils' only on machines without the driver (on GPU machines its warnings are real). Only when log4j 2
   * is the logging backend, as in Spark.
   */
  private static synchronized void quietCudaProbes() {
    if (quieted) {
      return;
    }
    quieted = true;
    try {
      org.apache.logging.log4j.core.config.Configurator.setLevel("ai.djl.onnxruntime.engine.OrtEngine",
          org.apache.logging.log4j.Level.ERROR);
      if (!hasNvidiaDriver()) {
        org.apache.logging.log4j.core.config.Configurator.setLevel("ai.djl.util.cuda.CudaUtils",
            org.apache.logging.log4j.Level.ERROR);
      }
    } catch (LinkageError e) {
      // another logging backend: its own configuration decides
    }
  }

  /** Whether the NVIDIA kernel driver is present (always assumed off Linux, where this cannot be told cheaply). */
  static boolean hasNvidiaDriver() {
    boolean linux = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux");
    return !linux || java.nio.file.Files.exists(java.nio.file.Path.of("/proc/driver/nvidia"))
        || java.nio.file.Files.exists(java.nio.file.Path.of("/dev/nvidiactl"));
  }

  /** The PyTorch engine, with its thread pools sized on first use (later calls cannot resize them). */
  static synchronized Engine pytorch(int threads) {
    configureOffline();
    if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
      System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
    }
    if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
      System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }
    return Engine.getEngine(PYTORCH);
  }

  /** GPUs DJL's PyTorch engine sees on this machine (0 when the CPU natives are the ones loaded). */
  static int gpuCount(int threads) {
    return pytorch(threads).getGpuCount();
  }

  /**
   * Why DJL's PyTorch engine cannot open a CUDA device here, and what to install, for messages: it sees
   * {@code pytorchGpus} devices, and the CUDA runtime (DJL's {@code CudaUtils}) sees its own count.
   */
  static String whyNoGpu(int pytorchGpus) {
    int cudaGpus = cudaGpuCount();
    String natives = "GPU executors need DJL's CUDA build of libtorch " + LIBTORCH_VERSION
        + " (ai.djl.pytorch:pytorch-native-" + LIBTORCH_CUDA_FLAVOR + ", classifier linux-x86_64, and a CUDA driver "
        + "for it) on their classpath ahead of itemsim.jar, which carries only the CPU build (pytorch-native-cpu): "
        + "docs/OPERATIONS.md, GPU executors";
    if (cudaGpus == 0) {
      return "this executor has no usable CUDA runtime or driver (CUDA sees 0 GPUs) and DJL's PyTorch engine "
          + "sees " + pytorchGpus + " (CUDA natives missing). " + natives;
    }
    return "the CUDA runtime sees " + cudaGpus + " GPU(s) but DJL's PyTorch engine sees " + pytorchGpus
        + " (its CUDA natives are missing). " + natives;
  }

  /**
   * GPUs the CUDA runtime reports (DJL's {@code CudaUtils}). On Linux machines without the NVIDIA kernel driver
   * it is 0 without asking: there DJL's probe finds no driver and logs a warning on every CPU machine.
   */
  static int cudaGpuCount() {
    return hasNvidiaDriver() ? ai.djl.util.cuda.CudaUtils.getGpuCount() : 0;
  }

  /** The libtorch version of the bundled PyTorch natives (pom.xml: pytorch-native-cpu). */
  static final String LIBTORCH_VERSION = "2.7.1";
  /** The CUDA flavour DJL's PyTorch JNI library (pytorch-jni 2.7.1-0.36.0) is built for on Linux x86-64. */
  static final String LIBTORCH_CUDA_FLAVOR = "cu128";

  /** {@code encoder.device} made concrete for the PyTorch engine. */
  static Device pytorchDevice(DeviceChoice choice, int threads) {
    int gpus = gpuCount(threads);
    return switch (choice) {
      case CPU -> Device.cpu();
      case AUTO -> gpus > 0 ? Device.gpu() : Device.cpu();
      case GPU -> {
        if (gpus == 0) {
          throw new InvalidInputException("encoder.device = gpu but DJL's PyTorch engine sees no GPU on this "
              + "machine: " + whyNoGpu(0) + ". Or use encoder.device = auto or cpu");
        }
        yield Device.gpu();
      }
    };
  }
}
