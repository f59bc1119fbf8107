package dev.itemsim.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.itemsim.embed.EncoderUsage;
import dev.itemsim.eval.Evaluation;
import dev.itemsim.similarity.KernelUsage;
import dev.itemsim.similarity.SearchFacts;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * What a run did, filled in stage by stage from typed parts and written as JSON to
 * {@code <output>/_runs/<name>.json}: identity and settings ({@link Header}), status, the catalogue and encode
 * counts per side, what the search ran ({@link SearchFacts}), evaluation results, per-stage wall times.
 *
 * <p>JSON layout: the header's fields, {@code status}, {@code error}, {@code published} (whether the run's tables
 * were put in place; a run can fail after that), {@code run_mode} and {@code full_reasons}
 * (jobs that start from the previous run's tables), the search facts (with {@code method} and, for approximate
 * search, an {@code ivf} object holding the recall it measured), {@code encode_items_per_s}, paths, then
 * {@code counts} and {@code stage_ms}; absent parts are left out. Counts of the second catalogue
 * ({@code search.against}) carry the prefix {@code against_}.
 */
public final class RunSummary {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Which run this is and the settings that shape its output; null fields do not apply to the job. */
  public record Header(String job, String runId, String runDate, String input, String against, String matches,
      String output, String model, String encoder, Integer topN, String configDigest) {}

  /** Rows read and rejected, by reason. */
  public record CatalogCounts(long itemsRead, long itemsRejected, Map<String, Long> rejectedByReason) {}

  /**
   * Items and tokens through the encoder, and the stage's throughput (items encoded per second of the stage).
   *
   * @param itemsReused items whose vector was the previous run's (same text, same encoder fingerprint)
   */
  public record EncodeCounts(long itemsEncoded, long itemsReused, long tokensEncoded, long itemsPerSecond) {
    /** Every valid item of the catalogue: encoded or reused. */
    public long items() {
      return itemsEncoded + itemsReused;
    }
  }

  /**
   * Whether a catalogue's vectors were looked up in the previous run's table.
   *
   * @param fullReason why every item was encoded, or null when the previous vectors were used
   * @param itemsDeleted items of the previous table that are no longer in the catalogue (null: no table read)
   */
  public record VectorReuse(String fullReason, Long itemsDeleted) {}

  /**
   * Whether the neighbour lists were updated from the previous run's or all ranked again.
   *
   * @param fullReason why every list was ranked again, or null when the lists were updated
   * @param unchanged items unchanged since the previous run (null for a full ranking)
   * @param updated unchanged items whose stored list was kept and merged with the new and changed items
   * @param recomputed items ranked against all items
   */
  public record ListUpdate(String fullReason, Long unchanged, Long updated, Long recomputed) {}

