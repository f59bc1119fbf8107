package dev.itemsim.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * What a run did, written as {@code <output>/_runs/<run_date>_<timestamp>.json}: status, counts, per-stage
 * wall times, model, kernel, settings and the configuration digest. Keys keep insertion order.
 */
public final class RunSummary {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Map<String, Object> values = new LinkedHashMap<>();
  private final Map<String, Long> stageMillis = new LinkedHashMap<>();
  private final Map<String, Object> counts = new LinkedHashMap<>();

  public RunSummary put(String key, Object value) {
    values.put(key, value);
    return this;
  }

  public RunSummary count(String key, Object value) {
    counts.put(key, value);
    return this;
  }

  void stage(String name, long millis) {
    stageMillis.put(name, millis);
  }

  public Map<String, Object> counts() {
    return counts;
  }

  public Map<String, Long> stageMillis() {
    return stageMillis;
  }

  public Object get(String key) {
    return values.get(key);
  }

  public Map<String, Object> asMap() {
    Map<String, Object> all = new LinkedHashMap<>(values);
    all.put("counts", counts);
    all.put("stage_ms", stageMillis);
    return all;
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
