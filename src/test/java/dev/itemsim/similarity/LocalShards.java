package dev.itemsim.similarity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;

/**
 * Rows cut into shards of given sizes and stored in shard files on the local file system, in
 * {@link ItemShards}' file layout, read back the way a task reads them (into reused arrays): a
 * {@link ShardSource} for tests that need no Spark.
 */
final class LocalShards implements ShardSource {
  private final String dir;
  private final int[] offsets;
  private transient FileSystem fs;

  /**
   * Shards of {@code sizes} rows (zeros allowed) of {@code lexical} with ids {@code ids}, filter values
   * {@code attrs} (per column, per row; may be empty) and {@code vectors} ({@code dim} floats per row, or null).
   */
  LocalShards(Path dir, int[] sizes, String[] ids, String[][] attrs, SparseVectors lexical, float[] vectors, int dim) {
    this.dir = dir.toString();
    offsets = new int[sizes.length + 1];
    for (int s = 0; s < sizes.length; s++) {
      offsets[s + 1] = offsets[s] + sizes[s];
    }
    if (offsets[sizes.length] != lexical.rows()) {
      throw new IllegalArgumentException("shard sizes add up to " + offsets[sizes.length] + ", rows " + lexical.rows());
    }
    try {
      fs = FileSystem.getLocal(new Configuration());
      for (int s = 0; s < sizes.length; s++) {
        int from = offsets[s];
        int to = offsets[s + 1];
        Shard shard = new Shard();
        shard.rows = to - from;
        shard.ids = java.util.Arrays.copyOfRange(ids, from, to);
        shard.attrs = new String[attrs.length][];
        for (int a = 0; a < attrs.length; a++) {
          shard.attrs[a] = java.util.Arrays.copyOfRange(attrs[a], from, to);
        }
        SparseVectors part = lexical.slice(from, to);
        shard.offsets = part.offsets();
        shard.indices = part.indices();
        shard.values = part.values();
        shard.dim = vectors == null ? 0 : dim;
        shard.vectors = vectors == null ? new float[0] : java.util.Arrays.copyOfRange(vectors, from * dim, to * dim);
        try (FSDataOutputStream out = fs.create(file(s), true)) {
          ItemShards.writeTo(out, shard);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private org.apache.hadoop.fs.Path file(int s) {
    return new org.apache.hadoop.fs.Path(dir, "shard-" + s);
  }

  @Override
  public int numShards() {
    return offsets.length - 1;
  }

  @Override
  public int offset(int s) {
    return offsets[s];
  }

  @Override
  public Shard read(int s, Shard.Parts parts, Shard reuse) {
    try (FSDataInputStream in = fs.open(file(s))) {
      return ItemShards.readFrom(in, parts, reuse, file(s).toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Shard sizes adding up to {@code rows}: random, with some empty shards. */
  static int[] randomSizes(int rows, java.util.Random random) {
    List<Integer> sizes = new java.util.ArrayList<>();
    int left = rows;
    while (left > 0) {
      int size = random.nextInt(5) == 0 ? 0 : Math.min(left, 1 + random.nextInt(Math.max(1, rows / 3)));
      sizes.add(size);
      left -= size;
    }
    sizes.add(0);
    return sizes.stream().mapToInt(Integer::intValue).toArray();
  }
}
