package dev.itemsim.similarity;

import dev.itemsim.InvalidInputException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.HashPartitioner;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Corpus items numbered in id order once they are laid out in lists: every row's id (read from the
 * segments' small id files, with where it lies) is sorted on the executors ({@link CollectedItems#compareIds},
 * Spark's string order), each distinct id gets its rank, and each segment gets a file of its rows' numbers.
 * Only ids and positions move, never vectors, and the driver holds one count per sort partition. Ties in a
 * top-N list go to the lower number, which is the lower id, as in exact search.
 */
final class ItemNumbers {
  /** Every corpus id with its item number. */
  static final StructType SCHEMA = new StructType()
      .add(SearchItems.ID, DataTypes.StringType, false)
      .add("_item", DataTypes.IntegerType, false);

  private static final Comparator<String> ID_ORDER = (Comparator<String> & Serializable) CollectedItems::compareIds;

  private ItemNumbers() {}

  /**
   * The numbered segments and every id with its number ({@link #SCHEMA}, persisted); {@code release} drops
   * the numbers and what their lineage reads, once nothing reads them any more.
   */
  record Numbered(ListSegments segments, Dataset<Row> numbers, Runnable release) {}

  /**
   * Numbers the items of {@code segments}; fails naming an id that two corpus rows share (an item stored in
   * several lists is one item: its copies have replica numbers 1, 2, …).
   */
  static Numbered assign(SparkSession spark, ListSegments segments) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int partitions = Math.max(jsc.defaultParallelism(), Math.min(segments.size(), 4 * jsc.defaultParallelism()));
    Broadcast<ListSegments> shared = jsc.broadcast(segments);
    boolean done = false;
    try {
      JavaPairRDD<String, Long> located = jsc.parallelize(IntStream.range(0, segments.size()).boxed().toList(),
              Math.max(1, Math.min(segments.size(), partitions)))
          .flatMapToPair(s -> {
            ListSegments.Ids ids = shared.value().readIds(s);
            List<Tuple2<String, Long>> out = new ArrayList<>(ids.ids().length);
            for (int r = 0; r < ids.ids().length; r++) {
              out.add(new Tuple2<>(ids.ids()[r], location(s, ids.replicas()[r], r)));
            }
            return out.iterator();
          });
      JavaPairRDD<String, Long> sorted = located.sortByKey(ID_ORDER, true, partitions);
      List<Long> distinct = sorted.mapPartitions(ItemNumbers::countDistinct).collect();
      long[] offsets = new long[distinct.size() + 1];
      for (int p = 0; p < distinct.size(); p++) {
        offsets[p + 1] = offsets[p] + distinct.get(p);
      }
      if (offsets[distinct.size()] >= Integer.MAX_VALUE) {
        throw new InvalidInputException("IVF search numbers corpus items with 32-bit integers: "
            + offsets[distinct.size()] + " items are too many");
      }
      String dir = segments.dir();
      List<Tuple2<Integer, String>> files = sorted
          .mapPartitionsWithIndex((p, it) -> numbered(it, offsets[p]), true)
          .mapToPair(t -> new Tuple2<>(segment(t._1()), (long) row(t._1()) << 32 | t._2()))
          .partitionBy(new HashPartitioner(partitions))
          .mapPartitions(it -> writeItems(it, shared.value(), dir, BlockFiles.attempt(TaskContext.get())))
          .collect();
      String[] paths = new String[segments.size()];
      files.forEach(f -> paths[f._1()] = f._2());
      for (int s = 0; s < paths.length; s++) {
        if (paths[s] == null) {
          throw new IllegalStateException("No item numbers were written for list segment " + s);
        }
      }
      JavaRDD<Row> names = sorted.mapPartitionsWithIndex((p, it) -> numbered(it, offsets[p]), true)
          .filter(t -> replica(t._1()) == 0)
          .map(t -> RowFactory.create(t._3(), (int) (long) t._2()));
      Dataset<Row> numbers = spark.createDataFrame(names, SCHEMA).persist(StorageLevel.MEMORY_AND_DISK());
      numbers.count();
      done = true;
      return new Numbered(segments.withItems(paths), numbers, () -> {
        numbers.unpersist();
        shared.destroy();
      });
    } finally {
      if (!done) {
        shared.destroy();
      }
    }
  }

  /**
   * Item numbers known on the driver, for corpora whose ids it may hold: the ids in id order, each once, so
   * that an item's number is its position ({@link #numbersById}). Fails naming an id two corpus rows share.
   */
  static String[] sortedOnDriver(List<String> ids) {
    String[] sorted = ids.toArray(String[]::new);
    java.util.Arrays.parallelSort(sorted, ID_ORDER);
    for (int i = 1; i < sorted.length; i++) {
      if (sorted[i].equals(sorted[i - 1])) {
        throw new InvalidInputException("Item id '" + sorted[i] + "' appears twice among the items to search");
      }
    }
    return sorted;
  }

  /** The array this JVM last numbered ids by, and its numbers by id: one pair at a time. */
  private static String[] numberedArray;
  private static java.util.Map<String, Integer> numbersOfArray;

  /**
   * Every id of {@code sorted} ({@link #sortedOnDriver}) to its number, built once per JVM for that array (a
   * broadcast value is one array per executor): a hash lookup per row instead of a binary search comparing
   * ids. The JVM holds the numbers of one array at a time (another array replaces them) until
   * {@link #forgetNumbers}.
   */
  static synchronized java.util.Map<String, Integer> numbersById(String[] sorted) {
    if (numberedArray != sorted) {
      java.util.Map<String, Integer> numbers = new java.util.HashMap<>(Math.max(16, sorted.length * 4 / 3 + 1));
      for (int i = 0; i < sorted.length; i++) {
        numbers.put(sorted[i], i);
      }
      numberedArray = sorted;
      numbersOfArray = numbers;
    }
    return numbersOfArray;
  }

  /** Lets go of the numbers this JVM holds ({@link #numbersById}); the next call builds them again. */
  static synchronized void forgetNumbers() {
    numberedArray = null;
    numbersOfArray = null;
  }

  /** Segment, replica and row of a membership in one long: segment in the high word, replica and row below. */
  private static long location(int segment, int replica, int row) {
    return (long) segment << 32 | (long) replica << 24 | row;
  }

  private static int segment(long location) {
    return (int) (location >>> 32);
  }

  private static int replica(long location) {
    return (int) (location >>> 24) & 0xff;
  }

  private static int row(long location) {
    return (int) location & 0xffffff;
  }

  /** Distinct ids of a sorted partition; fails on an id two corpus rows of replica 0 share. */
  private static Iterator<Long> countDistinct(Iterator<Tuple2<String, Long>> sorted) {
    long distinct = 0;
    String previous = null;
    boolean previousHasOriginal = false;
    while (sorted.hasNext()) {
      Tuple2<String, Long> t = sorted.next();
      boolean original = replica(t._2()) == 0;
      if (!t._1().equals(previous)) {
        distinct++;
        previous = t._1();
        previousHasOriginal = original;
      } else if (original) {
        if (previousHasOriginal) {
          throw new InvalidInputException("Item id '" + t._1() + "' appears twice among the items to search");
        }
        previousHasOriginal = true;
      }
    }
    return List.of(distinct).iterator();
  }

  /** (location, item number, id) of every row of a sorted partition whose first id is number {@code first}. */
  private static Iterator<scala.Tuple3<Long, Long, String>> numbered(Iterator<Tuple2<String, Long>> sorted,
      long first) {
    return new Iterator<>() {
      private String previous;
      private long next = first;

      @Override
      public boolean hasNext() {
        return sorted.hasNext();
      }

      @Override
      public scala.Tuple3<Long, Long, String> next() {
        Tuple2<String, Long> t = sorted.next();
        if (!t._1().equals(previous)) {
          previous = t._1();
          next++;
        }
        return new scala.Tuple3<>(t._2(), next - 1, t._1());
      }
    };
  }

  /** Writes one item number file per segment of the task's (segment, row << 32 | number) pairs; returns their paths. */
  private static Iterator<Tuple2<Integer, String>> writeItems(Iterator<Tuple2<Integer, Long>> rows,
      ListSegments segments, String dir, String attempt) throws java.io.IOException {
    Map<Integer, int[]> items = new HashMap<>();
    while (rows.hasNext()) {
      Tuple2<Integer, Long> t = rows.next();
      int[] numbers = items.computeIfAbsent(t._1(), s -> new int[segments.segment(s).rows()]);
      numbers[(int) (t._2() >>> 32)] = (int) (long) t._2();
    }
    FileSystem fs = new Path(dir).getFileSystem(segments.configuration());
    List<Tuple2<Integer, String>> out = new ArrayList<>();
    for (Map.Entry<Integer, int[]> e : items.entrySet()) {
      Path file = new Path(dir, String.format("items-%06d-%s", e.getKey(), attempt));
      ListSegments.writeItems(fs, file, e.getValue());
      out.add(new Tuple2<>(e.getKey(), file.toString()));
    }
    return out.iterator();
  }
}
