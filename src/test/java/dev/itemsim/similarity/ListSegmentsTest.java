package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Tuple2;

class ListSegmentsTest {
  @TempDir
  Path scratch;

  /**
   * One writer task, lists of 9, 3 and 3 rows interleaved, segments of at most 4 rows: list 0 is cut at 4 rows,
   * and each time 8 rows are held the largest held list is written early (list 0's next 3 rows, then list 1), so
   * list 0 ends as segments of 4, 3 and 2 rows rather than 4, 4 and 1. Every row is written once, in its own
   * list, with its vector, filter value and item number.
   */
  @Test
  void aWriterHoldsBoundedRowsAndWritesEveryRowOnceInItsList() {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    ListSegments.Shape shape = new ListSegments.Shape(2, 1, 1, 1);
    int[] lists = {0, 0, 1, 0, 2, 0, 1, 0, 2, 0, 1, 0, 2, 0, 0};
    List<Tuple2<Integer, byte[]>> rows = new ArrayList<>();
    String[] names = new String[lists.length];
    for (int i = 0; i < lists.length; i++) {
      names[i] = String.format("item-%02d", i);
      rows.add(new Tuple2<>(lists[i], ListSegments.encode(shape, 0, names[i], new float[] {i, -i},
          new int[] {lists[i]}, new int[] {lists[i]}, new String[] {"v" + i})));
    }
    var sharedNames = jsc.broadcast(names);
    ListSegments segments = ListSegments.write(jsc.parallelizePairs(rows, 1), 1, 4, shape,
        scratch.resolve("lists").toString(), jsc.hadoopConfiguration(), sharedNames);
    try {
      Map<String, Integer> listOf = new HashMap<>();
      Map<Integer, List<Integer>> sizes = new java.util.TreeMap<>();
      for (int s = 0; s < segments.size(); s++) {
        ListSegments.Segment info = segments.segment(s);
        assertThat(info.rows()).isBetween(1, 4);
        ListSegment segment = segments.read(s);
        String[] ids = segments.readIds(s).ids();
        int[] all = new int[info.rows()];
        for (int r = 0; r < info.rows(); r++) {
          all[r] = r;
          int item = Integer.parseInt(ids[r].substring(5));
          assertThat(listOf.put(ids[r], info.list())).as("written once: " + ids[r]).isNull();
          assertThat(lists[item]).isEqualTo(info.list());
          assertThat(segment.vectors()[2 * r]).isEqualTo(item);
          assertThat(segment.vectors()[2 * r + 1]).isEqualTo(-item);
          assertThat(segment.items()[r]).isEqualTo(item);
          assertThat(segment.values()[0][r]).isEqualTo("v" + item);
        }
        ListSegments.Rows picked = segments.readRows(s, all);
        assertThat(picked.vectors()).containsExactly(java.util.Arrays.copyOf(segment.vectors(), 2 * info.rows()));
        assertThat(picked.items()).containsExactly(segment.items());
        assertThat(picked.values()[0]).containsExactly(segment.values()[0]);
        sizes.computeIfAbsent(info.list(), l -> new ArrayList<>()).add(info.rows());
      }
      assertThat(listOf).hasSize(lists.length);
      sizes.values().forEach(java.util.Collections::sort);
      assertThat(sizes).isEqualTo(Map.of(0, List.of(2, 3, 4), 1, List.of(3), 2, List.of(3)));
    } finally {
      segments.delete();
      sharedNames.destroy();
      ItemNumbers.forgetNumbers();
    }
  }

  /**
   * The shuffle delivers a list's rows in any order; the writer puts them in id order (replicas after), so a
   * segment's rows, and so the kernel's sums over them, are the same on every run.
   */
  @Test
  void aSegmentHoldsItsRowsInIdOrderWhateverOrderTheyCameIn() {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    ListSegments.Shape shape = new ListSegments.Shape(2, 1, 2, 0);
    String[] ids = {"b", "a10", "a9", "é", "a", "z"};
    List<Tuple2<Integer, byte[]>> rows = new ArrayList<>();
    for (int i = 0; i < ids.length; i++) {
      rows.add(new Tuple2<>(7, ListSegments.encode(shape, i % 2, ids[i], new float[] {i, i}, new int[] {7},
          new int[] {7, 8}, new String[0])));
    }
    rows.add(new Tuple2<>(7, ListSegments.encode(shape, 0, "a", new float[] {9, 9}, new int[] {7}, new int[] {7, 8},
        new String[0])));
    java.util.Collections.reverse(rows);
    ListSegments segments = ListSegments.write(jsc.parallelizePairs(rows, 1), 1, 16, shape,
        scratch.resolve("ordered").toString(), jsc.hadoopConfiguration());
    try {
      assertThat(segments.size()).isEqualTo(1);
      ListSegments.Ids written = segments.readIds(0);
      assertThat(written.ids()).containsExactly("a", "a", "a10", "a9", "b", "z", "é");
      assertThat(written.replicas()).containsExactly(0, 0, 1, 0, 0, 1, 1);
      assertThat(segments.read(0).vectors()).startsWith(9, 9, 4, 4);
    } finally {
      segments.delete();
    }
  }

