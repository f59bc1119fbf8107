package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.SparkTestSupport;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import scala.Tuple2;

/**
 * Block files under retried and speculative task attempts. The shared session ({@code local[2]}) never
 * retries a task, so these tests run the writer of one block — what each attempt's task runs — several
 * times themselves, on a file system whose faults they switch on ({@link FaultyFileSystem}).
 */
class BlockFilesTest {
  private static final int COUNT = 250;
  private static final int DIM = 64;
  private static final int BLOCK = 100;  // blocks of 100, 100 and 50 rows; 25,600 bytes for a full one
  private static final List<float[]> VECTORS = BlockedTopNTest.randomUnitVectors(COUNT, DIM, new Random(13));
  private static final VectorBlocks IN_MEMORY = VectorBlocks.of(VECTORS, DIM, BLOCK);

  private final JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
  private final Configuration conf = FaultyFileSystem.conf(jsc.hadoopConfiguration());

  @AfterEach
  void resetFaults() {
    FaultyFileSystem.reset();
  }

  /**
   * The first attempt at block 1 breaks after 1,000 bytes; when its executor is lost it cannot even delete
   * its temporary file. No reader ever sees those bytes, and a second attempt (a new stage attempt, as after
   * a lost executor) publishes the block.
   */
  @ParameterizedTest(name = "executor lost: {0}")
  @ValueSource(booleans = {true, false})
  void aRetryPublishesTheBlockAFirstAttemptBrokeOffWriting(boolean executorLost, @TempDir Path dir) throws Exception {
    BlockFiles files = BlockFiles.prepare(jsc, FaultyFileSystem.uri(dir), COUNT, DIM, BLOCK, conf);
    files.writeBlock(0, rowsOf(0), "0-0");
    files.writeBlock(2, rowsOf(2), "0-2");
    FaultyFileSystem.failWrites(".0-1.tmp", 1000);
    if (executorLost) {
      FaultyFileSystem.refuseDeletes(".0-1.tmp");
    }
    assertThatThrownBy(() -> files.writeBlock(1, rowsOf(1), "0-1")).hasMessageContaining("broke after 1000 bytes");
    Path leftover = dir.resolve(".block-000001.0-1.tmp");
    if (executorLost) {
      assertThat(leftover).hasSize(1000);
    } else {
      assertThat(leftover).doesNotExist();
    }
    assertThat(dir.resolve("block-000001")).doesNotExist();
    assertThatThrownBy(() -> files.block(1)).isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("block-000001");

    FaultyFileSystem.reset();
    assertThat(files.writeBlock(1, rowsOf(1), "1-7")).isEqualTo(BLOCK);
    assertBlocksReadBack(files);
    files.removeTemporaries();
    assertThat(names(dir)).containsExactly("block-000000", "block-000001", "block-000002");
    files.delete();
    assertThat(dir).doesNotExist();
  }

  /** A speculative attempt that finds its block already complete keeps it and leaves nothing behind. */
  @Test
  void anAttemptFindingItsBlockPublishedKeepsIt(@TempDir Path dir) throws Exception {
    BlockFiles files = BlockFiles.prepare(jsc, FaultyFileSystem.uri(dir), COUNT, DIM, BLOCK, conf);
    for (int b = 0; b < 3; b++) {
      files.writeBlock(b, rowsOf(b), "0-" + b);
    }
    FaultyFileSystem.failWrites(".tmp", 0);  // it must not even write a temporary file
    assertThat(files.writeBlock(1, rowsOf(1), "0-9")).isEqualTo(BLOCK);
    assertThat(names(dir)).containsExactly("block-000000", "block-000001", "block-000002");
    assertBlocksReadBack(files);
    files.delete();
  }

