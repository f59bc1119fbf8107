package dev.itemsim.similarity;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.HashPartitioner;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;
import scala.Tuple2;

/**
 * Inverted lists as files: the rows of every list, cut into segments of at most a block's rows, one file per
 * segment in a folder of any Hadoop file system, written by the executors from rows shuffled to their list
 * ({@link #write}), or appended by the tasks of a pass over the rows before they belong to a list
 * ({@link Appender}). A task reads only the segments it multiplies, so no JVM holds all vectors; each JVM keeps
 * recently read segments up to a fixed budget ({@link Cache}).
 *
 * <p>Rows are shuffled as bytes ({@link #encode}); a segment file holds a header, the vectors as one
 * little-endian float32 block, the numbers of each row, then its strings. Each task attempt writes files of
 * its own name and returns them; only the segments of the attempt Spark keeps are ever read, so a retried or
 * speculative attempt never mixes with another one's files, and {@link #delete} removes everything.
 */
final class ListSegments implements Serializable {
  private static final int MAGIC = 0x49564631;  // "IVF1"
  private static final int IO_CHUNK = 256 << 10;

  /**
   * One segment: rows of {@code list}, {@code queryRows} of them rank as queries; its vectors and numbers in
   * {@code path}, its ids in {@code idsPath}, its rows' item numbers in {@code itemsPath} (null until
   * {@link ItemNumbers} numbered them, and for queries of another catalogue, whose item number is −1).
   */
  record Segment(int list, int rows, int queryRows, String path, String idsPath, String itemsPath)
      implements Serializable {
    Segment withItems(String items) {
      return new Segment(list, rows, queryRows, path, idsPath, items);
    }
  }

  /** A written segment and, for the task plan, the lists its query rows probe with how many rows probe each. */
  record Written(Segment segment, int[] probedLists, int[] probedCounts) implements Serializable {}

  /** The fixed shape of a layout's rows: vector length, probes per query, lists per item, filter columns. */
  record Shape(int dim, int nprobe, int assignments, int filters) implements Serializable {}

  private final String dir;
  private final Shape shape;
  private final Segment[] segments;
  private final Broadcast<SerializableConfiguration> sharedConf;
  /** Probes per query row that readers see: the first of the stored ones, nearest first. */
  private final int probesUsed;
  private transient Configuration conf;
  private transient List<Written> written;
  private transient boolean deleted;

  private ListSegments(String dir, Shape shape, List<Written> written, Segment[] segments,
      Broadcast<SerializableConfiguration> conf) {
    this(dir, shape, written, segments, conf, shape.nprobe());
  }

  private ListSegments(String dir, Shape shape, List<Written> written, Segment[] segments,
      Broadcast<SerializableConfiguration> conf, int probesUsed) {
    this.dir = new Path(dir).toString();
    this.shape = shape;
    this.written = written;
    this.segments = segments;
    this.sharedConf = conf;
    this.probesUsed = probesUsed;
  }

  /** The same segments with their rows' item numbers in {@code itemsPaths} (one file per segment). */
  ListSegments withItems(String[] itemsPaths) {
    Segment[] numbered = new Segment[segments.length];
    for (int s = 0; s < segments.length; s++) {
      numbered[s] = segments[s].withItems(itemsPaths[s]);
    }
    ListSegments out = new ListSegments(dir, shape, written, numbered, sharedConf, probesUsed);
    out.conf = conf;
    return out;
  }

  /** Probes per query row that {@link #read} gives: the stored ones, or the nearest of them ({@link #probing}). */
  int probesUsed() {
    return probesUsed;
  }

  /**
   * The same segments read as if every query row probed only the {@code nprobe} nearest of its stored lists
   * (at most {@code shape().nprobe()}), with what {@link #written} says of each segment (the lists its query rows
   * probe, how many rows probe each) counted again for that many: one pass over the segments' probe numbers, no
   * vector read. Driver only.
   */
  ListSegments probing(JavaSparkContext jsc, int nprobe) {
    if (nprobe < 1 || nprobe > shape.nprobe()) {
      throw new IllegalArgumentException("Query rows store " + shape.nprobe() + " probes: cannot use " + nprobe);
    }
    if (nprobe == probesUsed) {
      return this;
    }
    List<Integer> all = java.util.stream.IntStream.range(0, segments.length).boxed().toList();
    int stored = shape.nprobe();
    List<Tuple2<Integer, Probed>> counted = jsc.parallelize(all, Math.max(1, Math.min(all.size(),
        4 * jsc.defaultParallelism())))
        .map(s -> new Tuple2<>(s, Probed.count(readProbes(s), segments[s].rows(), stored, nprobe))).collect();
    Written[] recounted = new Written[segments.length];
    for (Tuple2<Integer, Probed> c : counted) {
      recounted[c._1()] = new Written(segments[c._1()], c._2().lists(), c._2().counts());
    }
    ListSegments out = new ListSegments(dir, shape, List.of(recounted), segments, sharedConf, nprobe);
    out.conf = conf;
    return out;
  }