  /**
   * The lists a segment's query rows probe and how many rows probe each, over the first {@code used} of their
   * stored probes, rows that do not rank (−1) left out: by brute force, for list numbers both dense (counted in
   * an array) and sparse (sorted).
   */
  @Test
  void probedListsAreCountedOverTheProbesUsed() {
    java.util.Random random = new java.util.Random(9);
    for (int lists : new int[] {5, 300, 50_000_000}) {
      int rows = 40;
      int stored = 4;
      int[] probes = new int[rows * stored];
      for (int r = 0; r < rows; r++) {
        for (int k = 0; k < stored; k++) {
          probes[r * stored + k] = r % 7 == 3 ? -1 : random.nextInt(lists);
        }
      }
      for (int used = 1; used <= stored; used++) {
        Map<Integer, Integer> expected = new java.util.TreeMap<>();
        for (int r = 0; r < rows; r++) {
          for (int k = 0; k < used; k++) {
            if (probes[r * stored + k] >= 0) {
              expected.merge(probes[r * stored + k], 1, Integer::sum);
            }
          }
        }
        ListSegments.Probed probed = ListSegments.Probed.count(probes, rows, stored, used);
        Map<Integer, Integer> got = new java.util.LinkedHashMap<>();
        for (int i = 0; i < probed.lists().length; i++) {
          got.put(probed.lists()[i], probed.counts()[i]);
        }
        assertThat(got).as("lists %d, used %d", lists, used).containsExactlyEntriesOf(expected);
      }
    }
  }

  /** Picking rows by seeking reads exactly the rows asked for, filter values included. */
  @Test
  void pickedRowsAreTheRowsAskedFor() {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    ListSegments.Shape shape = new ListSegments.Shape(3, 2, 1, 2);
    List<Tuple2<Integer, byte[]>> rows = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      rows.add(new Tuple2<>(7, ListSegments.encode(shape, 0, "id" + i, new float[] {i, i + 0.5f, -i},
          new int[] {7, 100 + i}, new int[] {7}, new String[] {"a" + i, i % 3 == 0 ? null : "b" + i})));
    }
    ListSegments segments = ListSegments.write(jsc.parallelizePairs(rows, 1), 1, 16, shape,
        scratch.resolve("picked").toString(), jsc.hadoopConfiguration());
    try {
      assertThat(segments.size()).isEqualTo(1);
      String[] ids = segments.readIds(0).ids();
      int[] wanted = {1, 4, 9};
      ListSegments.Rows picked = segments.readRows(0, wanted);
      for (int i = 0; i < wanted.length; i++) {
        int item = Integer.parseInt(ids[wanted[i]].substring(2));
        assertThat(java.util.Arrays.copyOfRange(picked.vectors(), 3 * i, 3 * i + 3))
            .containsExactly(item, item + 0.5f, -item);
        assertThat(picked.values()[0][i]).isEqualTo("a" + item);
        assertThat(picked.values()[1][i]).isEqualTo(item % 3 == 0 ? null : "b" + item);
        assertThat(picked.items()[i]).isEqualTo(-1);
        assertThat(java.util.Arrays.copyOfRange(picked.probes(), 2 * i, 2 * i + 2)).containsExactly(7, 100 + item);
      }
    } finally {
      segments.delete();
    }
  }

  /**
   * Segments read as probing fewer lists than stored: each query row keeps its nearest probes, and what the
   * plan reads of each segment (lists probed, rows probing each) is counted again for that many; rows that do
   * not rank (a further copy of an item) probe nothing either way. The stored probes stay readable in full.
   */
  @Test
  void probingFewerListsKeepsEachRowsNearestAndRecountsThePlan() {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    ListSegments.Shape shape = new ListSegments.Shape(2, 3, 2, 0);
    List<Tuple2<Integer, byte[]>> rows = new ArrayList<>();
    for (int i = 0; i < 6; i++) {  // rows i < 4 rank (probes 5, 10 + i % 2, 20 + i); rows 4, 5 are copies
      int[] probes = i < 4 ? new int[] {5, 10 + i % 2, 20 + i} : null;
      rows.add(new Tuple2<>(5, ListSegments.encode(shape, i < 4 ? 0 : 1, "id" + i, new float[] {i, 1}, probes,
          new int[] {5, 6}, new String[0])));
    }
    ListSegments stored = ListSegments.write(jsc.parallelizePairs(rows, 1), 1, 16, shape,
        scratch.resolve("probing").toString(), jsc.hadoopConfiguration());
    try {
      assertThat(stored.size()).isEqualTo(1);
      assertThat(stored.written().get(0).probedLists()).containsExactly(5, 10, 11, 20, 21, 22, 23);
      ListSegments two = stored.probing(jsc, 2);
      assertThat(two.probesUsed()).isEqualTo(2);
      assertThat(two.written().get(0).probedLists()).containsExactly(5, 10, 11);
      assertThat(two.written().get(0).probedCounts()).containsExactly(4, 2, 2);
      assertThat(stored.probing(jsc, 1).written().get(0).probedLists()).containsExactly(5);
      assertThat(stored.probing(jsc, 3).written().get(0).probedCounts()).containsExactly(4, 2, 2, 1, 1, 1, 1);

      ListSegment read = two.read(0);
      ListSegment full = stored.read(0);
      assertThat(read.nprobe()).isEqualTo(2);
      assertThat(full.nprobe()).as("the cache keeps the two apart").isEqualTo(3);
      String[] ids = two.readIds(0).ids();
      for (int r = 0; r < 6; r++) {
        int i = Integer.parseInt(ids[r].substring(2));
        int[] nearest = java.util.Arrays.copyOfRange(read.probes(), 2 * r, 2 * r + 2);
        assertThat(nearest).containsExactly(i < 4 ? new int[] {5, 10 + i % 2} : new int[] {-1, -1});
        assertThat(read.probes(r, 20 + i)).isFalse();
        assertThat(full.probes(r, 20 + i)).isEqualTo(i < 4);
      }
      assertThat(two.readProbes(0)).containsExactly(full.probes());
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> stored.probing(jsc, 4))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("store 3 probes");
    } finally {
      stored.delete();
    }
  }
}
