package dev.itemsim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Folder copies and deletions the job tests and benchmarks need (outputs copied aside, runs replayed). */
public final class TestFiles {
  private TestFiles() {}

  /** Copies the folder {@code from} with everything in it to {@code to}. */
  public static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : paths.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  /** Deletes {@code p} and everything under it; nothing when it does not exist. */
  public static void deleteTreeIfExists(Path p) throws IOException {
    if (Files.exists(p)) {
      deleteTree(p);
    }
  }

  /** Deletes {@code p}, which must exist, and everything under it. */
  public static void deleteTree(Path p) throws IOException {
    try (Stream<Path> paths = Files.walk(p)) {
      for (Path q : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}