  /**
   * Two attempts at block 1 write at once, and the other one publishes while this one is still writing: this
   * one's rename then either replaces the block with the same bytes (POSIX) or is refused (HDFS), and in both
   * cases it succeeds, keeping no temporary file.
   */
  @ParameterizedTest(name = "rename keeps an existing file: {0}")
  @ValueSource(booleans = {true, false})
  void concurrentAttemptsAtOneBlockBothSucceed(boolean renameKeepsExisting, @TempDir Path dir) throws Exception {
    BlockFiles files = BlockFiles.prepare(jsc, FaultyFileSystem.uri(dir), COUNT, DIM, BLOCK, conf);
    files.writeBlock(0, rowsOf(0), "0-0");
    files.writeBlock(2, rowsOf(2), "0-2");
    FaultyFileSystem.renameKeepsExisting(renameKeepsExisting);
    FaultyFileSystem.beforeNextRename(() -> {
      try {
        assertThat(files.writeBlock(1, rowsOf(1), "0-1")).isEqualTo(BLOCK);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    assertThat(files.writeBlock(1, rowsOf(1), "0-4")).isEqualTo(BLOCK);
    assertThat(names(dir)).containsExactly("block-000000", "block-000001", "block-000002");
    assertBlocksReadBack(files);
    files.delete();
  }

  /**
   * A block file of another length is no attempt's (attempts publish only complete blocks): an attempt that
   * finds one fails naming it, whether it was there first or appeared while the attempt wrote and the rename
   * would not replace it.
   */
  @Test
  void aBlockFileOfAnotherLengthFailsTheAttemptNamingIt(@TempDir Path dir) throws Exception {
    BlockFiles files = BlockFiles.prepare(jsc, FaultyFileSystem.uri(dir), COUNT, DIM, BLOCK, conf);
    write(dir.resolve("block-000002"), new byte[8]);
    assertThatThrownBy(() -> files.writeBlock(2, rowsOf(2), "0-2"))
        .hasMessageContaining(dir.resolve("block-000002") + " already exists with 8 bytes, expected 12800");
    FaultyFileSystem.renameKeepsExisting(true);
    FaultyFileSystem.beforeNextRename(() -> write(dir.resolve("block-000001"), new byte[12]));
    assertThatThrownBy(() -> files.writeBlock(1, rowsOf(1), "0-1"))
        .hasMessageContaining(dir.resolve("block-000001") + " already exists with 12 bytes, expected 25600");
    assertThat(names(dir)).containsExactly("block-000001", "block-000002");  // no temporary file left
    files.delete();
  }

  /** A truncated or padded block fails on reading, in the driver and in Spark tasks, naming the file. */
  @Test
  void aBlockFileOfTheWrongLengthFailsReadingNamingIt(@TempDir Path dir) throws Exception {
    BlockFiles files = BlockFiles.write(jsc.parallelizePairs(indexed(), 3), COUNT, DIM, BLOCK,
        dir.resolve("blocks").toString(), jsc.hadoopConfiguration());
    try {
      assertThat(names(dir.resolve("blocks"))).containsExactly("block-000000", "block-000001", "block-000002");
      resize(dir.resolve("blocks/block-000002"), 12800 - 4);
      resize(dir.resolve("blocks/block-000000"), 25600 + 4);
      assertThatThrownBy(() -> files.block(2)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(dir.resolve("blocks/block-000002").toString())
          .hasMessageContaining("holds 12796 bytes, expected 12800 (50 rows × 64 floats × 4 bytes)");
      assertThatThrownBy(() -> files.block(0))
          .hasMessageContaining("block-000000 holds 25604 bytes, expected 25600");
      assertThatThrownBy(() -> BlockedTopNTest.topNOnSpark(jsc, files, null))
          .hasStackTraceContaining("block-0000")
          .hasStackTraceContaining("the file is truncated or not a block of this layout");
    } finally {
      files.delete();
    }
  }

  @Test
  void writeRefusesAFolderHoldingBlocks(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("blocks"));
    write(dir.resolve("blocks/block-000003"), new byte[4]);
    assertThatThrownBy(() -> BlockFiles.write(jsc.parallelizePairs(indexed(), 3), COUNT, DIM, BLOCK,
        dir.resolve("blocks").toString(), jsc.hadoopConfiguration()))
        .hasMessageContaining("already holds vector blocks (block-000003)");
    assertThat(dir.resolve("blocks/block-000003")).hasSize(4);
  }

  /** Leftover temporary files (named as a dead attempt names them) are neither read nor kept by a write. */
  @Test
  void writeIgnoresAndRemovesTemporaryFilesLeftInItsFolder(@TempDir Path dir) throws Exception {
    Path blocks = Files.createDirectories(dir.resolve("blocks"));
    write(blocks.resolve(".block-000001.0-3.tmp"), new byte[100]);
    BlockFiles files = BlockFiles.write(jsc.parallelizePairs(indexed(), 3), COUNT, DIM, BLOCK, blocks.toString(),
        jsc.hadoopConfiguration());
    assertThat(names(blocks)).containsExactly("block-000000", "block-000001", "block-000002");
    assertBlocksReadBack(files);
    files.delete();
  }

  /** Closing a computation, or deleting block files, destroys what they broadcast: tasks can no longer use it. */
  @Test
  void closingDestroysTheBroadcasts(@TempDir Path dir) {
    BlockedTopN.Computation topN = BlockedTopN.open(jsc, IN_MEMORY, 10, "auto", null);
    topN.close();
    topN.close();
    assertThatThrownBy(() -> topN.buffers().count()).hasStackTraceContaining("after it was destroyed");
    BlockedTopN.Computation cross = BlockedTopN.openCross(jsc, IN_MEMORY, IN_MEMORY, 10, "auto", null);
    cross.close();
    assertThatThrownBy(() -> cross.buffers().count()).hasStackTraceContaining("after it was destroyed");

    BlockFiles files = BlockFiles.write(jsc.parallelizePairs(indexed(), 3), COUNT, DIM, BLOCK,
        dir.resolve("blocks").toString(), jsc.hadoopConfiguration());
    files.delete();
    files.delete();
    assertThatThrownBy(() -> BlockedTopN.open(jsc, files, 10, "auto", null))
        .hasStackTraceContaining("after it was destroyed");
  }

  private static void assertBlocksReadBack(BlockFiles files) {
    for (int b = 0; b < files.numBlocks(); b++) {
      float[] block = files.block(b);
      assertThat(block).as("block %d", b).containsExactly(IN_MEMORY.block(b));
      files.release(block);
    }
  }

  /** Block {@code b}'s (index, vector) pairs, last first: what one block-writing task receives. */
  private static Iterator<Tuple2<Long, float[]>> rowsOf(int b) {
    List<Tuple2<Long, float[]>> rows = new ArrayList<>();
    for (int g = Math.min(COUNT, (b + 1) * BLOCK) - 1; g >= b * BLOCK; g--) {
      rows.add(new Tuple2<>((long) g, VECTORS.get(g)));
    }
    return rows.iterator();
  }

  private static List<Tuple2<Long, float[]>> indexed() {
    List<Tuple2<Long, float[]>> rows = new ArrayList<>();
    for (int g = 0; g < COUNT; g++) {
      rows.add(new Tuple2<>((long) g, VECTORS.get(g)));
    }
    return rows;
  }

  /** The folder's file names, sorted, without the local file system's checksum files. */
  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).sorted().toList();
    }
  }

  private static void write(Path file, byte[] bytes) {
    try {
      Files.write(file, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void resize(Path file, long length) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(length);
    }
  }
}
