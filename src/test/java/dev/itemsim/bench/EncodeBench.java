package dev.itemsim.bench;

import static org.apache.spark.sql.functions.col;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.itemsim.catalog.SyntheticCatalog;
import dev.itemsim.catalog.TextTemplate;
import dev.itemsim.embed.EncoderSettings;
import dev.itemsim.embed.EngineChoice;
import dev.itemsim.embed.ModelFiles;
import dev.itemsim.embed.ModelSpec;
import dev.itemsim.embed.SentenceEncoder;
import dev.itemsim.embed.SharedEncoders;
import dev.itemsim.embed.SparkEncoding;
import dev.itemsim.similarity.Kernels;
import dev.itemsim.similarity.MatMulKernel;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Encoding benchmark: itemsim's Spark encode stage (local[2]) against plain ONNX Runtime Java loops over the
 * same texts on the same two cores (same sorting and batching: the floor of overhead; arrival order with
 * batches of 100 padded to the batch's longest text: the style of DJL's Spark extension and Spark NLP; fixed
 * padding to 128 tokens), int8 against fp32 (throughput and Abt-Buy recall@10), tokens/s and GFLOP/s against
 * the sgemm peak measured in the same run, and the two engines (ONNX Runtime, PyTorch) side by side on the
 * English and the Chinese built-in models.
 *
 * <p>Usage: {@code EncodeBench [--texts 6000] [--reps 3]}.
 */
public final class EncodeBench {
  private static final String FP32 = "builtin:all-minilm-l6-v2";
  private static final String INT8 = "builtin:all-minilm-l6-v2-q";
  private static final String ZH = "builtin:bge-small-zh-v15";
  /** MiniLM-L6-H384: 6 layers × (4·384² attention + 2·384·1536 feed-forward) weights, biases ignored. */
  private static final double NON_EMBEDDING_PARAMS = 6 * (4.0 * 384 * 384 + 2.0 * 384 * 1536);
  private static final TextTemplate TEMPLATE = TextTemplate.parse("{title} | {brand} | {category}", 300);
  /** Partitions of the Spark encode stage; 0 = the job's default ({@link SparkEncoding#partitions}). */
  private static int partitions = 0;

