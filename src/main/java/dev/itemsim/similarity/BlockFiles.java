package dev.itemsim.similarity;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import scala.Tuple2;

/**
 * Row blocks stored as files ({@code block-NNNNNN}: rows × dim little-endian float32) in a folder of any
 * Hadoop file system, written by the executors from an indexed vector RDD. A task reads just the blocks it
 * multiplies, so no JVM — driver or executor — ever holds all n vectors: memory per task is two blocks
 * whatever n is. The object itself is a few numbers and a path, cheap to ship with every task.
 */
public final class BlockFiles extends BlockLayout {
  private final String dir;
  private transient Configuration conf;

  private BlockFiles(String dir, int count, int dim, int blockSize, Configuration conf) {
    super(count, dim, blockSize);
    this.dir = dir;
    this.conf = conf;
  }

  /**
   * Writes {@code vectors} — (global index, vector) for every index 0..count−1 exactly once — as blocks of
   * {@code blockSize} rows into {@code dir} (created; must not hold blocks already), one Spark task per block.
   * Fails naming the index when an index is missing, repeated or out of range, or a vector has another length.
   */
  public static BlockFiles write(JavaPairRDD<Long, float[]> vectors, int count, int dim, int blockSize, String dir,
      Configuration conf) {
    if (blockSize < 1 || count < 1 || dim < 1) {
      throw new IllegalArgumentException("count, dim and blockSize must be >= 1: " + count + ", " + dim + ", " + blockSize);
    }
    BlockFiles files = new BlockFiles(dir, count, dim, blockSize, conf);
    int numBlocks = files.numBlocks();
    List<Integer> written = vectors
        .partitionBy(new BlockPartitioner(numBlocks, blockSize))
        .mapPartitionsWithIndex((b, rows) -> List.of(files.writeBlock(b, rows)).iterator(), true)
        .collect();
    long total = written.stream().mapToLong(Integer::longValue).sum();
    if (total != count) {
      throw new IllegalStateException("Wrote " + total + " rows into " + numBlocks + " blocks, expected " + count);
    }
    return files;
  }

  private int writeBlock(int b, java.util.Iterator<Tuple2<Long, float[]>> rows) throws IOException {
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
    ByteBuffer bytes = ByteBuffer.allocate(block.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(block);
    Path file = file(b);
    try (FSDataOutputStream out = file.getFileSystem(conf()).create(file, false)) {
      out.write(bytes.array());
    }
    return filled;
  }

  /**
   * Block {@code b}, from this JVM's cache of recently read blocks when there (tasks of one row block run
   * back to back and share it). The cache is bounded in bytes, not in blocks, so memory stays flat in n.
   * Callers must not modify the array.
   */
  @Override
  public float[] block(int b) {
    if (b < 0 || b >= numBlocks()) {
      throw new IndexOutOfBoundsException("block " + b + " of " + numBlocks());
    }
    String key = dir + "#" + b;
    float[] cached = RecentBlocks.get(key);
    if (cached != null) {
      return cached;
    }
    float[] block = read(b);
    RecentBlocks.put(key, block);
    return block;
  }

  private float[] read(int b) {
    byte[] bytes = new byte[rowsIn(b) * dim * 4];
    Path file = file(b);
    try (FSDataInputStream in = file.getFileSystem(conf()).open(file)) {
      in.readFully(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read vector block " + file, e);
    }
    float[] block = new float[rowsIn(b) * dim];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(block);
    return block;
  }

  /** Deletes the folder and its blocks (and forgets this JVM's cached copies). */
  public void delete() {
    RecentBlocks.forget(dir + "#");
    Path path = new Path(dir);
    try {
      path.getFileSystem(conf()).delete(path, true);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + dir, e);
    }
  }

  private Path file(int b) {
    return new Path(dir, String.format("block-%06d", b));
  }

  private Configuration conf() {
    if (conf == null) {
      conf = new Configuration();
    }
    return conf;
  }

  private void writeObject(ObjectOutputStream out) throws IOException {
    out.defaultWriteObject();
    conf().write(new DataOutputStream(out));
  }

  private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
    in.defaultReadObject();
    conf = new Configuration(false);
    conf.readFields(new DataInputStream(in));
  }

  /**
   * Blocks read recently by this JVM, least recently used dropped first, at most {@link #BUDGET} bytes
   * (a sixteenth of the heap, capped at 128 MB): a fixed amount whatever the number of items.
   */
  static final class RecentBlocks {
    static final long BUDGET = Math.min(128L << 20, Runtime.getRuntime().maxMemory() / 16);
    private static final java.util.LinkedHashMap<String, float[]> BLOCKS = new java.util.LinkedHashMap<>(16, 0.75f, true);
    private static long bytes;

    private RecentBlocks() {}

    static synchronized float[] get(String key) {
      return BLOCKS.get(key);
    }

    static synchronized void put(String key, float[] block) {
      long size = 4L * block.length;
      if (size > BUDGET || BLOCKS.containsKey(key)) {
        return;
      }
      var it = BLOCKS.entrySet().iterator();
      while (bytes + size > BUDGET && it.hasNext()) {
        bytes -= 4L * it.next().getValue().length;
        it.remove();
      }
      BLOCKS.put(key, block);
      bytes += size;
    }

    static synchronized void forget(String prefix) {
      var it = BLOCKS.entrySet().iterator();
      while (it.hasNext()) {
        var e = it.next();
        if (e.getKey().startsWith(prefix)) {
          bytes -= 4L * e.getValue().length;
          it.remove();
        }
      }
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
