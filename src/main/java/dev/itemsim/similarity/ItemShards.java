package dev.itemsim.similarity;

import static org.apache.spark.sql.functions.col;

import dev.itemsim.InvalidInputException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;
import scala.Tuple2;

/**
 * One side of a lexical or hybrid search as shard files in a folder of any Hadoop file system: the items in id
 * order ({@link CollectedItems#compareIds}, Spark's string order), cut into contiguous id ranges, so shard
 * {@code s} holds the items of global index {@code offset(s) .. offset(s + 1) − 1} and "lower index" is "lower
 * id". Each file ({@code shard-NNNNNN}) holds its items' lexical vectors, embeddings (hybrid only), ids and
 * filter values, each section readable alone. The executors write them from a range-partitioned dataset and the
 * search's tasks read the shards they need one at a time, so no JVM holds a whole side; the driver keeps the
 * shard offsets only.
 *
 * <p>A file is written by each task attempt under a temporary name and published with one rename; an attempt
 * that finds the shard already published keeps it (every attempt writes the same items). Sections, big-endian:
 * a header ({@code magic, rows, nnz, dim, filter columns, id bytes}), the CSR rows ({@code rows + 1} offsets,
 * {@code nnz} feature indices, {@code nnz} values), {@code rows × dim} embedding floats, the ids, then each
 * filter column's values ({@code −1} for null), strings as a byte count and UTF-8.
 */
final class ItemShards implements ShardSource {
  private static final int MAGIC = 0x49534831;
  private static final int HEADER_BYTES = 5 * 4 + 8;
  /** Bytes per bulk read or write: below G1's humongous-object size. */
  private static final int IO_CHUNK = 256 << 10;

  private final String dir;
  private final int[] offsets;
  private final int dim;
  private final int attrCount;
  private final Broadcast<SerializableConfiguration> sharedConf;
  private transient Configuration conf;
  private transient boolean deleted;

  private ItemShards(String dir, int[] offsets, int dim, int attrCount, Configuration conf,
      Broadcast<SerializableConfiguration> sharedConf) {
    this.dir = dir;
    this.offsets = offsets;
    this.dim = dim;
    this.attrCount = attrCount;
    this.conf = conf;
    this.sharedConf = sharedConf;
  }