  public static void main(String[] args) throws Exception {
    int count = 6000;
    int reps = 3;
    boolean quick = false;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--texts" -> count = Integer.parseInt(args[i + 1]);
        case "--reps" -> reps = Integer.parseInt(args[i + 1]);
        case "--partitions" -> partitions = Integer.parseInt(args[i + 1]);
        case "--quick" -> {
          quick = true;
          i--;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    ai.djl.engine.Engine.getEngine("OnnxRuntime");
    SparkSession spark = SparkSession.builder().master("local[2]").appName("bench-encode")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.plugins", dev.itemsim.similarity.NativeBlasPlugin.class.getName()).getOrCreate();
    List<String> texts = texts(spark, count);
    double meanTokens = 0;
    System.out.println("bench-encode on " + BenchSupport.machine());
    System.out.printf(Locale.ROOT, "inputs: %d texts (%d real product texts from sample-data/catalog, %d synthetic), "
        + "template \"%s\", max 128 tokens, 2 cores, median of %d%n", texts.size(), count * 2 / 3,
        texts.size() - count * 2 / 3, TEMPLATE, reps);

    ModelFiles files = new ModelSpec(FP32).resolve();
    double peak = sgemmPeak();
    Map<String, Double> rate = new HashMap<>();
    long[] tokens = new long[1];

    final List<String> all = texts;
    rate.put("itemsim", BenchSupport.median(reps, () -> sparkEncode(spark, all, FP32, tokens)));
    meanTokens = (double) tokens[0] / texts.size();
    try (RawOrt raw = new RawOrt(files)) {
      rate.put("floor", BenchSupport.median(reps, () -> raw.run(all, true, 32, 0)));
      if (quick) {
        System.out.printf(Locale.ROOT, "quick: itemsim %.1f texts/s, floor %.1f texts/s, ratio %.3f%n",
            rate.get("itemsim"), rate.get("floor"), rate.get("itemsim") / rate.get("floor"));
        spark.stop();
        return;
      }
      rate.put("peer", BenchSupport.median(reps, () -> raw.run(all, false, 100, 0)));
      rate.put("fixed128", BenchSupport.median(reps, () -> raw.run(all, false, 32, 128)));
    }
    rate.put("itemsim_int8", BenchSupport.median(reps, () -> sparkEncode(spark, all, INT8, new long[1])));
    rate.put("itemsim_pytorch", BenchSupport.median(reps,
        () -> sparkEncode(spark, all, FP32, EngineChoice.PYTORCH, new long[1])));
    List<String> chinese = chineseTexts(texts.size());
    rate.put("zh_onnxruntime", BenchSupport.median(reps, () -> sparkEncode(spark, chinese, ZH, new long[1])));
    rate.put("zh_pytorch", BenchSupport.median(reps,
        () -> sparkEncode(spark, chinese, ZH, EngineChoice.PYTORCH, new long[1])));

    double tokensPerSecond = rate.get("itemsim") * meanTokens;
    double gflops = 2 * NON_EMBEDDING_PARAMS * tokensPerSecond / 1e9;
    System.out.println();
    System.out.printf(Locale.ROOT, "%-58s %10s%n", "variant (2 cores)", "texts/s");
    row("itemsim Spark encode stage, fp32 (sorted, batch 32, dynamic padding)", rate.get("itemsim"));
    row("plain ORT Java session, same sorting and batching (floor)", rate.get("floor"));
    row("peer style: arrival order, batch 100, pad to batch's longest", rate.get("peer"));
    row("textbook: arrival order, batch 32, padded to 128 tokens", rate.get("fixed128"));
    row("itemsim Spark encode stage, int8 model", rate.get("itemsim_int8"));
    row("itemsim Spark encode stage, fp32, PyTorch engine (BERT on NDArray)", rate.get("itemsim_pytorch"));
    row("Chinese bge-small-zh-v15, ONNX Runtime engine", rate.get("zh_onnxruntime"));
    row("Chinese bge-small-zh-v15, PyTorch engine", rate.get("zh_pytorch"));
    System.out.printf(Locale.ROOT, "engines on CPU: PyTorch / ONNX Runtime = %.2fx (MiniLM), %.2fx (bge-small-zh); "
        + "encoder.engine = auto picks %s on CPU%n", rate.get("itemsim_pytorch") / rate.get("itemsim"),
        rate.get("zh_pytorch") / rate.get("zh_onnxruntime"),
        rate.get("itemsim_pytorch") > rate.get("itemsim") ? "the slower engine: revisit EngineChoice.AUTO" : "onnxruntime");
    System.out.printf(Locale.ROOT, "tokens: %.1f per text; itemsim fp32 %.0f tokens/s = %.1f GFLOP/s "
        + "(2 x %.1fM non-embedding params x tokens/s) = %.0f%% of the %.1f GFLOP/s sgemm peak measured now%n",
        meanTokens, tokensPerSecond, gflops, NON_EMBEDDING_PARAMS / 1e6, 100 * gflops / peak, peak);

    double[] recall = abtBuyRecallAt10(spark);
    System.out.printf(Locale.ROOT, "Abt-Buy A->B recall@10 (title | brand, exact cosine): fp32 %.4f, int8 %.4f%n",
        recall[0], recall[1]);

    System.out.println();
    System.out.println(BenchSupport.target("encode_vs_plain_ort", rate.get("itemsim") / rate.get("floor"), ">=", 0.95));
    System.out.println(BenchSupport.target("encode_vs_peer_style", rate.get("itemsim") / rate.get("peer"), ">=", 1.6));
    System.out.println(BenchSupport.target("encode_vs_fixed_padding_128", rate.get("itemsim") / rate.get("fixed128"),
        ">=", 4.0));
    System.out.println(BenchSupport.target("encode_int8_vs_fp32", rate.get("itemsim_int8") / rate.get("itemsim"),
        ">=", 2.0));
    System.out.println(BenchSupport.target("int8_recall_at_10_loss_points", 100 * (recall[0] - recall[1]), "<=", 0.5));
    spark.stop();
  }

  private static void row(String name, double value) {
    System.out.printf(Locale.ROOT, "%-58s %10.1f%n", name, value);
  }

  /** Two thirds real sample-catalogue texts (in catalogue order), one third synthetic; deterministic. */
  private static List<String> texts(SparkSession spark, int count) {
    List<String> texts = new ArrayList<>();
    int real = count * 2 / 3;
    for (Row r : spark.read().parquet("sample-data/catalog").select("title", "brand", "category").limit(real)
        .collectAsList()) {
      texts.add(TEMPLATE.render(Arrays.asList(r.getString(0), r.getString(1), r.getString(2))));
    }
    Path synthetic = Path.of("target/bench/synthetic-" + (count - real));
    if (!Files.exists(synthetic)) {
      SyntheticCatalog.write(spark, count - real, 0.1, 42, synthetic.toString());
    }
    for (Row r : spark.read().parquet(synthetic.toString()).orderBy("id").select("title", "brand", "category")
        .collectAsList()) {
      texts.add(TEMPLATE.render(Arrays.asList(r.getString(0), r.getString(1), r.getString(2))));
    }
    return texts;
  }

  /** The Chinese sample's titles, repeated (with a running number) up to {@code count} texts. */
  private static List<String> chineseTexts(int count) {
    List<String> titles = dev.itemsim.SparkTestSupport.chineseTitles(Integer.MAX_VALUE);
    List<String> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(titles.get(i % titles.size()) + (i < titles.size() ? "" : " " + i));
    }
    return out;
  }

