package dev.itemsim.embed;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
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

  public static SentenceEncoder load(EncoderSettings settings) {
    DjlRuntime.configureOffline();
    long start = System.nanoTime();
    ModelFiles files = settings.model().resolve();
    EngineChoice engine = engineFor(settings, files);
    SentenceEncoder encoder;
    if (engine == EngineChoice.ONNXRUNTIME) {
      if (settings.device() == DeviceChoice.GPU) {
        throw new InvalidInputException("encoder.device = gpu needs encoder.engine = pytorch: the ONNX Runtime "
            + "shipped with itemsim is the CPU build");
      }
      if (files.onnx() == null) {
        throw new InvalidInputException("encoder.engine = onnxruntime but model " + settings.model()
            + " has no model.onnx (it has " + files.weightFiles() + "): use encoder.engine = pytorch");
      }
      encoder = GraphEncoder.onnxRuntime(settings, files);
    } else {
      Device device = DjlRuntime.pytorchDevice(settings.device(), settings.threads());
      if (files.safetensors() == null && files.torchScript() != null) {
        encoder = GraphEncoder.torchScript(settings, files, device);
      } else {
        encoder = TorchBertEncoder.load(settings, files, device);
      }
    }
    LOG.info("Encoder for {} on {} ready in {} ms ({}, pooling {})", settings.model(), engine,
        (System.nanoTime() - start) / 1_000_000, encoder.getClass().getSimpleName(),
        ((BatchingEncoder) encoder).pooling());
    return encoder;
  }

  /**
   * What will run the model, for logs and the run summary, e.g. {@code onnxruntime on cpu} or
   * {@code pytorch on gpu (fp16)}; resolved on the driver the same way executors resolve it.
   */
  public static String describe(EncoderSettings settings) {
    DjlRuntime.configureOffline();
    EngineChoice engine = engineFor(settings, settings.model().resolve());
    boolean gpu = engine == EngineChoice.PYTORCH && (settings.device() == DeviceChoice.GPU
        || settings.device() == DeviceChoice.AUTO && CudaUtils.getGpuCount() > 0);
    return engine.name().toLowerCase(java.util.Locale.ROOT) + " on " + (gpu ? "gpu" : "cpu")
        + (gpu && settings.fp16() ? " (fp16)" : "");
  }

  /** {@code encoder.engine} made concrete for these model files. */
  public static EngineChoice engineFor(EncoderSettings settings, ModelFiles files) {
    if (settings.engine() != EngineChoice.AUTO) {
      return settings.engine();
    }
    boolean gpuWanted = settings.device() == DeviceChoice.GPU
        || settings.device() == DeviceChoice.AUTO && CudaUtils.getGpuCount() > 0;
    if (files.onnx() == null || gpuWanted && (files.safetensors() != null || files.torchScript() != null
        || !files.quantized())) {
      return EngineChoice.PYTORCH;
    }
    return EngineChoice.ONNXRUNTIME;
  }
}
