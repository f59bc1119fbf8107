package dev.itemsim.embed;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import java.io.IOException;
import dev.itemsim.InvalidInputException;
import java.nio.file.Path;

/**
 * Runs a serialised model graph through DJL: an ONNX export on ONNX Runtime, or a TorchScript module on
 * PyTorch. Inputs are {@code input_ids, attention_mask, token_type_ids} (by name for ONNX, in that order for
 * TorchScript); the output used is {@code last_hidden_state}, or else the first [batch, tokens, hidden] tensor
 * (a traced HuggingFace model returns it first).
 */
final class GraphEncoder extends BatchingEncoder {
  private final ZooModel<NDList, NDList> model;
  private final String modelName;

  private GraphEncoder(EncoderSettings settings, ModelFiles files, ZooModel<NDList, NDList> model) {
    super(settings, files);
    this.model = model;
    this.modelName = settings.model().toString();
  }

  /** ONNX Runtime (CPU build) on the model's ONNX graph. */
  static GraphEncoder onnxRuntime(EncoderSettings settings, ModelFiles files) {
    ZooModel<NDList, NDList> model = load(settings, "OnnxRuntime", files.onnx(), Device.cpu());
    return owning(model, () -> new GraphEncoder(settings, files, model));
  }

  /** PyTorch on the model's TorchScript module. */
  static GraphEncoder torchScript(EncoderSettings settings, ModelFiles files, Device device) {
    ZooModel<NDList, NDList> model = load(settings, "PyTorch", files.torchScript(), device);
    return owning(model, () -> new GraphEncoder(settings, files, model));
  }

  private static ZooModel<NDList, NDList> load(EncoderSettings settings, String engine, Path file, Device device) {
    try {
      // the folder and the file's name, not the file: DJL warns about a model path that is a plain file
      Criteria.Builder<NDList, NDList> criteria = Criteria.builder()
          .setTypes(NDList.class, NDList.class)
          .optEngine(engine)
          .optDevice(device)
          .optModelPath(file.toAbsolutePath().getParent())
          .optModelName(file.getFileName().toString().replaceFirst("\\.(onnx|pt)$", ""))
          .optTranslator(new NoopTranslator());
      if (engine.equals("OnnxRuntime")) {
        criteria.optOption("intraOpNumThreads", Integer.toString(settings.threads()))
            .optOption("interOpNumThreads", "1");
      }
      return criteria.build().loadModel();
    } catch (IOException | ModelNotFoundException | MalformedModelException | ai.djl.engine.EngineException e) {
      String message = "Cannot load model " + settings.model() + " from " + file + " on " + engine + ": "
          + e.getMessage();
      // a user's model file that does not load is bad input; a built-in one is a fault of the installation
      throw settings.model().isBuiltin() ? new IllegalStateException(message, e) : new InvalidInputException(
          "encoder.model = " + settings.model() + ": " + file.getFileName() + " does not load (" + e.getMessage()
              + "); is it a complete ONNX/TorchScript export?", e);
    }
  }

  /** One predictor for all batches of an encode call. */
  @Override
  protected Forward open() {
    Predictor<NDList, NDList> predictor = model.newPredictor();
    return new Forward() {
      @Override
      public float[] run(long[] ids, long[] mask, long[] types, int b, int seqLen) {
        return forward(predictor, ids, mask, types, b, seqLen);
      }

      @Override
      public void close() {
        predictor.close();
      }
    };
  }

  private float[] forward(Predictor<NDList, NDList> predictor, long[] ids, long[] mask, long[] types, int b,
      int seqLen) {
    try (NDManager manager = model.getNDManager().newSubManager()) {
      Shape shape = new Shape(b, seqLen);
      NDArray idsArray = manager.create(ids, shape);
      idsArray.setName("input_ids");
      NDArray maskArray = manager.create(mask, shape);
      maskArray.setName("attention_mask");
      NDArray typesArray = manager.create(types, shape);
      typesArray.setName("token_type_ids");
      NDList result = predictor.predict(new NDList(idsArray, maskArray, typesArray));
      float[] hidden = lastHiddenState(result).toType(DataType.FLOAT32, false).toFloatArray();
      result.close();
      return hidden;
    } catch (TranslateException e) {
      throw new IllegalStateException("Model " + modelName + " failed on a batch: " + e.getMessage(), e);
    }
  }

  private NDArray lastHiddenState(NDList result) {
    NDArray named = result.get("last_hidden_state");
    if (named != null) {
      return named;
    }
    for (NDArray a : result) {
      if (a.getShape().dimension() == 3) {
        return a;
      }
    }
    throw new IllegalStateException("Model " + modelName + " returned no [batch, tokens, hidden] tensor: " + result);
  }

  @Override
  protected void closeModel() {
    model.close();
  }
}
