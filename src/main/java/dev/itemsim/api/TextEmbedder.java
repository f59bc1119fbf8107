package dev.itemsim.api;

import dev.itemsim.embed.DeviceChoice;
import dev.itemsim.embed.EncoderSettings;
import dev.itemsim.embed.EngineChoice;
import dev.itemsim.embed.ModelSpec;
import dev.itemsim.embed.Pooling;
import dev.itemsim.embed.SparkEncoding;
import java.util.Arrays;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML {@code Transformer} that adds the sentence embedding of a text column: L2-normalised float32
 * vectors from the same encoders, batching and model loading as the itemsim jobs (one model per executor JVM,
 * texts length-sorted in windows of {@code sortWindow} rows and padded per batch, nothing downloaded).
 *
 * <p>Rows keep their partitioning and order; a null text gets a null embedding. The output column is
 * {@code array<float>} ({@code outputType = "array"}, the default, as in itemsim's {@code embeddings} table and
 * Spark SQL's vector functions) or an ML {@code Vector} ({@code outputType = "vector"}, for MLlib estimators).
 * It is {@code MLWritable} and {@code MLReadable}, so it can be saved alone or inside a {@code PipelineModel}.
 *
 * <pre>{@code
 * Dataset<Row> withVectors = new TextEmbedder().setInputCol("title").setOutputCol("embedding")
 *     .setModel("builtin:all-minilm-l6-v2").transform(products);
 * }</pre>
 */
public final class TextEmbedder extends Transformer implements DefaultParamsWritable {
  private final String uid;
  private final Param<String> inputCol;
  private final Param<String> outputCol;
  private final Param<String> model;
  private final Param<String> engine;
  private final Param<String> device;
  private final Param<String> pooling;
  private final Param<String> outputType;
  private final IntParam batchSize;
  private final IntParam maxTokens;
  private final IntParam threadsPerTask;
  private final IntParam sortWindow;
  private final BooleanParam fp16;

  public TextEmbedder() {
    this(Identifiable.randomUID("itemsim-text-embedder"));
  }

  /** With a given uid (used when loading a saved instance). */
  public TextEmbedder(String uid) {
    this.uid = uid;
    inputCol = new Param<>(this, "inputCol", "text column to encode");
    outputCol = new Param<>(this, "outputCol", "embedding column to add");
    model = new Param<>(this, "model", "builtin:NAME (all-minilm-l6-v2, all-minilm-l6-v2-q, bge-small-zh-v15) or a "
        + "model folder with tokenizer.json and model.onnx / model.safetensors / model.pt");
    engine = new Param<>(this, "engine", "auto, onnxruntime or pytorch", ParamValidators.inArray(
        new String[] {"auto", "onnxruntime", "pytorch"}));
    device = new Param<>(this, "device", "auto, cpu or gpu", ParamValidators.inArray(
        new String[] {"auto", "cpu", "gpu"}));
    pooling = new Param<>(this, "pooling", "auto (the model's own), mean or cls", ParamValidators.inArray(
        new String[] {"auto", "mean", "cls"}));
    outputType = new Param<>(this, "outputType", "array (array<float>) or vector (ML Vector)",
        ParamValidators.inArray(new String[] {"array", "vector"}));
    batchSize = new IntParam(this, "batchSize", "texts per forward pass (1..4096)", ParamValidators.inRange(1, 4096));
    maxTokens = new IntParam(this, "maxTokens", "tokens per text, special tokens included (8..512)",
        ParamValidators.inRange(8, 512));
    threadsPerTask = new IntParam(this, "threadsPerTask", "intra-op threads per forward pass (1..256)",
        ParamValidators.inRange(1, 256));
    sortWindow = new IntParam(this, "sortWindow", "rows of a partition length-sorted together (>= 1)",
        ParamValidators.gtEq(1));
    fp16 = new BooleanParam(this, "fp16", "half precision on a GPU (PyTorch only)");
    setDefault(inputCol, "text");
    setDefault(outputCol, "embedding");
    setDefault(model, "builtin:all-minilm-l6-v2");
    setDefault(engine, "auto");
    setDefault(device, "auto");
    setDefault(pooling, "auto");
    setDefault(outputType, "array");
    setDefault(batchSize, 32);
    setDefault(maxTokens, 128);
    setDefault(threadsPerTask, 1);
    setDefault(sortWindow, 8192);
    setDefault(fp16, false);
  }

  @Override
  public String uid() {
    return uid;
  }

  public Param<String> inputCol() {
    return inputCol;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public Param<String> model() {
    return model;
  }

  public Param<String> engine() {
    return engine;
  }

  public Param<String> device() {
    return device;
  }

  public Param<String> pooling() {
    return pooling;
  }

  public Param<String> outputType() {
    return outputType;
  }

  public IntParam batchSize() {
    return batchSize;
  }

  public IntParam maxTokens() {
    return maxTokens;
  }

  public IntParam threadsPerTask() {
    return threadsPerTask;
  }

  public IntParam sortWindow() {
    return sortWindow;
  }

  public BooleanParam fp16() {
    return fp16;
  }

  public TextEmbedder setInputCol(String value) {
    set(inputCol, value);
    return this;
  }

  public TextEmbedder setOutputCol(String value) {
    set(outputCol, value);
    return this;
  }

  public TextEmbedder setModel(String value) {
    set(model, value);
    return this;
  }

  public TextEmbedder setEngine(String value) {
    set(engine, value);
    return this;
  }

  public TextEmbedder setDevice(String value) {
    set(device, value);
    return this;
  }

  public TextEmbedder setPooling(String value) {
    set(pooling, value);
    return this;
  }

  public TextEmbedder setOutputType(String value) {
    set(outputType, value);
    return this;
  }

  public TextEmbedder setBatchSize(int value) {
    set(batchSize, value);
    return this;
  }

  public TextEmbedder setMaxTokens(int value) {
    set(maxTokens, value);
    return this;
  }

  public TextEmbedder setThreadsPerTask(int value) {
    set(threadsPerTask, value);
    return this;
  }

  public TextEmbedder setSortWindow(int value) {
    set(sortWindow, value);
    return this;
  }

  public TextEmbedder setFp16(boolean value) {
    set(fp16, value);
    return this;
  }

  /** The encoder these parameters describe (validated: a bad combination fails here, naming the parameter). */
  EncoderSettings encoderSettings() {
    String pool = $(pooling);
    return new EncoderSettings(new ModelSpec($(model)), (Integer) $(batchSize), (Integer) $(maxTokens),
        (Integer) $(threadsPerTask), EngineChoice.parse($(engine)), DeviceChoice.parse($(device)),
        (Boolean) $(fp16), pool.equals("auto") ? null : Pooling.parse(pool));
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType schema = transformSchema(dataset.schema(), true);
    EncoderSettings settings = encoderSettings();
    int textIndex = dataset.schema().fieldIndex($(inputCol));
    SparkEncoding.EncodeRows.Output output = $(outputType).equals("vector")
        ? SparkEncoding.EncodeRows.Output.ML_VECTOR : SparkEncoding.EncodeRows.Output.ARRAY;
    JavaRDD<Row> rows = dataset.toDF().javaRDD().mapPartitions(new SparkEncoding.EncodeRows(settings,
        (Integer) $(sortWindow), textIndex, null, output));
    return dataset.sparkSession().createDataFrame(rows, schema);
  }

  @Override
  public StructType transformSchema(StructType schema) {
    String in = $(inputCol);
    String out = $(outputCol);
    StructField field = Arrays.stream(schema.fields()).filter(f -> f.name().equals(in)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("TextEmbedder: inputCol '" + in + "' is not a column of "
            + String.join(", ", schema.fieldNames())));
    if (!field.dataType().equals(DataTypes.StringType)) {
      throw new IllegalArgumentException("TextEmbedder: inputCol '" + in + "' has type "
          + field.dataType().simpleString() + ", expected string");
    }
    if (Arrays.asList(schema.fieldNames()).contains(out)) {
      throw new IllegalArgumentException("TextEmbedder: outputCol '" + out + "' already exists");
    }
    DataType type = $(outputType).equals("vector") ? SQLDataTypes.VectorType()
        : DataTypes.createArrayType(DataTypes.FloatType, false);
    return schema.add(out, type, true);
  }

  @Override
  public TextEmbedder copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  /** Reads a saved {@code TextEmbedder} (also what {@code PipelineModel.load} calls). */
  public static MLReader<TextEmbedder> read() {
    return new DefaultParamsReader<>();
  }

  public static TextEmbedder load(String path) {
    return read().load(path);
  }
}