  /**
   * Writes {@code items} ({@link SearchItems} columns) as about {@code shards} shards into {@code dir} (which
   * must not exist yet): ids, lexical vectors from {@code lexical}, the {@code filterColumns} and, when
   * {@code withVectors}, the embeddings. Fails naming the id when an id is repeated or an embedding is missing
   * or of another dimension than the others; {@code role} ("queries", "corpus items") names the side.
   */
  static ItemShards write(SparkSession spark, Dataset<Row> items, LexicalFeatures.Fitted lexical, int shards,
      boolean withVectors, List<String> filterColumns, String dir, String role) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Configuration conf = jsc.hadoopConfiguration();
    Path path = new Path(dir);
    try {
      FileSystem fs = path.getFileSystem(conf);
      if (fs.exists(path)) {
        throw new IllegalArgumentException("The shard folder " + dir + " exists already: shards go into a new folder");
      }
      if (!fs.mkdirs(path)) {
        throw new IOException("mkdirs returned false");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create the shard folder " + dir, e);
    }
    Broadcast<SerializableConfiguration> sharedConf = jsc.broadcast(new SerializableConfiguration(conf));
    try {
      List<String> columns = new ArrayList<>(List.of(SearchItems.ID, SearchItems.TEXT));
      if (withVectors) {
        columns.add(SearchItems.EMBEDDING);
      }
      columns.addAll(filterColumns);
      Dataset<Row> ordered = items.selectExpr(CollectedItems.quoted(columns))
          .repartitionByRange(Math.max(1, shards), col(SearchItems.ID)).sortWithinPartitions(col(SearchItems.ID));
      List<String> kept = new ArrayList<>(List.of(SearchItems.ID, LexicalFeatures.WORDS, LexicalFeatures.GRAMS,
          LexicalFeatures.MODELS));
      if (withVectors) {
        kept.add(SearchItems.EMBEDDING);
      }
      kept.addAll(filterColumns);
      Dataset<Row> rows = lexical.transform(ordered).selectExpr(CollectedItems.quoted(kept));
      float[] scales = lexical.scales();
      int attrs = filterColumns.size();
      List<int[]> written = rows.javaRDD().mapPartitionsWithIndex((p, it) -> List.of(writeShard(sharedConf.value()
              .value(), dir, p, it, scales, withVectors, attrs, role, attempt(TaskContext.get()))).iterator(), true)
          .collect();
      int[] sizes = new int[written.size()];
      int dim = 0;
      for (int[] w : written) {
        sizes[w[0]] = w[1];
        if (w[2] > 0 && dim > 0 && w[2] != dim) {
          throw new InvalidInputException("The " + role + "' embeddings have " + dim + " and " + w[2]
              + " dimensions: all must have one dimension");
        }
        dim = Math.max(dim, w[2]);
      }
      int[] offsets = new int[sizes.length + 1];
      for (int s = 0; s < sizes.length; s++) {
        offsets[s + 1] = Math.addExact(offsets[s], sizes[s]);
      }
      return new ItemShards(dir, offsets, dim, attrs, conf, sharedConf);
    } catch (Throwable e) {  // collect() throws SparkException, checked for Java yet undeclared
      try {
        path.getFileSystem(conf).delete(path, true);
      } catch (IOException | RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      sharedConf.destroy();
      throw e;
    }
  }

  static String attempt(TaskContext task) {
    return task == null ? "local" : task.stageAttemptNumber() + "-" + task.taskAttemptId();
  }

  /** One task attempt's shard: gathers its rows (in id order), writes and publishes the file. */
  private static int[] writeShard(Configuration conf, String dir, int shard, Iterator<Row> rows, float[] scales,
      boolean withVectors, int attrs, String role, String attempt) throws IOException {
    Shard s = new Shard();
    List<String> ids = new ArrayList<>();
    List<List<String>> values = new ArrayList<>();
    for (int a = 0; a < attrs; a++) {
      values.add(new ArrayList<>());
    }
    IntList offsets = new IntList();
    offsets.add(0);
    IntList indices = new IntList();
    FloatList lexValues = new FloatList();
    FloatList vectors = new FloatList();
    int dim = 0;
    String previous = null;
    while (rows.hasNext()) {
      Row r = rows.next();
      String id = r.getString(0);
      if (id == null) {
        throw new InvalidInputException("The " + role + " have an item without an id");
      }
      if (id.equals(previous)) {
        throw new InvalidInputException("Item id '" + id + "' appears twice among the " + role);
      }
      previous = id;
      ids.add(id);
      LexicalFeatures.Item lex = LexicalFeatures.row(new Vector[] {r.getAs(1), r.getAs(2), r.getAs(3)}, scales);
      indices.addAll(lex.indices());
      lexValues.addAll(lex.values());
      offsets.add(indices.size);
      int next = 4;
      if (withVectors) {
        if (r.isNullAt(next)) {
          throw new InvalidInputException("Item '" + id + "' of the " + role + " has no embedding");
        }
        float[] v = CollectedItems.floats(r.getList(next++));
        if (dim == 0) {
          dim = v.length;
        } else if (v.length != dim) {
          throw new InvalidInputException("Item '" + id + "' of the " + role + " has an embedding of " + v.length
              + " dimensions, others " + dim);
        }
        vectors.addAll(v);
      }
      for (int a = 0; a < attrs; a++) {
        values.get(a).add(r.isNullAt(next + a) ? null : r.getString(next + a));
      }
    }
    s.rows = ids.size();
    s.ids = ids.toArray(String[]::new);
    s.attrs = new String[attrs][];
    for (int a = 0; a < attrs; a++) {
      s.attrs[a] = values.get(a).toArray(String[]::new);
    }
    s.offsets = offsets.toArray();
    s.indices = indices.toArray();
    s.values = lexValues.toArray();
    s.vectors = vectors.toArray();
    s.dim = dim;
    Path target = new Path(dir, name(shard));
    FileSystem fs = target.getFileSystem(conf);
    if (!fs.exists(target)) {
      Path temporary = new Path(dir, "." + name(shard) + "." + attempt + ".tmp");
      try {
        try (FSDataOutputStream out = ScratchFiles.create(fs, temporary)) {
          writeTo(out, s);
        }
        if (!renamed(fs, temporary, target) && !fs.exists(target)) {
          throw new IOException("Cannot rename " + temporary + " to " + target);
        }
      } finally {
        fs.delete(temporary, false);
      }
    }
    return new int[] {shard, s.rows, dim};
  }

  private static boolean renamed(FileSystem fs, Path from, Path to) throws IOException {
    try {
      return fs.rename(from, to);
    } catch (FileAlreadyExistsException e) {
      return false;
    }
  }

  /** Writes {@code s} in the file layout (see the class comment). */
  static void writeTo(java.io.OutputStream stream, Shard s) throws IOException {
    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(stream, IO_CHUNK));
    byte[][] idBytes = new byte[s.rows][];
    long idTotal = 0;
    for (int i = 0; i < s.rows; i++) {
      idBytes[i] = s.ids[i].getBytes(StandardCharsets.UTF_8);
      idTotal += 4 + idBytes[i].length;
    }
    int nnz = s.offsets[s.rows];
    out.writeInt(MAGIC);
    out.writeInt(s.rows);
    out.writeInt(nnz);
    out.writeInt(s.dim);
    out.writeInt(s.attrs.length);
    out.writeLong(idTotal);
    writeInts(out, s.offsets, s.rows + 1);
    writeInts(out, s.indices, nnz);
    writeFloats(out, s.values, nnz);
    writeFloats(out, s.vectors, s.rows * s.dim);
    for (byte[] id : idBytes) {
      out.writeInt(id.length);
      out.write(id);
    }
    for (String[] column : s.attrs) {
      for (int i = 0; i < s.rows; i++) {
        if (column[i] == null) {
          out.writeInt(-1);
        } else {
          byte[] b = column[i].getBytes(StandardCharsets.UTF_8);
          out.writeInt(b.length);
          out.write(b);
        }
      }
    }
    out.flush();
  }

