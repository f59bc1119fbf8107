package dev.itemsim.job;

import static dev.itemsim.job.JobTestSupport.catalog;
import static dev.itemsim.job.JobTestSupport.product;
import static dev.itemsim.job.JobTestSupport.run;
import static dev.itemsim.job.JobTestSupport.spec;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.SparkTestSupport;
import dev.itemsim.embed.ModelChecksums;
import dev.itemsim.embed.ModelSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile and broken input, end to end through the command line: each case ends in a clear error naming the
 * file, row, column or key (exit code 2), or in rows rejected, counted and written out; no table is replaced by
 * a failed run. The cases and where each is tested:
 * <ol>
 *   <li>empty catalogue: {@link #emptyCatalogue}
 *   <li>CSV with a header only: {@link #headerOnlyCsv}
 *   <li>no id column: {@link #noIdColumn}; no title column: {@code MainTest.missingColumnExitsWithTwoNamingIt}
 *   <li>numeric ids: {@link #numericIds}
 *   <li>null and duplicate ids: {@code SimilarItemsJobTest.writesTablesThatMeetTheContract} (rejected as
 *       {@code null_id}, {@code blank_id}, {@code duplicate_id}, every copy)
 *   <li>10 KB ids, blank and whitespace-only texts, 1 MB texts, emoji, CJK, right-to-left, control-character,
 *       NUL-byte and HTML/script texts: {@link #strangeIdsAndTexts}
 *   <li>invalid UTF-8 in a CSV: {@code CsvRejectLimitTest.rejectLimitCountsCsvLinesNotWhatAQuoteSwallowed} (the
 *       line is rejected as {@code malformed_row}, counted against the reject limit)
 *   <li>a corrupt or truncated Parquet file among good ones: {@code FailureHandlingTest.corruptParquetPartAmongGoodOnes},
 *       {@code FailureHandlingTest.truncatedParquetPart}; parts whose column types differ:
 *       {@code FailureHandlingTest.columnTypesThatDifferBetweenParts}
 *   <li>a directory of zero-byte files: {@link #directoryOfZeroByteFiles}
 *   <li>unknown and mistyped keys: {@code MainTest.unknownConfigKeyExitsWithTwoAndSuggests},
 *       {@code ConfigLoaderTest.unknownKeySuggestsTheNearestOne}; wrongly typed and out-of-range values
 *       (topN = 0, -5, abc, 10⁶; blockSize = 1; batchSize = 0): {@link #badConfigValues}
 *   <li>topN larger than the catalogue: {@code SimilarItemsJobTest.catalogueSmallerThanTopNListsEveryOtherItem}
 *   <li>a missing model folder: {@code MainTest.badModelFolderFoundOnExecutorsStillExitsWithTwo}; a corrupt model
 *       file: {@code FailureHandlingTest.corruptModelFile}; a truncated model: {@link #truncatedModel}; a tampered
 *       model (checksum): {@link #tamperedModelFailsItsChecksums}
 *   <li>output path not writable: {@code FailureHandlingTest.outputInsideTheInputOrUnderAFileIsRefusedBeforeReading},
 *       {@code OutputLockTest.anOutputPathUnderAFileCannotBeWritten}; equal to the input: {@link #outputEqualToTheInput};
 *       inside the input: {@code FailureHandlingTest.outputInsideTheInputOrUnderAFileIsRefusedBeforeReading}
 *   <li>two runs on the same output at once: {@code FailureHandlingTest.aSecondRunOnTheSameOutputRefusesAndNamesTheHolder},
 *       {@code OutputLockTest} (the second refuses naming the run, host and pid holding {@code _lock})
 * </ol>
 */
class HostileInputTest {
  private static final String DATE = "2026-03-01";
  @TempDir
  Path dir;

  private final SparkSession spark = SparkTestSupport.spark();

  @Test
  void emptyCatalogue() throws Exception {
    Path empty = dir.resolve("empty");
    spark.createDataFrame(List.of(), new StructType().add("id", DataTypes.StringType)
        .add("title", DataTypes.StringType)).write().parquet(empty.toString());
    assertInvalid(run(spec(dir, empty, dir.resolve("out"), "text.template = \"{title}\"")), empty + " has no rows");
  }

  @Test
  void headerOnlyCsv() throws Exception {
    Path csv = Files.writeString(dir.resolve("header.csv"), "id,title,brand\n");
    assertInvalid(run(spec(dir, csv, dir.resolve("out"), "input.format = csv", "text.template = \"{title}\"")),
        csv + " has no rows");
  }

  @Test
  void noIdColumn() throws Exception {
    Path noId = dir.resolve("no-id");
    spark.createDataFrame(List.of(RowFactory.create("Lamp", "Ikea")), new StructType()
        .add("title", DataTypes.StringType).add("brand", DataTypes.StringType)).write().parquet(noId.toString());
    assertInvalid(run(spec(dir, noId, dir.resolve("out"), "text.template = \"{title}\"")), "no column 'id'",
        "input.idColumn", "columns found: title, brand");
  }

  @Test
  void numericIds() throws Exception {
    Path numeric = dir.resolve("numeric");
    List<Row> rows = new java.util.ArrayList<>();
    List<String> titles = SparkTestSupport.sampleTitles(12);
    for (int i = 0; i < titles.size(); i++) {
      rows.add(RowFactory.create(1_000_000_000_000L + i, titles.get(i)));
    }
    spark.createDataFrame(rows, new StructType().add("id", DataTypes.LongType).add("title", DataTypes.StringType))
        .write().parquet(numeric.toString());
    Path out = dir.resolve("numeric-out");
    JobTestSupport.Result result = run(spec(dir, numeric, out, "text.template = \"{title}\""));
    assertThat(result.exitCode()).as(result.err()).isZero();
    List<Row> neighbours = spark.read().parquet(new OutputLayout(out.toString()).similarItemsPath(
        java.time.LocalDate.parse(DATE))).collectAsList();
    assertThat(neighbours).hasSize(12 * 5);
    assertThat(neighbours).allSatisfy(r -> assertThat(r.getString(0)).matches("10000000000\\d\\d"));
  }

  @Test
  void strangeIdsAndTexts() throws Exception {
    String longId = "id-" + "x".repeat(10 * 1024);
    String megabyte = "lamp ".repeat(1024 * 1024 / 5);
    Map<String, String> texts = new java.util.LinkedHashMap<>();
    texts.put("emoji", "Phone case \uD83D\uDCF1\uD83D\uDD25 with \uD83D\uDC4D\uD83C\uDFFD grip");
    texts.put("cjk", "无线蓝牙耳机 主动降噪 長時間再生 블루투스 이어폰");
    texts.put("rtl", "\u202Eسماعات لاسلكية بلوتوث אוזניות אלחוטיות");
    texts.put("control", "Desk\u0007lamp\u001B[31m with\u0008 bell");
    texts.put("nul", "Floor\u0000lamp");
    texts.put("html", "<script>alert('x')</script><b>Bold</b> &amp; <img src=x onerror=alert(1)> lamp");
    texts.put("megabyte", megabyte);
    texts.put(longId, "Table lamp with a linen shade");
    List<Row> extra = new java.util.ArrayList<>();
    texts.forEach((id, title) -> extra.add(product(id, title, null)));
    extra.add(product("blank", "", null));
    extra.add(product("whitespace", " \t\n\u00A0\u2007 ", null));
    Path input = catalog(dir, "strange", 30, extra);
    Path out = dir.resolve("strange-out");

    JobTestSupport.Result result = run(spec(dir, input, out, "text.template = \"{title} | {brand}\""),
        "similarity.scorer=embedding");

    assertThat(result.exitCode()).as(result.err()).isZero();
    OutputLayout layout = new OutputLayout(out.toString());
    Map<String, Row> embeddings = new HashMap<>();
    spark.read().parquet(layout.resolve(OutputLayout.EMBEDDINGS).toString()).collectAsList()
        .forEach(r -> embeddings.put(r.getString(0), r));
    assertThat(embeddings).hasSize(30 + texts.size());
    for (String id : texts.keySet()) {
      Row row = embeddings.get(id);
      assertThat(row).as(id).isNotNull();
      List<Float> vector = row.getList(3);
      double norm = vector.stream().mapToDouble(f -> (double) f * f).sum();
      assertThat(vector).as(id).hasSize(384).allSatisfy(f -> assertThat(Float.isFinite(f)).isTrue());
      assertThat(norm).as(id).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
    }
    // texts are data, kept as given (whitespace aside): markup is not interpreted, NUL and control characters stay
    assertThat(embeddings.get("html").getString(4)).isEqualTo(texts.get("html"));
    assertThat(embeddings.get("nul").getString(4)).isEqualTo("Floor\u0000lamp");
    assertThat(embeddings.get("rtl").getString(4)).isEqualTo(texts.get("rtl"));
    assertThat(embeddings.get("megabyte").getString(4)).hasSizeLessThanOrEqualTo(300).startsWith("lamp lamp");
    assertThat(embeddings.get(longId).getString(0)).hasSize(longId.length());

    Map<String, List<Row>> lists = new HashMap<>();
    spark.read().parquet(layout.similarItemsPath(java.time.LocalDate.parse(DATE))).collectAsList()
        .forEach(r -> lists.computeIfAbsent(r.getString(0), k -> new java.util.ArrayList<>()).add(r));
    for (String id : texts.keySet()) {
      assertThat(lists.get(id)).as(id).hasSize(5);
    }
    // "Table lamp" items list each other, the 10 KB id among them
    assertThat(lists.values().stream().flatMap(List::stream).map(r -> r.getString(2))).contains(longId);

    Map<String, String> rejected = new HashMap<>();
    spark.read().parquet(layout.resolve(OutputLayout.rejected(java.time.LocalDate.parse(DATE))).toString())
        .collectAsList().forEach(r -> rejected.put(r.getString(1), r.getString(0)));
    assertThat(rejected).containsOnly(Map.entry("blank", "blank_text"), Map.entry("whitespace", "blank_text"));
    JsonNode counts = summary(out).get("counts");
    assertThat(counts.get("items_read").asLong()).isEqualTo(30 + texts.size() + 2);
    assertThat(counts.get("items_encoded").asLong() + counts.get("items_rejected").asLong())
        .isEqualTo(counts.get("items_read").asLong());
  }

  @Test
  void directoryOfZeroByteFiles() throws Exception {
    Path parquet = Files.createDirectories(dir.resolve("zero-parquet"));
    Files.createFile(parquet.resolve("part-00000.snappy.parquet"));
    Files.createFile(parquet.resolve("part-00001.snappy.parquet"));
    assertInvalid(run(spec(dir, parquet, dir.resolve("out-p"))), "part-0000");

    Path csv = Files.createDirectories(dir.resolve("zero-csv"));
    Files.createFile(csv.resolve("a.csv"));
    Files.createFile(csv.resolve("b.csv"));
    assertInvalid(run(spec(dir, csv, dir.resolve("out-c"), "input.format = csv")), csv.toString());
  }

  @Test
  void badConfigValues() throws Exception {
    Path input = dir.resolve("never-read");
    Path spec = spec(dir, input, dir.resolve("out"));
    assertInvalid(run(spec, "similarity.topN=0"), "similarity.topN = 0 is out of range 1..1000");
    assertInvalid(run(spec, "similarity.topN=-5"), "similarity.topN = -5 is out of range 1..1000");
    assertInvalid(run(spec, "similarity.topN=abc"), "similarity.topN must be an integer");
    assertInvalid(run(spec, "similarity.topN=1000000"), "similarity.topN = 1000000 is out of range 1..1000");
    assertInvalid(run(spec, "similarity.blockSize=1"), "similarity.blockSize = 1 is out of range");
    assertInvalid(run(spec, "encoder.batchSize=0"), "encoder.batchSize = 0 is out of range 1..4096");
    assertInvalid(run(spec, "similarity.topN=2.5"), "similarity.topN must be an integer");
    assertInvalid(run(spec, "encoder.fp16=maybe"), "encoder.fp16");
    assertThat(dir.resolve("out")).doesNotExist();
  }

  @Test
  void truncatedModel() throws Exception {
    Path model = modelFolder("truncated");
    byte[] onnx = Files.readAllBytes(model.resolve("model.onnx"));
    Files.write(model.resolve("model.onnx"), java.util.Arrays.copyOf(onnx, onnx.length / 3));
    Path input = catalog(dir, "items", 8, List.of());
    Path out = dir.resolve("out-truncated");
    assertInvalid(run(spec(dir, input, out), "encoder.model=" + model, "similarity.scorer=embedding"),
        "model.onnx");
    assertThat(out.resolve("similar_items")).doesNotExist();
  }

  @Test
  void tamperedModelFailsItsChecksums() throws Exception {
    Path model = modelFolder("tampered");
    writeChecksums(model, "tokenizer.json", "model.onnx");
    Path input = catalog(dir, "items", 8, List.of());
    Path out = dir.resolve("out-tampered");
    // verified and intact: the job runs
    JobTestSupport.Result intact = run(spec(dir, input, out), "encoder.model=" + model,
        "similarity.scorer=embedding");
    assertThat(intact.exitCode()).as(intact.err()).isZero();
    List<String> before = sortedRows(out);

    // one changed byte in the weights still loads and would give other vectors: the checksum stops it
    byte[] onnx = Files.readAllBytes(model.resolve("model.onnx"));
    onnx[onnx.length - 100] ^= 0x01;
    Files.write(model.resolve("model.onnx"), onnx);
    JobTestSupport.Result tampered = run(spec(dir, input, out), "encoder.model=" + model,
        "similarity.scorer=embedding");
    assertInvalid(tampered, "model.onnx does not match " + ModelChecksums.FILE, "expected SHA-256");
    assertThat(sortedRows(out)).isEqualTo(before);

    // a weight file nobody listed is not loaded unverified
    Files.write(model.resolve("model.onnx"), Files.readAllBytes(new ModelSpec("builtin:all-minilm-l6-v2").resolve()
        .onnx()));
    Files.writeString(model.resolve("config.json"), "{}");
    assertInvalid(run(spec(dir, input, out), "encoder.model=" + model, "similarity.scorer=embedding"),
        "config.json is not listed in " + ModelChecksums.FILE);
  }

  @Test
  void outputEqualToTheInput() throws Exception {
    Path input = catalog(dir, "same", 5, List.of());
    assertInvalid(run(spec(dir, input, input)), "output.path = " + input, "is input.path");
  }

  /** A model folder: the built-in MiniLM's ONNX graph (copied) and tokenizer. */
  private Path modelFolder(String name) throws Exception {
    Path model = Files.createDirectories(dir.resolve(name));
    var builtin = new ModelSpec("builtin:all-minilm-l6-v2").resolve();
    Files.copy(builtin.onnx(), model.resolve("model.onnx"));
    Files.copy(builtin.tokenizer(), model.resolve("tokenizer.json"));
    return model;
  }

  /** What {@code sha256sum FILES > checksums.sha256} writes. */
  private static void writeChecksums(Path model, String... files) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (String f : files) {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(model.resolve(f)));
      sb.append(HexFormat.of().formatHex(digest)).append("  ").append(f).append('\n');
    }
    Files.writeString(model.resolve(ModelChecksums.FILE), sb.toString(), StandardCharsets.UTF_8);
  }

  private List<String> sortedRows(Path out) {
    return spark.read().parquet(new OutputLayout(out.toString()).similarItemsPath(java.time.LocalDate.parse(DATE)))
        .orderBy("item_id", "rank").collectAsList().stream().map(Row::toString).toList();
  }

  private static void assertInvalid(JobTestSupport.Result result, String... named) {
    assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
    for (String n : named) {
      assertThat(result.err()).contains(n);
    }
    assertThat(result.err()).doesNotContain("\tat ");
  }

  private static JsonNode summary(Path out) throws Exception {
    try (Stream<Path> runs = Files.list(out.resolve(OutputLayout.RUNS))) {
      Path file = runs.filter(p -> p.toString().endsWith(".json")).findFirst().orElseThrow();
      return new ObjectMapper().readTree(file.toFile());
    }
  }
}
