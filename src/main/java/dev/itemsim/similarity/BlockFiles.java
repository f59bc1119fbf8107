package dev.itemsim.similarity;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.Partitioner;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Row blocks stored as files ({@code block-NNNNNN}: rows × dim little-endian float32) in a folder of any
 * Hadoop file system, written by the executors from an indexed vector RDD. A task reads just the blocks it
 * multiplies, so no JVM — driver or executor — ever holds all n vectors: memory per task is two blocks
 * whatever n is. The object itself is a few numbers, a path and a broadcast handle of the Hadoop
 * configuration (read once per executor, not once per task), cheap to ship with every task.
 *
 * <p>A block file is never written in place: each task attempt writes its own hidden temporary file
 * ({@code .block-NNNNNN.<stage attempt>-<task attempt id>.tmp}) and publishes it under the block's name with
 * one rename, so a block file, once it exists, is complete. A retried or speculative attempt that finds
 * its block already published keeps it, or, racing it, may replace it atomically where rename does (POSIX):
 * every attempt writes the same vectors at the same rows (recomputed input may differ in a float's last
 * bits; either version is a correct block). Temporaries that dead attempts left behind are never read, and
 * are removed once the blocks are written. Reading checks each block's length (rows × dim × 4 bytes) and
 * fails naming the file.
 */
public final class BlockFiles extends BlockLayout {
  private static final Logger LOG = LoggerFactory.getLogger(BlockFiles.class);
  private static final java.util.regex.Pattern BLOCK_NAME = java.util.regex.Pattern.compile("block-\\d{6,}");
  private static final String TEMPORARY_PREFIX = ".block-";
  private static final String TEMPORARY_SUFFIX = ".tmp";

  private final String dir;
  private final Broadcast<SerializableConfiguration> sharedConf;
  private transient Configuration conf;
  /** Set on the driver by {@link #delete}, so a second call does not destroy the broadcast again. */
  private transient boolean deleted;

  private BlockFiles(String dir, int count, int dim, int blockSize, Configuration conf,
      Broadcast<SerializableConfiguration> sharedConf) {
    super(count, dim, blockSize);
    this.dir = dir;
    this.conf = conf;
    this.sharedConf = sharedConf;
  }

