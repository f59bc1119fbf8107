package dev.itemsim.embed;

import ai.djl.Device;
import dev.itemsim.InvalidInputException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the encoder {@link EncoderSettings} ask for: resolves the model's files, then the engine
 * ({@code auto}: PyTorch when a GPU is visible or the model has no ONNX graph, else ONNX Runtime, the faster
 * on CPU) and what runs on it:
 * <ul>
 *   <li>ONNX Runtime: the ONNX graph (CPU build: {@code encoder.device = gpu} is refused);
 *   <li>PyTorch: itemsim's BERT ({@link TorchBertEncoder}) from {@code model.safetensors}, else the TorchScript
 *       module {@code model.pt} as is, else BERT from the float32 ONNX initialisers.
 * </ul>
 */
public final class Encoders {
  private static final Logger LOG = LoggerFactory.getLogger(Encoders.class);

  private Encoders() {}

  /** The encoder {@code settings} ask for, with no GPU assigned by Spark (see {@link #load(EncoderSettings, TaskGpu)}). */
  public static SentenceEncoder load(EncoderSettings settings) {
    return load(settings, null).encoder();
  }

  /**
   * A loaded encoder and where it runs.
   *
   * @param device {@code cpu} or {@code gpu(N)} (the CUDA index)
   * @param note why a GPU Spark assigned is not used (the CPU fallback of {@code encoder.device = auto}), or null
   */
  public record Loaded(SentenceEncoder encoder, String device, String note) {}

  /**
   * Loads the encoder for a task Spark's resource scheduling gave {@code gpu} (null: no GPU assigned, and then
   * {@code encoder.device = auto | gpu} mean the first GPU DJL sees). With a GPU assigned, the model runs on that
   * device only. When that device cannot be opened (no CUDA natives or driver), {@code encoder.device = gpu}
   * fails naming the address and what is missing, {@code auto} runs on the CPU and says so ({@link Loaded#note}),
   * and {@code cpu} ignores the GPU.
   */
  public static Loaded load(EncoderSettings settings, TaskGpu gpu) {
    DjlRuntime.configureOffline();
    long start = System.nanoTime();
    ModelFiles files = settings.model().resolve();
    String note = null;
    Device assigned = null;
    if (gpu != null && settings.device() != DeviceChoice.CPU) {
      int visible = DjlRuntime.gpuCount(settings.threads());
      if (gpu.cudaIndex() < visible) {
        assigned = Device.gpu(gpu.cudaIndex());
      } else {
        String why = "Spark assigned " + gpu.describe() + " to this task, but it cannot be opened: "
            + DjlRuntime.whyNoGpu(visible);
        if (settings.device() == DeviceChoice.GPU) {
          throw new InvalidInputException(why + ". Or set encoder.device = auto to encode on the CPU instead");
        }
        note = why + ". Encoding on the CPU (encoder.device = auto)";
        LOG.warn(note);
      }
    }
    boolean onGpu = assigned != null || gpu == null && gpuWanted(settings);
    EngineChoice engine = engineFor(settings, files, onGpu);
    SentenceEncoder encoder;
    String device;
    if (engine == EngineChoice.ONNXRUNTIME) {
      if (settings.device() == DeviceChoice.GPU) {
        throw new InvalidInputException("encoder.device = gpu needs encoder.engine = pytorch: the ONNX Runtime "
            + "shipped with itemsim is the CPU build");
      }
      if (files.onnx() == null) {
        throw new InvalidInputException("encoder.engine = onnxruntime but model " + settings.model()
            + " has no model.onnx (it has " + files.weightFiles() + "): use encoder.engine = pytorch");
      }
      if (assigned != null) {
        note = "Spark assigned " + gpu.describe() + " to this task, but encoder.engine = onnxruntime runs on the "
            + "CPU (itemsim ships ONNX Runtime's CPU build): use encoder.engine = pytorch or auto for the GPU";
        LOG.warn(note);
      }
      encoder = GraphEncoder.onnxRuntime(settings, files);
      device = "cpu";
    } else {
      Device torchDevice = assigned != null ? assigned
          : gpu != null ? Device.cpu() : DjlRuntime.pytorchDevice(settings.device(), settings.threads());
      if (files.safetensors() == null && files.torchScript() != null) {
        encoder = GraphEncoder.torchScript(settings, files, torchDevice);
      } else {
        encoder = TorchBertEncoder.load(settings, files, torchDevice);
      }
      device = torchDevice.isGpu() ? "gpu(" + torchDevice.getDeviceId() + ")" : "cpu";
    }
    LOG.info("Encoder for {} on {} ({}) ready in {} ms ({}, pooling {})", settings.model(), engine, device,
        (System.nanoTime() - start) / 1_000_000, encoder.getClass().getSimpleName(),
        ((BatchingEncoder) encoder).pooling());
    return new Loaded(encoder, device, note);
  }

  /**
   * What will run the model, for logs and the run summary, e.g. {@code onnxruntime on cpu} or
   * {@code pytorch on gpu (fp16)}; resolved on the driver the same way executors resolve it.
   */
  public static String describe(EncoderSettings settings) {
    DjlRuntime.configureOffline();
    EngineChoice engine = engineFor(settings, settings.model().resolve());
    boolean gpu = engine == EngineChoice.PYTORCH && gpuWanted(settings);
    return engine.name().toLowerCase(java.util.Locale.ROOT) + " on " + (gpu ? "gpu" : "cpu")
        + (gpu && settings.fp16() ? " (fp16)" : "");
  }

  /** {@code encoder.engine} made concrete for these model files. */
  public static EngineChoice engineFor(EncoderSettings settings, ModelFiles files) {
    return engineFor(settings, files, gpuWanted(settings));
  }

  private static boolean gpuWanted(EncoderSettings settings) {
    return settings.device() == DeviceChoice.GPU
        || settings.device() == DeviceChoice.AUTO && DjlRuntime.cudaGpuCount() > 0;
  }

  private static EngineChoice engineFor(EncoderSettings settings, ModelFiles files, boolean onGpu) {
    if (settings.engine() != EngineChoice.AUTO) {
      return settings.engine();
    }
    if (files.onnx() == null || onGpu && (files.safetensors() != null || files.torchScript() != null
        || !files.quantized())) {
      return EngineChoice.PYTORCH;
    }
    return EngineChoice.ONNXRUNTIME;
  }
}
