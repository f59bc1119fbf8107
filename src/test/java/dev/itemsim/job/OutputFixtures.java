package dev.itemsim.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Tables as directories of small files on local disk, and what an output path holds. */
final class OutputFixtures {
  private OutputFixtures() {}

  static void table(Path dir, String content) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("part-0.parquet"), content);
  }

  static Path local(org.apache.hadoop.fs.Path path) {
    return Path.of(path.toUri().getPath());
  }

  static org.apache.hadoop.fs.Path hadoop(Path path) {
    return new org.apache.hadoop.fs.Path(path.toString());
  }

  /** What {@link #live} shows for a table written by {@link #table}. */
  static String content(String partContent) {
    return "part-0.parquet=" + partContent;
  }

  /** Every table readers see under {@code root} (directories outside {@code _*} holding files) and its files. */
  static Map<String, String> live(Path root) {
    try (Stream<Path> files = Files.walk(root)) {
      return files.filter(Files::isRegularFile)
          .filter(f -> !f.getFileName().toString().startsWith("."))
          .filter(f -> !root.relativize(f).getName(0).toString().startsWith("_"))
          .sorted()
          .collect(Collectors.groupingBy(f -> root.relativize(f.getParent()).toString(), TreeMap::new,
              Collectors.mapping(OutputFixtures::describe, Collectors.joining(","))));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The run folders left under {@code <root>/_staging}. */
  static List<String> stagingFolders(Path root) {
    Path staging = root.resolve(OutputPublisher.STAGING);
    if (!Files.exists(staging)) {
      return List.of();
    }
    try (Stream<Path> runs = Files.list(staging)) {
      return runs.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String describe(Path file) {
    try {
      return file.getFileName() + "=" + Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
