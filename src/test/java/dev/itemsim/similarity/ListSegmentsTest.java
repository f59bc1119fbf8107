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

  /** Picking rows by seeking reads exactly the rows asked for, filter values included. */
  @Test
  void pickedRowsAreTheRowsAskedFor() {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    ListSegments.Shape shape = new ListSegments.Shape(3, 2, 1, 2);
    List<Tuple2<Integer, byte[]>> rows = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      rows.add(new Tuple2<>(7, ListSegments.encode(shape, 0, "id" + i, new float[] {i, i + 0.5f, -i},
          new int[] {7, 3}, new int[] {7}, new String[] {"a" + i, i % 3 == 0 ? null : "b" + i})));
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
      }
    } finally {
      segments.delete();
    }
  }
}