  private static void writeInts(DataOutputStream out, int[] a, int n) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(IO_CHUNK);
    for (int from = 0; from < n; from += IO_CHUNK / 4) {
      int k = Math.min(IO_CHUNK / 4, n - from);
      chunk.clear();
      chunk.asIntBuffer().put(a, from, k);
      out.write(chunk.array(), 0, 4 * k);
    }
  }

  private static void writeFloats(DataOutputStream out, float[] a, int n) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(IO_CHUNK);
    for (int from = 0; from < n; from += IO_CHUNK / 4) {
      int k = Math.min(IO_CHUNK / 4, n - from);
      chunk.clear();
      chunk.asFloatBuffer().put(a, from, k);
      out.write(chunk.array(), 0, 4 * k);
    }
  }

  private static String name(int shard) {
    return String.format("shard-%06d", shard);
  }

  @Override
  public int numShards() {
    return offsets.length - 1;
  }

  @Override
  public int offset(int shard) {
    return offsets[shard];
  }

  /** Embedding dimension, 0 when written without embeddings. */
  int dim() {
    return dim;
  }

  @Override
  public Shard read(int shard, Shard.Parts parts, Shard reuse) {
    Path file = new Path(dir, name(shard));
    try (FSDataInputStream in = file.getFileSystem(conf()).open(file)) {
      return readFrom(in, parts, reuse, file.toString());
    } catch (FileNotFoundException e) {
      throw new IllegalStateException("Shard file " + file + " is missing: was the search's scratch folder "
          + "deleted while it ran?", e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read shard " + file, e);
    }
  }

  /**
   * Reads the {@code parts} of a shard from {@code in} (positioned at its start) into {@code reuse}'s arrays
   * where they are large enough, else into new ones; {@code name} names the file in errors.
   */
  static Shard readFrom(FSDataInputStream in, Shard.Parts parts, Shard reuse, String name) throws IOException {
    Shard s = reuse != null ? reuse : new Shard();
    long start = in.getPos();
    byte[] header = new byte[HEADER_BYTES];
    in.readFully(header);
    ByteBuffer h = ByteBuffer.wrap(header);
    if (h.getInt() != MAGIC) {
      throw new IOException(name + " is not an itemsim shard file");
    }
    s.rows = h.getInt();
    int nnz = h.getInt();
    s.dim = h.getInt();
    int attrs = h.getInt();
    long idBytes = h.getLong();
    long lexicalAt = start + HEADER_BYTES;
    long vectorsAt = lexicalAt + 4L * (s.rows + 1) + 8L * nnz;
    long idsAt = vectorsAt + 4L * s.rows * s.dim;
    byte[] chunk = new byte[IO_CHUNK];
    if (parts.lexical()) {
      s.offsets = readInts(in, lexicalAt, s.rows + 1, s.offsets, chunk);
      s.indices = readInts(in, -1, nnz, s.indices, chunk);
      s.values = readFloats(in, -1, nnz, s.values, chunk);
    }
    if (parts.vectors()) {
      if (s.dim == 0) {
        throw new IllegalStateException(name + " holds no embeddings");
      }
      s.vectors = readFloats(in, vectorsAt, s.rows * s.dim, s.vectors, chunk);
    }
    if (parts.ids() || parts.attrs()) {
      in.seek(parts.ids() ? idsAt : idsAt + idBytes);
      DataInputStream strings = new DataInputStream(new BufferedInputStream(in, 64 << 10));
      if (parts.ids()) {
        s.ids = new String[s.rows];
        for (int i = 0; i < s.rows; i++) {
          s.ids[i] = readString(strings);
        }
      }
      if (parts.attrs()) {
        s.attrs = new String[attrs][s.rows];
        for (int a = 0; a < attrs; a++) {
          for (int i = 0; i < s.rows; i++) {
            s.attrs[a][i] = readString(strings);
          }
        }
      }
    }
    return s;
  }

  private static String readString(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0) {
      return null;
    }
    byte[] b = new byte[length];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private static int[] readInts(FSDataInputStream in, long at, int n, int[] reuse, byte[] chunk) throws IOException {
    int[] out = reuse != null && reuse.length >= n ? reuse : new int[n];
    if (at >= 0) {
      in.seek(at);
    }
    for (int from = 0; from < n; from += IO_CHUNK / 4) {
      int k = Math.min(IO_CHUNK / 4, n - from);
      in.readFully(chunk, 0, 4 * k);
      ByteBuffer.wrap(chunk, 0, 4 * k).asIntBuffer().get(out, from, k);
    }
    return out;
  }

  private static float[] readFloats(FSDataInputStream in, long at, int n, float[] reuse, byte[] chunk)
      throws IOException {
    float[] out = reuse != null && reuse.length >= n ? reuse : new float[n];
    if (at >= 0) {
      in.seek(at);
    }
    for (int from = 0; from < n; from += IO_CHUNK / 4) {
      int k = Math.min(IO_CHUNK / 4, n - from);
      in.readFully(chunk, 0, 4 * k);
      ByteBuffer.wrap(chunk, 0, 4 * k).asFloatBuffer().get(out, from, k);
    }
    return out;
  }

  /**
   * {@code item_id string, idx int}: every item's global index, read from the shards by the executors (the
   * driver sees none of it).
   */
  Dataset<Row> index(SparkSession spark) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<Integer> shards = new ArrayList<>();
    for (int s = 0; s < numShards(); s++) {
      shards.add(s);
    }
    ItemShards files = this;
    var rows = jsc.parallelize(shards, Math.max(1, shards.size())).flatMap(s -> {
      Shard shard = files.read(s, Shard.Parts.IDS, null);
      List<Row> out = new ArrayList<>(shard.rows);
      for (int i = 0; i < shard.rows; i++) {
        out.add(RowFactory.create(shard.ids[i], files.offset(s) + i));
      }
      return out.iterator();
    });
    return spark.createDataFrame(rows, new StructType().add(SearchItems.ID, DataTypes.StringType, false)
        .add("idx", DataTypes.IntegerType, false));
  }

  /**
   * The features more than {@code maxPostings} items hold, ascending: counted by the executors from the
   * shards; the driver receives only the features over the cap (at most the hashed feature space).
   */
  int[] frequentFeatures(SparkSession spark, int maxPostings) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<Integer> shards = new ArrayList<>();
    for (int s = 0; s < numShards(); s++) {
      shards.add(s);
    }
    ItemShards files = this;
    List<Integer> frequent = jsc.parallelize(shards, Math.max(1, shards.size())).flatMapToPair(s -> {
      Shard shard = files.read(s, Shard.Parts.LEXICAL, null);
      int[] features = Arrays.copyOf(shard.indices, shard.offsets[shard.rows]);
      Arrays.sort(features);
      List<Tuple2<Integer, Integer>> counts = new ArrayList<>();
      for (int k = 0; k < features.length; ) {
        int end = k;
        while (end < features.length && features[end] == features[k]) {
          end++;
        }
        counts.add(new Tuple2<>(features[k], end - k));
        k = end;
      }
      return counts.iterator();
    }).reduceByKey(Integer::sum).filter(fc -> fc._2() > maxPostings).keys().collect();
    return frequent.stream().mapToInt(Integer::intValue).sorted().toArray();
  }

  /**
   * Deletes the folder and destroys the broadcast configuration: call it on the driver once everything
   * reading the shards has been materialised. Calling it again only deletes the folder.
   */
  void delete() {
    try {
      ScratchPaths.delete(dir, conf());
    } finally {
      if (!deleted) {
        deleted = true;
        sharedConf.destroy();
      }
    }
  }

  private Configuration conf() {
    if (conf == null) {
      conf = sharedConf.value().value();
    }
    return conf;
  }

  /** A growable int array. */
  private static final class IntList {
    int[] a = new int[1024];
    int size;

    void add(int v) {
      if (size == a.length) {
        a = Arrays.copyOf(a, 2 * a.length);
      }
      a[size++] = v;
    }

    void addAll(int[] v) {
      if (size + v.length > a.length) {
        a = Arrays.copyOf(a, Math.max(2 * a.length, size + v.length));
      }
      System.arraycopy(v, 0, a, size, v.length);
      size += v.length;
    }

    int[] toArray() {
      return Arrays.copyOf(a, size);
    }
  }

  /** A growable float array. */
  private static final class FloatList {
    float[] a = new float[1024];
    int size;

    void addAll(float[] v) {
      if (size + v.length > a.length) {
        a = Arrays.copyOf(a, Math.max(2 * a.length, size + v.length));
      }
      System.arraycopy(v, 0, a, size, v.length);
      size += v.length;
    }

    float[] toArray() {
      return Arrays.copyOf(a, size);
    }
  }
}
