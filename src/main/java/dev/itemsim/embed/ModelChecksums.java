package dev.itemsim.embed;

import dev.itemsim.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies a model folder against its {@value #FILE}, in {@code sha256sum} format (one
 * {@code <64 hex digits>  <file name>} line per file, names relative to the folder), so a truncated copy or a
 * changed weight file fails before it is loaded instead of producing wrong vectors. Write it once where the
 * model is published: {@code cd MODEL_DIR && sha256sum tokenizer.json model.onnx config.json > checksums.sha256}.
 *
 * <p>When the file is present, every file the encoder reads must be listed and match; a missing, unlisted or
 * different file is an {@link InvalidInputException} naming it (and both digests). Folders without the file are
 * loaded unverified (logged once). Built-in models are always verified ({@link ModelCache}). Digests are
 * computed once per JVM for a file of unchanged size and modification time.
 */
public final class ModelChecksums {
  /** The checksum file's name inside a model folder. */
  public static final String FILE = "checksums.sha256";

  private static final Logger LOG = LoggerFactory.getLogger(ModelChecksums.class);
  private static final Pattern LINE = Pattern.compile("^([0-9a-fA-F]{64}) [ *](.+)$");
  private static final Map<String, String> VERIFIED = new ConcurrentHashMap<>();
  private static final Map<Path, Boolean> UNVERIFIED_LOGGED = new ConcurrentHashMap<>();

  private ModelChecksums() {}

  /**
   * Checks {@code files} (the files of folder {@code dir} an encoder will read) against {@code dir}'s
   * {@value #FILE}, when there is one.
   */
  static void verify(Path dir, List<Path> files) {
    Path list = dir.resolve(FILE);
    if (!Files.isRegularFile(list)) {
      if (UNVERIFIED_LOGGED.putIfAbsent(dir.toAbsolutePath(), Boolean.TRUE) == null) {
        LOG.info("Model folder {} has no {}: its files are loaded unverified (see docs/OPERATIONS.md)", dir, FILE);
      }
      return;
    }
    Map<String, String> expected = read(list);
    for (Path file : files) {
      String name = dir.relativize(file).toString();
      String digest = expected.get(name);
      if (digest == null) {
        throw new InvalidInputException("Model folder " + dir + ": " + name + " is not listed in " + FILE
            + ", so it cannot be verified; add its line (sha256sum " + name + " >> " + FILE + ")");
      }
      String actual = digest(file);
      if (!actual.equalsIgnoreCase(digest)) {
        throw new InvalidInputException("Model folder " + dir + ": " + name + " does not match " + FILE
            + " (expected SHA-256 " + digest + ", found " + actual + ", " + size(file)
            + " bytes): the file is truncated or was changed; copy the model again");
      }
    }
  }

  private static Map<String, String> read(Path list) {
    Map<String, String> digests = new LinkedHashMap<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(list, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new InvalidInputException("Cannot read " + list + ": " + e.getMessage(), e);
    }
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      Matcher m = LINE.matcher(line);
      if (!m.matches()) {
        throw new InvalidInputException(list + " line " + (i + 1) + " is not '<sha256>  <file name>' as "
            + "sha256sum writes it: " + (line.length() > 120 ? line.substring(0, 120) + "…" : line));
      }
      String name = m.group(2).strip();
      digests.put(name.startsWith("./") ? name.substring(2) : name, m.group(1));
    }
    return digests;
  }

  private static String digest(Path file) {
    try {
      String key = file.toAbsolutePath() + "|" + Files.size(file) + "|" + Files.getLastModifiedTime(file).toMillis();
      String known = VERIFIED.get(key);
      if (known != null) {
        return known;
      }
      String actual = ModelCache.sha256(file);
      VERIFIED.put(key, actual);
      return actual;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read model file " + file, e);
    }
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return -1;
    }
  }
}