  /** Texts per second of the real encode stage, model already loaded (first call warms it up). */
  private static double sparkEncode(SparkSession spark, List<String> texts, String model, long[] tokensOut) {
    return sparkEncode(spark, texts, model, EngineChoice.ONNXRUNTIME, tokensOut);
  }

  private static double sparkEncode(SparkSession spark, List<String> texts, String model, EngineChoice engine,
      long[] tokensOut) {
    List<Row> rows = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      rows.add(RowFactory.create("t" + i, texts.get(i)));
    }
    StructType schema = new StructType().add("item_id", DataTypes.StringType).add("text", DataTypes.StringType);
    Dataset<Row> items = spark.createDataFrame(rows, schema).cache();
    items.count();
    EncoderSettings settings = new EncoderSettings(new ModelSpec(model), 32, 128, 1).withEngine(engine);
    SharedEncoders.get(settings).encode(texts.subList(0, 64));
    var tokens = spark.sparkContext().longAccumulator();
    long t0 = System.nanoTime();
    int p = SparkEncoding.partitions(spark, partitions);
    long n = SparkEncoding.encode(spark, items, settings, p, 8192, tokens).select(col("item_id")).count();
    double seconds = (System.nanoTime() - t0) / 1e9;
    items.unpersist();
    tokensOut[0] = tokens.value();
    if (n != texts.size()) {
      throw new IllegalStateException("encoded " + n + " of " + texts.size());
    }
    return n / seconds;
  }

  private static double sgemmPeak() {
    MatMulKernel kernel = Kernels.select("auto");
    int m = 1024;
    float[] a = new float[m * 384];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) Math.sin(i);
    }
    return BenchSupport.median(3, () -> {
      AtomicLong calls = new AtomicLong();
      long end = System.nanoTime() + 1_000_000_000L;
      long t0 = System.nanoTime();
      BenchSupport.inParallel(() -> loop(kernel, a, m, end, calls), () -> loop(kernel, a, m, end, calls));
      return calls.get() * 2.0 * m * m * 384 / ((System.nanoTime() - t0) / 1e9) / 1e9;
    });
  }

  private static void loop(MatMulKernel kernel, float[] a, int m, long end, AtomicLong calls) {
    float[] c = new float[m * m];
    while (System.nanoTime() < end) {
      kernel.multiplyTransposed(a, m, a, m, 384, c);
      calls.incrementAndGet();
    }
  }

  /** Recall@10 of Abt → Buy over the full gold standard, fp32 and int8, brute-force exact cosine. */
  private static double[] abtBuyRecallAt10(SparkSession spark) throws Exception {
    Map<String, String> a = csvTexts("sample-data/abt-buy/products_a.csv", spark);
    Map<String, String> b = csvTexts("sample-data/abt-buy/products_b.csv", spark);
    List<String[]> matches = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("sample-data/abt-buy/matches.csv")).subList(1, 1098)) {
      matches.add(line.split(","));
    }
    double[] out = new double[2];
    String[] models = {FP32, INT8};
    for (int m = 0; m < 2; m++) {
      SentenceEncoder encoder = SharedEncoders.get(new EncoderSettings(new ModelSpec(models[m]), 32, 128, 1));
      List<String> aIds = new ArrayList<>(a.keySet());
      List<String> bIds = new ArrayList<>(b.keySet());
      float[][] av = encoder.encode(aIds.stream().map(a::get).toList()).vectors();
      float[][] bv = encoder.encode(bIds.stream().map(b::get).toList()).vectors();
      Map<String, Integer> aIndex = new HashMap<>();
      for (int i = 0; i < aIds.size(); i++) {
        aIndex.put(aIds.get(i), i);
      }
      int hits = 0;
      for (String[] pair : matches) {
        float[] q = av[aIndex.get(pair[0])];
        int target = bIds.indexOf(pair[1]);
        double targetScore = dot(q, bv[target]);
        int better = 0;
        for (int j = 0; j < bv.length; j++) {
          double s = dot(q, bv[j]);
          if (s > targetScore || (s == targetScore && bIds.get(j).compareTo(pair[1]) < 0)) {
            better++;
          }
        }
        hits += better < 10 ? 1 : 0;
      }
      out[m] = (double) hits / matches.size();
    }
    return out;
  }

  private static Map<String, String> csvTexts(String path, SparkSession spark) {
    Map<String, String> texts = new java.util.LinkedHashMap<>();
    for (Row r : dev.itemsim.catalog.CatalogReader.read(spark, path, "csv").select("id", "title", "brand")
        .collectAsList()) {
      texts.put(r.getString(0), TEMPLATE.render(Arrays.asList(r.getString(1), r.getString(2), null)));
    }
    return texts;
  }

  private static double dot(float[] x, float[] y) {
    double s = 0;
    for (int k = 0; k < x.length; k++) {
      s += x[k] * y[k];
    }
    return s;
  }

  /** Plain ONNX Runtime Java API, one shared session (1 intra-op thread), two worker threads. */
  private static final class RawOrt implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;

    RawOrt(ModelFiles files) throws Exception {
      OrtSession.SessionOptions options = new OrtSession.SessionOptions();
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      session = env.createSession(files.onnx().toString(), options);
      tokenizer = HuggingFaceTokenizer.builder().optTokenizerPath(files.tokenizer()).optTruncation(true)
          .optMaxLength(128).optPadding(false).build();
    }

    /** Texts/s over {@code texts} split in two halves, one per thread. {@code fixedLength} 0 = dynamic. */
    double run(List<String> texts, boolean sorted, int batch, int fixedLength) {
      long t0 = System.nanoTime();
      int half = texts.size() / 2;
      BenchSupport.inParallel(() -> encode(texts.subList(0, half), sorted, batch, fixedLength),
          () -> encode(texts.subList(half, texts.size()), sorted, batch, fixedLength));
      return texts.size() / ((System.nanoTime() - t0) / 1e9);
    }

    private void encode(List<String> texts, boolean sorted, int batch, int fixedLength) {
      try {
        Encoding[] enc = tokenizer.batchEncode(texts);
        Integer[] order = new Integer[enc.length];
        for (int i = 0; i < order.length; i++) {
          order[i] = i;
        }
        if (sorted) {
          Arrays.sort(order, (x, y) -> Integer.compare(enc[x].getIds().length, enc[y].getIds().length));
        }
        for (int from = 0; from < order.length; from += batch) {
          int to = Math.min(order.length, from + batch);
          int len = fixedLength;
          if (len == 0) {
            for (int i = from; i < to; i++) {
              len = Math.max(len, enc[order[i]].getIds().length);
            }
          }
          long[] ids = new long[(to - from) * len];
          long[] mask = new long[ids.length];
          long[] types = new long[ids.length];
          for (int i = from; i < to; i++) {
            Encoding e = enc[order[i]];
            System.arraycopy(e.getIds(), 0, ids, (i - from) * len, e.getIds().length);
            System.arraycopy(e.getAttentionMask(), 0, mask, (i - from) * len, e.getIds().length);
          }
          long[] shape = {to - from, len};
          try (OnnxTensor t1 = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
              OnnxTensor t2 = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
              OnnxTensor t3 = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape);
              OrtSession.Result r = session.run(Map.of("input_ids", t1, "attention_mask", t2, "token_type_ids", t3))) {
            float[][][] hidden = (float[][][]) r.get(0).getValue();
            if (hidden.length != to - from) {
              throw new IllegalStateException("bad output");
            }
          }
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void close() throws Exception {
      session.close();
      tokenizer.close();
    }
  }
}
