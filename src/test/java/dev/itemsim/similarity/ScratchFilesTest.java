package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScratchFilesTest {
  @TempDir
  Path dir;

  @Test
  void aLocalScratchFileIsWrittenPlainReplacingALeftoverAndReadBackThroughHadoop() throws Exception {
    FileSystem fs = FileSystem.get(dir.toUri(), new Configuration());
    org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(dir.toUri().toString(), "segment-1");
    write(fs, file, "a leftover of a failed attempt, longer than the file");
    write(fs, file, "the block");

    assertThat(Files.readString(dir.resolve("segment-1"))).isEqualTo("the block");
    try (var in = fs.open(file)) {
      assertThat(new String(in.readAllBytes())).isEqualTo("the block");
    }
    // no checksum side file: nothing else in the folder
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("segment-1");
    }
  }

  @Test
  void aFileInADeletedFolderIsNotCreated() throws Exception {
    FileSystem fs = FileSystem.get(dir.toUri(), new Configuration());
    org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(dir.resolve("gone").toUri().toString(), "block");

    assertThatThrownBy(() -> write(fs, file, "late attempt")).isInstanceOf(IOException.class);
    assertThat(dir.resolve("gone")).doesNotExist();
  }

  private static void write(FileSystem fs, org.apache.hadoop.fs.Path file, String text) throws IOException {
    try (OutputStream out = ScratchFiles.create(fs, file)) {
      out.write(text.getBytes());
    }
  }
}