  /**
   * Writes {@code vectors} — (global index, vector) for every index 0..count−1 exactly once — as blocks of
   * {@code blockSize} rows into {@code dir} (created if missing; must not hold blocks already), one Spark task
   * per block. Fails naming the index when an index is missing, repeated or out of range, or a vector has
   * another length; a failed write deletes {@code dir}. The blocks live, and the configuration stays
   * broadcast, until {@link #delete}.
   */
  public static BlockFiles write(JavaPairRDD<Long, float[]> vectors, int count, int dim, int blockSize, String dir,
      Configuration conf) {
    BlockFiles files = prepare(JavaSparkContext.fromSparkContext(vectors.context()), dir, count, dim, blockSize, conf);
    try {
      int numBlocks = files.numBlocks();
      List<Integer> written = vectors
          .partitionBy(new BlockPartitioner(numBlocks, blockSize))
          .mapPartitionsWithIndex((b, rows) -> List.of(files.writeBlock(b, rows, attempt(TaskContext.get())))
              .iterator(), true)
          .collect();
      long total = written.stream().mapToLong(Integer::longValue).sum();
      if (total != count) {
        throw new IllegalStateException("Wrote " + total + " rows into " + numBlocks + " blocks, expected " + count);
      }
      files.removeTemporaries();
      return files;
    } catch (Throwable e) {  // collect() throws SparkException, checked for Java yet undeclared
      try {
        files.delete();
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  /**
   * The layout of blocks to be written into {@code dir}, which this creates and checks holds no block yet,
   * with the configuration broadcast; {@link #write} then runs {@link #writeBlock} once per block and attempt.
   */
  static BlockFiles prepare(JavaSparkContext jsc, String dir, int count, int dim, int blockSize, Configuration conf) {
    if (blockSize < 1 || count < 1 || dim < 1) {
      throw new IllegalArgumentException("count, dim and blockSize must be >= 1: " + count + ", " + dim + ", " + blockSize);
    }
    Path path = new Path(dir);
    try {
      FileSystem fs = path.getFileSystem(conf);
      if (fs.exists(path)) {
        for (FileStatus f : fs.listStatus(path)) {
          if (BLOCK_NAME.matcher(f.getPath().getName()).matches()) {
            throw new IllegalArgumentException("Folder " + dir + " already holds vector blocks (" + f.getPath().getName()
                + "): block files are written into a new or empty folder");
          }
        }
      }
      if (!fs.mkdirs(path)) {
        throw new IOException("mkdirs returned false");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create the vector block folder " + dir, e);
    }
    return new BlockFiles(dir, count, dim, blockSize, conf, jsc.broadcast(new SerializableConfiguration(conf)));
  }

  /** Names a task attempt uniquely within the application: stage attempt and task attempt id. */
  static String attempt(TaskContext task) {
    return task.stageAttemptNumber() + "-" + task.taskAttemptId();
  }

  /**
   * One attempt at block {@code b}: checks its rows, writes them to the attempt's temporary file and
   * publishes that as the block file, unless another attempt of the block has already published it. On
   * failure the attempt deletes its temporary file (an attempt that dies leaves it: it is never read). Returns
   * the block's row count.
   */
  int writeBlock(int b, Iterator<Tuple2<Long, float[]>> rows, String attempt) throws IOException {
    float[] block = gather(b, rows);
    Path target = file(b);
    long bytes = 4L * block.length;
    FileSystem fs = target.getFileSystem(conf());
    if (published(fs, target, bytes)) {
      return rowsIn(b);
    }
    Path temporary = new Path(dir, TEMPORARY_PREFIX + target.getName().substring("block-".length()) + "." + attempt
        + TEMPORARY_SUFFIX);
    try {
      writeFloats(fs, temporary, block);
      if (!renamed(fs, temporary, target)) {
        // a file system whose rename never replaces (HDFS): another attempt published the block meanwhile
        if (!published(fs, target, bytes)) {
          throw new IOException("Cannot rename " + temporary + " to " + target);
        }
        fs.delete(temporary, false);
      }
    } catch (Throwable e) {
      try {
        fs.delete(temporary, false);
      } catch (IOException | RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
    return rowsIn(b);
  }

  /** Block {@code b}'s rows, row-major, from its (index, vector) pairs in any order; fails naming a bad index. */
  private float[] gather(int b, Iterator<Tuple2<Long, float[]>> rows) {
    int blockRows = rowsIn(b);
    float[] block = new float[blockRows * dim];
    boolean[] seen = new boolean[blockRows];
    int filled = 0;
    while (rows.hasNext()) {
      Tuple2<Long, float[]> row = rows.next();
      long g = row._1();
      if (g < 0 || g >= count) {
        throw new IllegalArgumentException("Vector index " + g + " is outside 0.." + (count - 1));
      }
      int r = (int) (g - (long) b * blockSize);
      if (seen[r]) {
        throw new IllegalArgumentException("Vector index " + g + " appears twice");
      }
      if (row._2().length != dim) {
        throw new IllegalArgumentException("Vector " + g + " has length " + row._2().length + ", expected " + dim);
      }
      seen[r] = true;
      filled++;
      System.arraycopy(row._2(), 0, block, r * dim, dim);
    }
    if (filled != blockRows) {
      for (int r = 0; r < blockRows; r++) {
        if (!seen[r]) {
          throw new IllegalArgumentException("Vector index " + ((long) b * blockSize + r) + " is missing");
        }
      }
    }
    return block;
  }

  /**
   * Writes {@code block} to {@code file}, replacing a leftover of the same name; non-recursive, so an attempt
   * still running after the folder was deleted fails instead of creating the folder again.
   */
  private static void writeFloats(FileSystem fs, Path file, float[] block) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(IO_CHUNK).order(ByteOrder.LITTLE_ENDIAN);
    try (FSDataOutputStream out = ScratchFiles.create(fs, file)) {
      for (int from = 0; from < block.length; from += IO_CHUNK / 4) {
        int n = Math.min(IO_CHUNK / 4, block.length - from);
        chunk.clear();
        chunk.asFloatBuffer().put(block, from, n);
        out.write(chunk.array(), 0, 4 * n);
      }
    }
  }

  /** Whether {@code file} is published; fails when it exists with another length than a block's. */
  private static boolean published(FileSystem fs, Path file, long bytes) throws IOException {
    FileStatus status;
    try {
      status = fs.getFileStatus(file);
    } catch (FileNotFoundException e) {
      return false;
    }
    if (status.getLen() != bytes) {
      throw new IOException("Vector block file " + file + " already exists with " + status.getLen()
          + " bytes, expected " + bytes + ": it is not a block of this layout (write into an empty folder)");
    }
    return true;
  }

  private static boolean renamed(FileSystem fs, Path from, Path to) throws IOException {
    try {
      return fs.rename(from, to);
    } catch (FileAlreadyExistsException e) {
      return false;
    }
  }

  /**
   * Deletes the temporary files attempts that died left behind, if it can: they are never read, and
   * {@link #delete} removes any left.
   */
  void removeTemporaries() {
    Path path = new Path(dir);
    try {
      FileSystem fs = path.getFileSystem(conf());
      for (FileStatus f : fs.listStatus(path, p -> isTemporary(p.getName()))) {
        fs.delete(f.getPath(), false);
      }
    } catch (IOException e) {
      LOG.warn("Cannot remove temporary block files from {}: they stay until the blocks are deleted", dir, e);
    }
  }

  private static boolean isTemporary(String name) {
    return name.startsWith(TEMPORARY_PREFIX) && name.endsWith(TEMPORARY_SUFFIX);
  }

  /**
   * Block {@code b}, from this JVM's cache of recently read blocks when there (tasks of one row block run
   * back to back and share it). The cache is bounded in bytes, not in blocks, so memory stays flat in n; a
   * block read from storage goes into an array the cache dropped and every user {@linkplain #release released}
   * when there is one, so reading blocks allocates nothing in steady state. Callers must not modify the array.
   */
  @Override
  public float[] block(int b) {
    if (b < 0 || b >= numBlocks()) {
      throw new IndexOutOfBoundsException("block " + b + " of " + numBlocks());
    }
    String key = dir + "#" + b;
    float[] cached = RecentBlocks.acquire(key);
    if (cached != null) {
      return cached;
    }
    float[] block = read(b, RecentBlocks.spare(rowsIn(b) * dim));
    RecentBlocks.put(key, block);
    return block;
  }

  @Override
  public void release(float[] block) {
    RecentBlocks.release(block);
  }

  /** Bytes read or written per call: below G1's humongous-object size, so the buffer is an ordinary object. */
  private static final int IO_CHUNK = 256 << 10;

  private float[] read(int b, float[] block) {
    Path file = file(b);
    byte[] chunk = new byte[IO_CHUNK];
    java.nio.FloatBuffer floats = java.nio.FloatBuffer.wrap(block);
    long length = 4L * block.length;
    try {
      FileSystem fs = file.getFileSystem(conf());
      long actual = fs.getFileStatus(file).getLen();
      if (actual != length) {
        throw new IllegalStateException("Vector block file " + file + " holds " + actual + " bytes, expected "
            + length + " (" + rowsIn(b) + " rows × " + dim + " floats × 4 bytes): the file is truncated or not a "
            + "block of this layout");
      }
      try (FSDataInputStream in = fs.open(file)) {
        for (long done = 0; done < length; ) {
          int n = (int) Math.min(IO_CHUNK, length - done);
          in.readFully(chunk, 0, n);
          floats.put(ByteBuffer.wrap(chunk, 0, n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
          done += n;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read vector block " + file, e);
    }
    return block;
  }

  /**
   * Deletes the folder and its blocks, forgets this JVM's cached copies and destroys the broadcast
   * configuration: call it on the driver once every computation reading the blocks has been materialised
   * (RDDs are lazy), never before. Calling it again does nothing more than deleting the folder.
   */
  public void delete() {
    RecentBlocks.forget(dir + "#");
    try {
      ScratchPaths.delete(dir, conf());
    } finally {
      if (!deleted) {
        deleted = true;
        sharedConf.destroy();
      }
    }
  }

  private Path file(int b) {
    return new Path(dir, String.format("block-%06d", b));
  }

  private Configuration conf() {
    if (conf == null) {
      conf = sharedConf.value().value();
    }
    return conf;
  }

  /**
   * Blocks read recently by this JVM, least recently used dropped first, at most {@link #BUDGET} bytes
   * (a sixteenth of the heap, capped at 128 MB): a fixed amount whatever the number of items. Arrays are
   * counted out and {@linkplain #release released} back; one the cache has dropped is kept as a
   * {@linkplain #spare spare} for the next read once nobody uses it, up to {@link #SPARES} of them.
   */
  static final class RecentBlocks {
    static final long BUDGET = Math.min(128L << 20, Runtime.getRuntime().maxMemory() / 16);
    /** {@link #BUDGET}, lowered by tests to exercise eviction and reuse with small blocks. */
    private static long budget = BUDGET;
    /** Spare arrays kept for reuse: one per task slot on a typical executor is enough. */
    static final int SPARES = 4;
    /** Dropped arrays still in use that are tracked for reuse; beyond this (failed tasks) they are left to GC. */
    private static final int MAX_DROPPED_IN_USE = 64;

    private static final class Entry {
      final float[] block;
      int users;
      boolean cached = true;

      Entry(float[] block) {
        this.block = block;
      }
    }

    private static final java.util.LinkedHashMap<String, Entry> BLOCKS = new java.util.LinkedHashMap<>(16, 0.75f, true);
    /** Every array handed out and not yet back for reuse: cached ones and dropped ones still in use. */
    private static final java.util.IdentityHashMap<float[], Entry> OUT = new java.util.IdentityHashMap<>();
    private static final java.util.ArrayDeque<float[]> SPARE = new java.util.ArrayDeque<>();
    private static long bytes;

    private RecentBlocks() {}

    /** The cached block counted out to one more user, or null. */
    static synchronized float[] acquire(String key) {
      Entry e = BLOCKS.get(key);
      if (e == null) {
        return null;
      }
      e.users++;
      return e.block;
    }

    /** A spare array of {@code length} floats (contents undefined), or a new one. */
    static synchronized float[] spare(int length) {
      for (var it = SPARE.iterator(); it.hasNext(); ) {
        float[] a = it.next();
        if (a.length == length) {
          it.remove();
          return a;
        }
      }
      return new float[length];
    }

    /** Caches a block just read, counted out to its reader. */
    static synchronized void put(String key, float[] block) {
      Entry entry = new Entry(block);
      entry.users = 1;
      OUT.put(block, entry);
      long size = 4L * block.length;
      if (size > budget || BLOCKS.containsKey(key)) {
        entry.cached = false;
        return;
      }
      var it = BLOCKS.entrySet().iterator();
      while (bytes + size > budget && it.hasNext()) {
        Entry dropped = it.next().getValue();
        it.remove();
        drop(dropped);
      }
      BLOCKS.put(key, entry);
      bytes += size;
    }

    /** One user is done with {@code block}. */
    static synchronized void release(float[] block) {
      Entry e = OUT.get(block);
      if (e == null || e.users == 0) {
        return;
      }
      e.users--;
      if (e.users == 0 && !e.cached) {
        OUT.remove(block);
        keepSpare(block);
      }
    }

    private static void drop(Entry e) {
      bytes -= 4L * e.block.length;
      e.cached = false;
      if (e.users == 0) {
        OUT.remove(e.block);
        keepSpare(e.block);
      } else if (OUT.size() > MAX_DROPPED_IN_USE + BLOCKS.size()) {
        OUT.remove(e.block);  // users that never release (a failed task): leave it to the garbage collector
      }
    }

    private static void keepSpare(float[] block) {
      if (SPARE.size() < SPARES) {
        SPARE.add(block);
      }
    }

    static synchronized void forget(String prefix) {
      var it = BLOCKS.entrySet().iterator();
      while (it.hasNext()) {
        var e = it.next();
        if (e.getKey().startsWith(prefix)) {
          it.remove();
          drop(e.getValue());
        }
      }
    }

    /** Arrays held as spares, for tests. */
    static synchronized int spares() {
      return SPARE.size();
    }

    /** Sets the byte budget and empties the cache and the spares (tests). */
    static synchronized void resetWithBudget(long newBudget) {
      forget("");
      SPARE.clear();
      budget = newBudget;
    }
  }

  /** Global vector index → its block. */
  private static final class BlockPartitioner extends Partitioner {
    private final int blocks;
    private final int blockSize;

    BlockPartitioner(int blocks, int blockSize) {
      this.blocks = blocks;
      this.blockSize = blockSize;
    }

    @Override
    public int numPartitions() {
      return blocks;
    }

    @Override
    public int getPartition(Object key) {
      return (int) ((Long) key / blockSize);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof BlockPartitioner p && p.blocks == blocks && p.blockSize == blockSize;
    }

    @Override
    public int hashCode() {
      return 31 * blocks + blockSize;
    }
  }
}