  /** The lists some query rows probe, ascending, and how many rows probe each. */
  record Probed(int[] lists, int[] counts) implements Serializable {
    /**
     * Counted over the first {@code used} of each of the first {@code rows} rows' probes in {@code probes}
     * ({@code stored} a row, −1 for rows that do not rank); a row probes each list once.
     */
    static Probed count(int[] probes, int rows, int stored, int used) {
      int[] all = new int[rows * used];
      int n = 0;
      for (int r = 0; r < rows; r++) {
        for (int k = r * stored; k < r * stored + used; k++) {
          if (probes[k] >= 0) {
            all[n++] = probes[k];
          }
        }
      }
      Arrays.sort(all, 0, n);
      int distinct = 0;
      for (int i = 0; i < n; i++) {
        distinct += i == 0 || all[i] != all[i - 1] ? 1 : 0;
      }
      int[] lists = new int[distinct];
      int[] counts = new int[distinct];
      for (int i = 0, d = -1; i < n; i++) {
        if (i == 0 || all[i] != all[i - 1]) {
          lists[++d] = all[i];
        }
        counts[d]++;
      }
      return new Probed(lists, counts);
    }
  }

  /** The stored probes of segment {@code s}'s rows (rows × {@code shape().nprobe()}, −1 for rows that do not rank). */
  int[] readProbes(int s) {
    Segment info = segments[s];
    Path file = new Path(info.path());
    try (FSDataInputStream stream = file.getFileSystem(conf()).open(file)) {
      checkHeader(file, info, new DataInputStream(stream));
      stream.seek(HEADER_BYTES + (long) info.rows() * (4L * shape.dim() + 1));
      int[] probes = new int[info.rows() * shape.nprobe()];
      readInts(new DataInputStream(new java.io.BufferedInputStream(stream, 64 << 10)), new byte[IO_CHUNK], probes);
      return probes;
    } catch (java.io.EOFException e) {
      throw new IllegalStateException("List segment file " + file + " is truncated: it ends before its "
          + info.rows() + " rows", e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read list segment " + file, e);
    }
  }

  /** The folder the segments are in (item number files go there too). */
  String dir() {
    return dir;
  }

  /** The broadcast Hadoop configuration tasks open the files with. */
  Configuration configuration() {
    return conf();
  }

  /**
   * One membership of an item in a list as shuffled to the list's writer: replica number, id, vector, probed
   * lists (null unless the row ranks as a query), the lists it is stored in, filter values (blank counts as
   * missing).
   */
  static byte[] encode(Shape shape, int replica, String id, float[] vector, int[] probes, int[] lists,
      String[] values) {
    requireLength(id, vector.length, shape.dim());
    byte[] idBytes = utf8(id);
    byte[][] valueBytes = new byte[shape.filters()][];
    int size = 1 + 4 + idBytes.length + 4 * shape.dim() + 4 * shape.nprobe() + 4 * shape.assignments();
    for (int k = 0; k < valueBytes.length; k++) {
      String v = values[k];
      valueBytes[k] = utf8(v == null || v.isBlank() ? null : v);
      size += 4 + (valueBytes[k] == null ? 0 : valueBytes[k].length);
    }
    ByteBuffer buf = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    buf.put((byte) replica);
    putBytes(buf, idBytes);
    buf.asFloatBuffer().put(vector);
    buf.position(buf.position() + 4 * shape.dim());
    for (int k = 0; k < shape.nprobe(); k++) {
      buf.putInt(probes == null ? -1 : probes[k]);
    }
    for (int k = 0; k < shape.assignments(); k++) {
      buf.putInt(lists[k]);
    }
    for (byte[] v : valueBytes) {
      putBytes(buf, v);
    }
    return buf.array();
  }

  /** Fails naming item {@code id} when its vector's {@code length} is not the segments' {@code dim}. */
  private static void requireLength(String id, int length, int dim) {
    if (length != dim) {
      throw new IllegalArgumentException("The vector of item '" + id + "' has length " + length + ", expected " + dim
          + ": every vector must come from the same model");
    }
  }

  private static byte[] utf8(String s) {
    return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Encoded rows ({@link #encode}) in id order (UTF-8 bytes, which is itemsim's id order; no id first), then by
   * replica. A writer puts a segment's rows in this order, whatever order the shuffle delivered them in: the
   * kernel's sums may round differently by a row's place in a product tile, so a list written as one segment
   * then gets the same scores, to the last bit, on every run over the same rows.
   */
  static int compareEncoded(byte[] a, byte[] b) {
    int la = intAt(a, 1);
    int lb = intAt(b, 1);
    if (la < 0 || lb < 0) {
      if (la != lb) {
        return la < 0 ? -1 : 1;
      }
    } else {
      int c = java.util.Arrays.compareUnsigned(a, 5, 5 + la, b, 5, 5 + lb);
      if (c != 0) {
        return c;
      }
    }
    return Byte.compare(a[0], b[0]);
  }

  /** The little-endian int at {@code at} of an encoded row. */
  private static int intAt(byte[] row, int at) {
    return (row[at] & 0xff) | (row[at + 1] & 0xff) << 8 | (row[at + 2] & 0xff) << 16 | (row[at + 3] & 0xff) << 24;
  }

  private static void putBytes(ByteBuffer buf, byte[] bytes) {
    buf.putInt(bytes == null ? -1 : bytes.length);
    if (bytes != null) {
      buf.put(bytes);
    }
  }

  private static String getString(ByteBuffer buf) {
    int length = buf.getInt();
    if (length < 0) {
      return null;
    }
    String s = new String(buf.array(), buf.position(), length, StandardCharsets.UTF_8);
    buf.position(buf.position() + length);
    return s;
  }

  /**
   * Writes {@code rows} — (list, {@link #encode encoded row}) — as segments of at most {@code maxRows} rows
   * into {@code dir} (created; must be new), the lists hashed over {@code partitions} writer tasks, each
   * holding a bounded number of rows ({@link #writePartition}). A failed write deletes {@code dir}.
   */
  static ListSegments write(JavaPairRDD<Integer, byte[]> rows, int partitions, int maxRows, Shape shape, String dir,
      Configuration conf) {
    return write(rows, partitions, maxRows, shape, dir, conf, null);
  }

  /**
   * The same, numbering the rows as they are written when {@code names} holds every id in id order
   * ({@link ItemNumbers#sortedOnDriver}): each segment then gets its item number file, and no numbering pass is
   * needed. A row whose id is not among them fails the write (the rows and the ids did not come from one pass).
   */
  static ListSegments write(JavaPairRDD<Integer, byte[]> rows, int partitions, int maxRows, Shape shape, String dir,
      Configuration conf, Broadcast<String[]> names) {
    return write(rows, partitions, maxRows, shape, dir, conf, names, null).segments();
  }

  /**
   * Sees every segment of a {@link #write} as it is written: each writer task opens its own {@link Task}, whose
   * result comes back with the task's segments ({@link Tapped}).
   */
  interface Tap extends Serializable {
    Task open();

    /** One writer task's view. */
    interface Task {
      /**
       * The rows of a segment just written to {@code path}, numbered ({@code rows.items()}), with their
       * {@code ids}; the arrays may be longer than {@code rows.rows()} and are reused once this returns.
       */
      void written(ListSegment rows, String[] ids, String path);

      /** What the task gathered, once all its segments are written. */
      Serializable result();
    }
  }

  /** Segments written under a {@link Tap}, and what each writer task's {@link Tap.Task} gathered. */
  record Tapped(ListSegments segments, List<Serializable> results) {}

  /** One writer task's segments and its tap's result (null without a tap). */
  private record TaskWrite(List<Written> written, Serializable tapped) implements Serializable {}

  /**
   * The same, numbering the rows by {@code names} (required with a {@code tap}), with {@code tap} (null: none)
   * seeing every segment written.
   */
  static Tapped write(JavaPairRDD<Integer, byte[]> rows, int partitions, int maxRows, Shape shape, String dir,
      Configuration conf, Broadcast<String[]> names, Tap tap) {
    if (tap != null && names == null) {
      throw new IllegalArgumentException("A tap sees numbered rows: the ids must be given to number them by");
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(rows.context());
    Path path = new Path(dir);
    createNewFolder(path, conf);
    Broadcast<SerializableConfiguration> shared = jsc.broadcast(new SerializableConfiguration(conf));
    try {
      List<TaskWrite> tasks = rows
          .partitionBy(new HashPartitioner(Math.max(1, partitions)))
          .mapPartitionsWithIndex((p, it) -> {
            Tap.Task seen = tap == null ? null : tap.open();
            List<Written> out = writePartition(p, it, shape, maxRows, dir, BlockFiles.attempt(TaskContext.get()),
                shared.value().value(), names == null ? null : names.value(), seen);
            return List.of(new TaskWrite(out, seen == null ? null : seen.result())).iterator();
          }, true)
          .collect();
      List<Written> written = new ArrayList<>();
      List<Serializable> results = new ArrayList<>();
      for (TaskWrite task : tasks) {
        written.addAll(task.written());
        if (task.tapped() != null) {
          results.add(task.tapped());
        }
      }
      written.sort(java.util.Comparator.comparingInt((Written w) -> w.segment().list())
          .thenComparing(w -> w.segment().path()));
      ListSegments segments = new ListSegments(dir, shape, written,
          written.stream().map(Written::segment).toArray(Segment[]::new), shared);
      segments.conf = conf;
      return new Tapped(segments, results);
    } catch (Throwable e) {  // collect() throws SparkException, checked for Java yet undeclared
      try {
        path.getFileSystem(conf).delete(path, true);
      } catch (IOException | RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      shared.destroy();
      throw e;
    }
  }

  /** Creates {@code dir}, which must not exist yet: segments are written into a new folder only. */
  static void createNewFolder(Path dir, Configuration conf) {
    try {
      FileSystem fs = dir.getFileSystem(conf);
      if (fs.exists(dir)) {
        throw new IllegalArgumentException("Segment folder " + dir + " exists already: segments are written into a "
            + "new folder");
      }
      if (!fs.mkdirs(dir)) {
        throw new IOException("mkdirs returned false");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create the segment folder " + dir, e);
    }
  }

  /**
   * Rows appended by one task as they come, before they belong to a list (list −1), in segments of at most
   * {@code maxRows} rows: the scan of the corpus lays its rows down once this way, so later passes read these
   * files instead of the input table. Filter values are kept as given.
   */
  static final class Appender {
    private final Chunk chunk;
    private final FileSystem fs;
    private final String dir;
    private final String prefix;
    private final List<Written> written = new ArrayList<>();

    /** @param prefix unique per task attempt: segment files are named {@code prefix-NNNNN} */
    Appender(Shape shape, int maxRows, String dir, String prefix, Configuration conf) throws IOException {
      if (shape.nprobe() != 0 || shape.assignments() != 0) {
        throw new IllegalArgumentException("Appended rows belong to no list yet: " + shape);
      }
      this.chunk = new Chunk(shape, maxRows, null);
      this.fs = new Path(dir).getFileSystem(conf);
      this.dir = dir;
      this.prefix = prefix;
    }

    /**
     * Appends a row: its id, its vector ({@code dim} floats, none null) and its filter values.
     */
    void add(String id, org.apache.spark.sql.catalyst.util.ArrayData vector, String[] values) throws IOException {
      int dim = chunk.shape.dim();
      requireLength(id, vector.numElements(), dim);
      CollectedItems.requireNoNull(vector, id);
      int r = chunk.rows++;
      int at = r * dim;
      for (int k = 0; k < dim; k++) {
        chunk.vectors[at + k] = vector.getFloat(k);
      }
      chunk.list = -1;
      chunk.replicas[r] = 0;
      chunk.ids[r] = id;
      for (int k = 0; k < values.length; k++) {
        chunk.values[k][r] = values[k];
      }
      if (chunk.rows == chunk.replicas.length) {
        flush();
      }
    }

    private void flush() throws IOException {
      if (chunk.rows > 0) {
        written.add(chunk.write(fs, dir, String.format("%s-%05d", prefix, written.size())));
      }
    }

    /** Writes what is left; the segments written. */
    List<Written> finish() throws IOException {
      flush();
      return written;
    }
  }

  /**
   * The segments {@code written} by tasks into {@code dir} (by {@link Appender}s), in the order given, read with
   * {@code shared} ({@code conf} broadcast), which {@link #delete} destroys.
   */
  static ListSegments of(String dir, Shape shape, List<Written> written, Broadcast<SerializableConfiguration> shared,
      Configuration conf) {
    ListSegments segments = new ListSegments(dir, shape, written,
        written.stream().map(Written::segment).toArray(Segment[]::new), shared);
    segments.conf = conf;
    return segments;
  }

  /**
   * One writer task: rows arrive in any order. A list's rows are held until there are {@code maxRows} of them,
   * then written as a segment; when the task holds {@code 2 × maxRows} rows in all, its largest held list is
   * written early; what is held at the end is written list by list. So a task holds at most about
   * {@code 2 × maxRows} rows whatever the lists' sizes, and no sort is needed.
   */
  private static List<Written> writePartition(int partition, Iterator<Tuple2<Integer, byte[]>> rows, Shape shape,
      int maxRows, String dir, String attempt, Configuration conf, String[] names, Tap.Task tap) throws IOException {
    List<Written> out = new ArrayList<>();
    Chunk chunk = new Chunk(shape, maxRows, names);
    FileSystem fs = new Path(dir).getFileSystem(conf);
    Map<Integer, List<byte[]>> held = new TreeMap<>();
    long heldRows = 0;
    while (rows.hasNext()) {
      Tuple2<Integer, byte[]> row = rows.next();
      int list = row._1();
      List<byte[]> rowsOfList = held.computeIfAbsent(list, l -> new ArrayList<>());
      rowsOfList.add(row._2());
      heldRows++;
      if (rowsOfList.size() < maxRows && heldRows < 2L * maxRows) {
        continue;
      }
      if (rowsOfList.size() < maxRows) {
        for (Map.Entry<Integer, List<byte[]>> e : held.entrySet()) {
          if (e.getValue().size() > rowsOfList.size()) {
            list = e.getKey();
            rowsOfList = e.getValue();
          }
        }
      }
      out.add(chunk.write(fs, dir, list, rowsOfList, String.format("seg-%05d-%05d-%s", partition, out.size(),
          attempt), tap));
      heldRows -= rowsOfList.size();
      held.remove(list);
    }
    for (Map.Entry<Integer, List<byte[]>> e : held.entrySet()) {
      out.add(chunk.write(fs, dir, e.getKey(), e.getValue(), String.format("seg-%05d-%05d-%s", partition, out.size(),
          attempt), tap));
    }
    return out;
  }

  /** The rows of the segment being written, column by column. */
  private static final class Chunk {
    final Shape shape;
    final float[] vectors;
    final byte[] replicas;
    final int[] probes;
    final int[] lists;
    final String[][] values;
    final String[] ids;
    final Map<String, Integer> numbers;
    int list = -1;
    int rows;
    int queryRows;

    /** @param names every corpus id in id order, to number the rows by; null: rows stay unnumbered */
    Chunk(Shape shape, int maxRows, String[] names) {
      this.shape = shape;
      this.numbers = names == null ? null : ItemNumbers.numbersById(names);
      vectors = new float[maxRows * shape.dim()];
      replicas = new byte[maxRows];
      probes = new int[maxRows * shape.nprobe()];
      lists = new int[maxRows * shape.assignments()];
      values = new String[shape.filters()][maxRows];
      ids = new String[maxRows];
    }

    void add(int list, byte[] bytes) {
      this.list = list;
      ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      int r = rows++;
      replicas[r] = buf.get();
      ids[r] = getString(buf);
      buf.asFloatBuffer().get(vectors, r * shape.dim(), shape.dim());
      buf.position(buf.position() + 4 * shape.dim());
      boolean query = false;
      for (int k = 0; k < shape.nprobe(); k++) {
        int probe = buf.getInt();
        probes[r * shape.nprobe() + k] = probe;
        query |= probe >= 0;
      }
      queryRows += query ? 1 : 0;
      for (int k = 0; k < shape.assignments(); k++) {
        lists[r * shape.assignments() + k] = buf.getInt();
      }
      for (int k = 0; k < shape.filters(); k++) {
        values[k][r] = getString(buf);
      }
    }

    /** Writes {@code rows} of {@code list} ({@link #encode encoded}) as one segment named {@code name}. */
    Written write(FileSystem fs, String dir, int list, List<byte[]> rows, String name, Tap.Task tap)
        throws IOException {
      rows.sort(ListSegments::compareEncoded);
      for (byte[] row : rows) {
        add(list, row);
      }
      return write(fs, dir, name, tap);
    }

    Written write(FileSystem fs, String dir, String name) throws IOException {
      return write(fs, dir, name, null);
    }

    /**
     * Writes the segment as {@code name} (vectors and numbers) and {@code name.ids} (replicas and ids), then
     * shows it to {@code tap} (null: none).
     */
    Written write(FileSystem fs, String dir, String name, Tap.Task tap) throws IOException {
      Path file = new Path(dir, name);
      Path idsFile = new Path(dir, name + ".ids");
      try (DataOutputStream out = new DataOutputStream(ScratchFiles.create(fs, file))) {
        for (int v : new int[] {MAGIC, shape.dim(), shape.nprobe(), shape.assignments(), shape.filters(), rows, list}) {
          out.writeInt(v);
        }
        ByteBuffer chunk = ByteBuffer.allocate(IO_CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        writeFloats(out, chunk, vectors, rows * shape.dim());
        out.write(replicas, 0, rows);
        writeInts(out, chunk, probes, rows * shape.nprobe());
        writeInts(out, chunk, lists, rows * shape.assignments());
        for (String[] column : values) {
          for (int r = 0; r < rows; r++) {
            writeString(out, column[r]);
          }
        }
        out.writeInt(MAGIC);
        out.writeInt(rows);
      }
      try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(
          ScratchFiles.create(fs, idsFile), 64 << 10))) {
        out.writeInt(MAGIC);
        out.writeInt(rows);
        out.write(replicas, 0, rows);
        for (int r = 0; r < rows; r++) {
          writeString(out, ids[r]);
        }
        out.writeInt(MAGIC);
      }
      String itemsPath = null;
      int[] items = null;
      if (numbers != null) {
        items = new int[rows];
        for (int r = 0; r < rows; r++) {
          items[r] = numbers.getOrDefault(ids[r], -1);
          if (items[r] < 0) {
            throw new IllegalStateException("Item '" + ids[r] + "' was not among the corpus ids read before the "
                + "lists were laid out: the rows and the ids did not come from one pass over the corpus");
          }
        }
        Path itemsFile = new Path(dir, name + ".items");
        writeItems(fs, itemsFile, items);
        itemsPath = itemsFile.toString();
      }
      if (tap != null) {
        tap.written(new ListSegment(list, rows, shape.dim(), vectors, items, replicas, shape.nprobe(), probes,
            shape.assignments(), lists, values), ids, file.toString());
      }
      Probed probed = Probed.count(probes, rows, shape.nprobe(), shape.nprobe());
      Written written = new Written(new Segment(list, rows, queryRows, file.toString(), idsFile.toString(),
          itemsPath), probed.lists(), probed.counts());
      rows = 0;
      queryRows = 0;
      Arrays.fill(ids, null);
      return written;
    }
  }

  private static void writeFloats(DataOutputStream out, ByteBuffer chunk, float[] values, int length)
      throws IOException {
    for (int from = 0; from < length; from += IO_CHUNK / 4) {
      int n = Math.min(IO_CHUNK / 4, length - from);
      chunk.clear();
      chunk.asFloatBuffer().put(values, from, n);
      out.write(chunk.array(), 0, 4 * n);
    }
  }

  private static void writeInts(DataOutputStream out, ByteBuffer chunk, int[] values, int length) throws IOException {
    for (int from = 0; from < length; from += IO_CHUNK / 4) {
      int n = Math.min(IO_CHUNK / 4, length - from);
      chunk.clear();
      chunk.asIntBuffer().put(values, from, n);
      out.write(chunk.array(), 0, 4 * n);
    }
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] bytes = utf8(s);
    out.writeInt(bytes == null ? -1 : bytes.length);
    if (bytes != null) {
      out.write(bytes);
    }
  }

  int size() {
    return segments.length;
  }

  Segment segment(int s) {
    return segments[s];
  }

  Shape shape() {
    return shape;
  }

  /** What the writers saw of each segment's query rows (driver only: null in a task). */
  List<Written> written() {
    return written;
  }

  /** Segment numbers of every list. */
  Map<Integer, int[]> segmentsByList() {
    Map<Integer, List<Integer>> byList = new LinkedHashMap<>();
    for (int s = 0; s < segments.length; s++) {
      byList.computeIfAbsent(segments[s].list(), l -> new ArrayList<>()).add(s);
    }
    Map<Integer, int[]> out = new LinkedHashMap<>();
    byList.forEach((l, ss) -> out.put(l, ss.stream().mapToInt(Integer::intValue).toArray()));
    return out;
  }

  /**
   * Segment {@code s} (vectors, numbers and filter values; ids are read apart, {@link #readIds}): from this
   * JVM's cache of recently read segments when there. Item numbers are −1 until numbered.
   */
  ListSegment read(int s) {
    Segment info = segments[s];
    String key = info.path() + "#" + info.itemsPath() + "#" + probesUsed;
    ListSegment cached = Cache.get(key);
    if (cached != null) {
      return cached;
    }
    ListSegment segment = readFile(info);
    Cache.put(key, segment);
    return segment;
  }

  /** Segment {@code s} read from its file, not kept in this JVM's cache: for reading each segment once. */
  ListSegment readOnce(int s) {
    return readFile(segments[s]);
  }

  private ListSegment readFile(Segment info) {
    Path file = new Path(info.path());
    try (FSDataInputStream stream = file.getFileSystem(conf()).open(file)) {
      DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(stream, 64 << 10));
      checkHeader(file, info, in);
      int rows = info.rows();
      byte[] chunk = new byte[IO_CHUNK];
      float[] vectors = new float[rows * shape.dim()];
      readFloats(in, chunk, vectors);
      byte[] replicas = new byte[rows];
      in.readFully(replicas);
      int[] probes = new int[rows * shape.nprobe()];
      readInts(in, chunk, probes);
      int[] lists = new int[rows * shape.assignments()];
      readInts(in, chunk, lists);
      String[][] values = new String[shape.filters()][rows];
      for (String[] column : values) {
        for (int r = 0; r < rows; r++) {
          column[r] = readString(in);
        }
      }
      if (in.readInt() != MAGIC || in.readInt() != rows) {
        throw new IllegalStateException("List segment file " + file + " is truncated or corrupt (bad trailer)");
      }
      int[] items = info.itemsPath() == null ? unnumbered(rows) : readItems(info);
      return new ListSegment(info.list(), rows, shape.dim(), vectors, items, replicas, probesUsed,
          nearestProbes(probes, rows), shape.assignments(), lists, values);
    } catch (java.io.EOFException e) {
      throw new IllegalStateException("List segment file " + file + " is truncated: it ends before its "
          + info.rows() + " rows", e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read list segment " + file, e);
    }
  }

  /** The first {@link #probesUsed} of each row's stored probes (rows × that many). */
  private int[] nearestProbes(int[] stored, int rows) {
    if (probesUsed == shape.nprobe()) {
      return stored;
    }
    int[] out = new int[rows * probesUsed];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(stored, r * shape.nprobe(), out, r * probesUsed, probesUsed);
    }
    return out;
  }

  /**
   * Some rows of a segment: their vectors (row-major), item numbers (−1 until numbered), filter values, and
   * all their stored probes (rows × {@code shape().nprobe()}, nearest first, −1 for rows that do not rank).
   */
  record Rows(float[] vectors, int[] items, String[][] values, int[] probes) {}

  /**
   * Rows {@code rows} (ascending row numbers) of segment {@code s}, read by seeking to them instead of reading the
   * whole segment: for picking a few rows out of many segments.
   */
  Rows readRows(int s, int[] rows) {
    Segment info = segments[s];
    for (int i = 0; i < rows.length; i++) {
      if (rows[i] < 0 || rows[i] >= info.rows() || (i > 0 && rows[i] <= rows[i - 1])) {
        throw new IllegalArgumentException("Rows to read must be ascending and within the segment's " + info.rows()
            + ": " + Arrays.toString(rows));
      }
    }
    Path file = new Path(info.path());
    int dim = shape.dim();
    try (FSDataInputStream stream = file.getFileSystem(conf()).open(file)) {
      DataInputStream header = new DataInputStream(stream);
      checkHeader(file, info, header);
      float[] vectors = new float[rows.length * dim];
      byte[] row = new byte[4 * dim];
      for (int i = 0; i < rows.length; i++) {
        stream.seek(HEADER_BYTES + 4L * dim * rows[i]);
        stream.readFully(row);
        ByteBuffer.wrap(row).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(vectors, i * dim, dim);
      }
      int stored = shape.nprobe();
      int[] probes = new int[rows.length * stored];
      byte[] rowProbes = new byte[4 * stored];
      for (int i = 0; i < rows.length && stored > 0; i++) {
        stream.seek(HEADER_BYTES + (long) info.rows() * (4L * dim + 1) + 4L * stored * rows[i]);
        stream.readFully(rowProbes);
        ByteBuffer.wrap(rowProbes).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(probes, i * stored, stored);
      }
      String[][] values = new String[shape.filters()][rows.length];
      if (shape.filters() > 0) {
        long n = info.rows();
        stream.seek(HEADER_BYTES + n * (4L * dim + 1 + 4L * shape.nprobe() + 4L * shape.assignments()));
        DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(stream, 64 << 10));
        for (String[] column : values) {
          for (int r = 0, next = 0; r < n; r++) {
            String value = readString(in);
            if (next < rows.length && rows[next] == r) {
              column[next++] = value;
            }
          }
        }
      }
      int[] items = unnumbered(rows.length);
      if (info.itemsPath() != null) {
        Path itemsFile = new Path(info.itemsPath());
        try (FSDataInputStream itemsIn = itemsFile.getFileSystem(conf()).open(itemsFile)) {
          byte[] number = new byte[4];
          for (int i = 0; i < rows.length; i++) {
            itemsIn.seek(8 + 4L * rows[i]);
            itemsIn.readFully(number);
            items[i] = ByteBuffer.wrap(number).order(ByteOrder.LITTLE_ENDIAN).getInt();
          }
        }
      }
      return new Rows(vectors, items, values, probes);
    } catch (java.io.EOFException e) {
      throw new IllegalStateException("List segment file " + file + " is truncated: it ends before its "
          + info.rows() + " rows", e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read list segment " + file, e);
    }
  }

  private static final int HEADER_BYTES = 7 * 4;

  private void checkHeader(Path file, Segment info, DataInputStream in) throws IOException {
    int[] header = new int[7];
    for (int k = 0; k < header.length; k++) {
      header[k] = in.readInt();
    }
    if (header[0] != MAGIC || header[1] != shape.dim() || header[2] != shape.nprobe()
        || header[3] != shape.assignments() || header[4] != shape.filters() || header[5] != info.rows()
        || header[6] != info.list()) {
      throw new IllegalStateException("List segment file " + file + " has header " + Arrays.toString(header)
          + ", expected a segment of list " + info.list() + " with " + info.rows() + " rows of " + shape
          + ": the file is not this search's");
    }
  }

  private static int[] unnumbered(int rows) {
    int[] items = new int[rows];
    Arrays.fill(items, -1);
    return items;
  }

  /** A segment's rows: replica numbers and ids. */
  record Ids(byte[] replicas, String[] ids) {}

  /** The replica numbers and ids of segment {@code s}'s rows. */
  Ids readIds(int s) {
    return readIds(segments[s]);
  }

  private Ids readIds(Segment info) {
    Path file = new Path(info.idsPath());
    try (FSDataInputStream stream = file.getFileSystem(conf()).open(file)) {
      DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(stream, 64 << 10));
      if (in.readInt() != MAGIC || in.readInt() != info.rows()) {
        throw new IllegalStateException("Id file " + file + " is not the one of a segment of " + info.rows() + " rows");
      }
      byte[] replicas = new byte[info.rows()];
      in.readFully(replicas);
      String[] ids = new String[info.rows()];
      for (int r = 0; r < ids.length; r++) {
        ids[r] = readString(in);
      }
      if (in.readInt() != MAGIC) {
        throw new IllegalStateException("Id file " + file + " is truncated or corrupt (bad trailer)");
      }
      return new Ids(replicas, ids);
    } catch (java.io.EOFException e) {
      throw new IllegalStateException("Id file " + file + " is truncated", e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read id file " + file, e);
    }
  }

  /** Writes the item numbers of one segment's rows as {@code file} (header, little-endian ints, trailer). */
  static void writeItems(FileSystem fs, Path file, int[] items) throws IOException {
    try (DataOutputStream out = new DataOutputStream(ScratchFiles.create(fs, file))) {
      out.writeInt(MAGIC);
      out.writeInt(items.length);
      writeInts(out, ByteBuffer.allocate(IO_CHUNK).order(ByteOrder.LITTLE_ENDIAN), items, items.length);
      out.writeInt(MAGIC);
    }
  }

  private int[] readItems(Segment info) {
    Path file = new Path(info.itemsPath());
    try (FSDataInputStream stream = file.getFileSystem(conf()).open(file)) {
      DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(stream, 64 << 10));
      if (in.readInt() != MAGIC || in.readInt() != info.rows()) {
        throw new IllegalStateException("Item number file " + file + " is not the one of a segment of "
            + info.rows() + " rows");
      }
      int[] items = new int[info.rows()];
      readInts(in, new byte[IO_CHUNK], items);
      if (in.readInt() != MAGIC) {
        throw new IllegalStateException("Item number file " + file + " is truncated or corrupt (bad trailer)");
      }
      return items;
    } catch (java.io.EOFException e) {
      throw new IllegalStateException("Item number file " + file + " is truncated", e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read item number file " + file, e);
    }
  }

  private static void readFloats(DataInputStream in, byte[] chunk, float[] out) throws IOException {
    java.nio.FloatBuffer floats = java.nio.FloatBuffer.wrap(out);
    for (int from = 0; from < out.length; from += IO_CHUNK / 4) {
      int n = Math.min(IO_CHUNK / 4, out.length - from);
      in.readFully(chunk, 0, 4 * n);
      floats.put(ByteBuffer.wrap(chunk, 0, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
    }
  }

  private static void readInts(DataInputStream in, byte[] chunk, int[] out) throws IOException {
    java.nio.IntBuffer ints = java.nio.IntBuffer.wrap(out);
    for (int from = 0; from < out.length; from += IO_CHUNK / 4) {
      int n = Math.min(IO_CHUNK / 4, out.length - from);
      in.readFully(chunk, 0, 4 * n);
      ints.put(ByteBuffer.wrap(chunk, 0, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer());
    }
  }

  private static String readString(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0) {
      return null;
    }
    byte[] bytes = new byte[length];
    in.readFully(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /**
   * Deletes the folder and its segments, forgets this JVM's cached copies and destroys the broadcast
   * configuration: call it on the driver once every computation reading the segments has been materialised.
   */
  void delete() {
    Cache.forget(dir);
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

  /**
   * Segments read recently by this JVM, least recently used dropped first, at most a sixteenth of the heap
   * and 128 MB: tasks of neighbouring lists read the same segments.
   */
  static final class Cache {
    static final long BUDGET = Math.min(128L << 20, Runtime.getRuntime().maxMemory() / 16);
    private static final LinkedHashMap<String, ListSegment> SEGMENTS = new LinkedHashMap<>(16, 0.75f, true);
    private static long bytes;

    private Cache() {}

    static synchronized ListSegment get(String path) {
      return SEGMENTS.get(path);
    }

    static synchronized void put(String path, ListSegment segment) {
      long size = segment.bytes();
      if (size > BUDGET || SEGMENTS.containsKey(path)) {
        return;
      }
      var it = SEGMENTS.values().iterator();
      while (bytes + size > BUDGET && it.hasNext()) {
        bytes -= it.next().bytes();
        it.remove();
      }
      SEGMENTS.put(path, segment);
      bytes += size;
    }

    static synchronized void forget(String prefix) {
      var it = SEGMENTS.entrySet().iterator();
      while (it.hasNext()) {
        var e = it.next();
        if (e.getKey().startsWith(prefix)) {
          bytes -= e.getValue().bytes();
          it.remove();
        }
      }
    }
  }
}