  /**
   * What Spark went through during the run ({@link TaskMonitor}): executors that joined and were lost, task
   * attempts that failed (by reason), attempts killed (losing speculative copies, cancelled stages) and
   * speculative copies launched.
   */
  public record SparkActivity(int executorsAdded, int executorsLost, long taskFailures,
      Map<String, Long> failuresByReason, long tasksKilled, long speculativeTasks) {
    Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("executors_added", executorsAdded);
      m.put("executors_lost", executorsLost);
      m.put("task_failures", taskFailures);
      m.put("failures_by_reason", failuresByReason);
      m.put("tasks_killed", tasksKilled);
      m.put("speculative_tasks", speculativeTasks);
      return m;
    }
  }

  /** A run's state; every run ends {@code succeeded} or {@code failed}. */
  public enum Status {
    RUNNING, SUCCEEDED, FAILED;

    String json() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * Which table a count belongs to: the input, {@code search.against}, or the match job's left table
   * ({@code match.left.path}).
   */
  public enum Side {
    INPUT(""), AGAINST("against_"), LEFT("left_");

    private final String prefix;

    Side(String prefix) {
      this.prefix = prefix;
    }

    public String prefix() {
      return prefix;
    }
  }

  private final Header header;
  private Status status = Status.RUNNING;
  private String error;
  private Boolean published;
  private final Map<Side, CatalogCounts> catalogs = new LinkedHashMap<>();
  private final Map<Side, EncodeCounts> encoded = new LinkedHashMap<>();
  private final Map<Side, VectorReuse> reuse = new LinkedHashMap<>();
  private ListUpdate lists;
  private String encoderFingerprint;
  private final Map<Side, EncoderUsage> encoderUsage = new LinkedHashMap<>();
  private SparkActivity sparkActivity;
  private SearchFacts search;
  private Long pairsWritten;
  private Evaluation evaluation;
  private String metricsPath;
  private String rejectedPath;
  private String summaryPath;
  private final Map<String, Long> stageMillis = new LinkedHashMap<>();
  private final Map<String, Object> details = new LinkedHashMap<>();
  private Map<String, Object> scorerSettings;
  private String leftKind;
  private String leftPath;
  private final Map<String, Object> jobCounts = new LinkedHashMap<>();

  public RunSummary(Header header) {
    this.header = header;
  }

  public Header header() {
    return header;
  }

  public Status status() {
    return status;
  }

  public String error() {
    return error;
  }

  public void succeeded() {
    status = Status.SUCCEEDED;
  }

  /** Whether the run put its tables in place (a run may fail after that, e.g. stopped while cleaning up). */
  public void published(boolean value) {
    published = value;
  }

  public Boolean published() {
    return published;
  }

  /** Marks the run failed with its cause in one line. */
  public void failed(String cause) {
    status = Status.FAILED;
    error = cause;
  }

  public void catalog(Side side, CatalogCounts counts) {
    catalogs.put(side, counts);
  }

  public CatalogCounts catalog(Side side) {
    return catalogs.get(side);
  }

  public void encoded(Side side, EncodeCounts counts) {
    encoded.put(side, counts);
  }

  public EncodeCounts encoded(Side side) {
    return encoded.get(side);
  }

  /** How {@code side}'s vectors were obtained; only jobs that keep vectors between runs report it. */
  public void reuse(Side side, VectorReuse vectors) {
    reuse.put(side, vectors);
  }

  public VectorReuse reuse(Side side) {
    return reuse.get(side);
  }

  public void lists(ListUpdate update) {
    lists = update;
  }

  public ListUpdate lists() {
    return lists;
  }

  public void encoderFingerprint(String fingerprint) {
    encoderFingerprint = fingerprint;
  }

  /**
   * {@code incremental} when the run started from the previous run's vectors and lists, {@code full} when it
   * did not (entirely); null for jobs that keep nothing between runs.
   */
  public String runMode() {
    if (reuse.isEmpty() && lists == null) {
      return null;
    }
    return fullReasons().isEmpty() ? "incremental" : "full";
  }

  /** Why parts of the run started from scratch: {@code encode: ...}, {@code encode-against: ...}, {@code top-n: ...}. */
  public java.util.List<String> fullReasons() {
    java.util.List<String> reasons = new java.util.ArrayList<>();
    reuse.forEach((side, r) -> {
      if (r.fullReason() != null) {
        reasons.add("encode" + switch (side) {
          case INPUT -> "";
          case AGAINST -> "-against";
          case LEFT -> "-left";
        } + ": " + r.fullReason());
      }
    });
    if (lists != null && lists.fullReason() != null) {
      reasons.add("top-n: " + lists.fullReason());
    }
    return reasons;
  }

  /**
   * Where this side's encode tasks ran; read when the summary is written, so tasks re-run later in the run
   * (a partition recomputed after a lost executor) count too.
   */
  public void encoderUsage(Side side, EncoderUsage usage) {
    encoderUsage.put(side, usage);
  }

  /** Where this side's encode tasks ran, as reported so far; null before the encode stage. */
  public EncoderUsage.Report encoderUsage(Side side) {
    EncoderUsage usage = encoderUsage.get(side);
    return usage == null ? null : usage.report();
  }

  void sparkActivity(SparkActivity activity) {
    sparkActivity = activity;
  }

  public SparkActivity sparkActivity() {
    return sparkActivity;
  }

  public void search(SearchFacts facts) {
    search = facts;
  }

  public SearchFacts search() {
    return search;
  }

  /** The retriever's settings ({@link dev.itemsim.similarity.Retriever#settings()}), so a report can re-score. */
  public void scorerSettings(Map<String, Object> settings) {
    scorerSettings = new LinkedHashMap<>(settings);
  }

  public Map<String, Object> scorerSettings() {
    return scorerSettings;
  }

  /** The match job's left table: its kind and path. */
  public void left(String kind, String path) {
    leftKind = kind;
    leftPath = path;
  }

  /** A count of the job's own (e.g. users matched), written after the shared counts. */
  public void count(String key, Object value) {
    jobCounts.put(key, value);
  }

  public void pairsWritten(long pairs) {
    pairsWritten = pairs;
  }

  public Long pairsWritten() {
    return pairsWritten;
  }

  public void evaluation(Evaluation result, String path) {
    evaluation = result;
    metricsPath = path;
  }

  public Evaluation evaluation() {
    return evaluation;
  }

  public String metricsPath() {
    return metricsPath;
  }

  /** Where the rejected rows of a run stopped by the reject limit were kept. */
  public void rejectedPath(String path) {
    rejectedPath = path;
  }

  void summaryPath(String path) {
    summaryPath = path;
  }

  public String summaryPath() {
    return summaryPath;
  }

  /** A job-specific part of the summary (e.g. the finetune job's {@code training}), written under {@code key}. */
  public void detail(String key, Object value) {
    details.put(key, value);
  }

  public Map<String, Object> details() {
    return details;
  }

  void stage(String name, long millis) {
    stageMillis.put(name, millis);
  }

  public Map<String, Long> stageMillis() {
    return stageMillis;
  }

  /** The {@code counts} object, in its JSON form. */
  public Map<String, Object> counts() {
    Map<String, Object> counts = new LinkedHashMap<>();
    catalogs.forEach((side, c) -> {
      counts.put(side.prefix() + "items_read", c.itemsRead());
      counts.put(side.prefix() + "items_rejected", c.itemsRejected());
      counts.put(side.prefix() + "rejected_by_reason", c.rejectedByReason());
    });
    encoded.forEach((side, e) -> {
      counts.put(side.prefix() + "items_encoded", e.itemsEncoded());
      if (reuse.containsKey(side)) {
        counts.put(side.prefix() + "items_reused", e.itemsReused());
        Long deleted = reuse.get(side).itemsDeleted();
        if (deleted != null) {
          counts.put(side.prefix() + "items_deleted", deleted);
        }
      }
      counts.put(side.prefix() + "tokens_encoded", e.tokensEncoded());
    });
    if (lists != null && lists.fullReason() == null) {
      counts.put("lists_unchanged_items", lists.unchanged());
      counts.put("lists_updated", lists.updated());
      counts.put("lists_recomputed", lists.recomputed());
    }
    encoderUsage.forEach((side, usage) -> {
      EncoderUsage.Report r = usage.report();
      counts.put(side.prefix() + "encode_tasks", r.tasks());
      counts.put(side.prefix() + "encode_jvms", r.jvms());
      counts.put(side.prefix() + "encoder_loads", r.loads());
    });
    if (evaluation != null) {
      counts.putAll(evaluation.counts());
      EncodeCounts a = encoded.get(Side.INPUT);
      EncodeCounts b = encoded.getOrDefault(Side.AGAINST, a);
      CatalogCounts ra = catalogs.get(Side.INPUT);
      CatalogCounts rb = catalogs.getOrDefault(Side.AGAINST, ra);
      counts.put("items_a", a.items());
      counts.put("items_b", b.items());
      counts.put("rejected_a", ra.itemsRejected());
      counts.put("rejected_b", rb.itemsRejected());
    }
    if (pairsWritten != null) {
      counts.put("pairs_written", pairsWritten);
    }
    KernelUsage.Report topN = topNUsage();
    if (topN != null) {
      counts.put("topn_tasks", topN.tasks());
      counts.put("topn_jvms", topN.jvms());
    }
    if (search != null && search.duplicateTextsCollapsed() != null) {
      counts.put("duplicate_texts_collapsed", search.duplicateTextsCollapsed());
    }
    counts.putAll(jobCounts);
    return counts;
  }

  /**
   * The top-N kernel: what the product tasks ran on once they have run (on a cluster, the executors' kernel, which
   * a GPU can make another than the driver's), else the kernel the search named; null when none multiplies.
   */
  public String kernel() {
    KernelUsage.Report topN = topNUsage();
    return topN != null ? String.join(", ", topN.kernels().keySet()) : search == null ? null : search.kernel();
  }

  /** What the top-N product tasks reported, or null when none ran (or the scorer multiplies no vectors). */
  private KernelUsage.Report topNUsage() {
    if (search == null || search.kernelUsage() == null) {
      return null;
    }
    KernelUsage.Report report = search.kernelUsage().report();
    return report.tasks() == 0 ? null : report;
  }

  public Map<String, Object> asMap() {
    Map<String, Object> all = new LinkedHashMap<>();
    put(all, "job", header.job());
    put(all, "run_id", header.runId());
    put(all, "run_date", header.runDate());
    all.put("status", status.json());
    put(all, "error", error);
    put(all, "published", published);
    put(all, "run_mode", runMode());
    if (runMode() != null && !fullReasons().isEmpty()) {
      all.put("full_reasons", fullReasons());
    }
    put(all, "input", header.input());
    put(all, "against", header.against());
    put(all, "matches", header.matches());
    put(all, "left_kind", leftKind);
    put(all, "left", leftPath);
    put(all, "output", header.output());
    put(all, "model", header.model());
    put(all, "encoder", header.encoder());
    put(all, "encoder_fingerprint", encoderFingerprint);
    put(all, "top_n", header.topN());
    if (search != null) {
      put(all, "block_size", search.blockSize());
    }
    put(all, "config_digest", header.configDigest());
    KernelUsage.Report topN = topNUsage();
    if (search != null) {
      put(all, "scorer", search.scorer());
      put(all, "kernel", kernel());
      put(all, "scan", search.scan());
      put(all, "dimension", search.dimension());
      put(all, "blocks", search.blocks());
      put(all, "vectors", search.vectors());
      put(all, "method", search.method());
      if (search.ivf() != null) {
        all.put("ivf", search.ivf().asMap());
      }
    }
    put(all, "scorer_settings", scorerSettings);
    encoded.forEach((side, e) -> all.put(side.prefix() + "encode_items_per_s", e.itemsPerSecond()));
    encoderUsage.forEach((side, usage) -> {
      EncoderUsage.Report r = usage.report();
      all.put(side.prefix() + "encoder_devices", r.devices());
      if (!r.gpuAddresses().isEmpty()) {
        all.put(side.prefix() + "task_gpus", r.gpuAddresses());
      }
      if (!r.notes().isEmpty()) {
        all.put(side.prefix() + "encoder_fallback", String.join(" | ", r.notes()));
      }
    });
    if (topN != null) {
      all.put("topn_devices", topN.devices());
      if (!topN.gpuAddresses().isEmpty()) {
        all.put("topn_task_gpus", topN.gpuAddresses());
      }
      if (!topN.notes().isEmpty()) {
        all.put("topn_fallback", String.join(" | ", topN.notes()));
      }
    }
    if (sparkActivity != null) {
      all.put("spark", sparkActivity.asMap());
    }
    if (evaluation != null) {
      all.put("metrics", evaluation.asMap());
    }
    put(all, "metrics_path", metricsPath);
    put(all, "rejected_path", rejectedPath);
    put(all, "summary_path", summaryPath);
    all.putAll(details);
    all.put("counts", counts());
    all.put("stage_ms", stageMillis);
    return all;
  }

  private static void put(Map<String, Object> map, String key, Object value) {
    if (value != null) {
      map.put(key, value);
    }
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(asMap());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the summary to a temporary file beside {@code target} and renames it into place. */
  void write(FileSystem fileSystem, Path target) {
    // no .crc side files next to the summary on local disks
    FileSystem fs = fileSystem instanceof org.apache.hadoop.fs.ChecksumFileSystem checksummed
        ? checksummed.getRawFileSystem() : fileSystem;
    Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp");
    try {
      fs.mkdirs(target.getParent());
      try (OutputStream out = fs.create(tmp, true)) {
        out.write(toJson().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
      if (!fs.rename(tmp, target)) {
        throw new IOException("Cannot rename " + tmp + " to " + target);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write run summary " + target, e);
    }
  }
}
