package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IvfPlanTest {
  private static final int BLOCK = 64;

  /**
   * One list holds half the items (ten segments of a block), nine lists a block each; every query segment
   * probes its own list and the next. The big list's work is spread: no task computes more than its share.
   */
  @Test
  void aListHoldingHalfTheItemsIsSpreadOverTasksOfBoundedWork() {
    List<ListSegments.Written> segments = new ArrayList<>();
    Map<Integer, List<Integer>> byList = new LinkedHashMap<>();
    for (int list = 0; list < 10; list++) {
      int count = list == 0 ? 10 : 1;
      for (int c = 0; c < count; c++) {
        byList.computeIfAbsent(list, l -> new ArrayList<>()).add(segments.size());
        ListSegments.Segment segment =
            new ListSegments.Segment(list, BLOCK, BLOCK, "seg-" + segments.size(), null, null);
        segments.add(new ListSegments.Written(segment, new int[] {list, (list + 1) % 10},
            new int[] {BLOCK, BLOCK / 2}));
      }
    }
    Map<Integer, int[]> corpusByList = new LinkedHashMap<>();
    byList.forEach((l, s) -> corpusByList.put(l, s.stream().mapToInt(Integer::intValue).toArray()));
    int[] rows = segments.stream().mapToInt(w -> w.segment().rows()).toArray();

    IvfPlan plan = IvfPlan.of(segments, corpusByList, rows, 8);

    long expected = 0;
    Set<String> seen = new HashSet<>();
    int unitsOfBigList = 0;
    for (IvfPlan.Task task : plan.tasks()) {
      long cost = 0;
      boolean big = false;
      for (IvfPlan.Unit u : task.units()) {
        assertThat(seen.add(u.querySegment() + "x" + u.corpusSegment())).as("unit computed once").isTrue();
        cost += u.cost();
        big |= u.list() == 0;
      }
      assertThat(task.cost()).isEqualTo(cost);
      assertThat(cost).as("a task's share").isLessThanOrEqualTo(Math.max(plan.budget(), plan.largestUnit()));
      unitsOfBigList += big ? 1 : 0;
    }
    for (ListSegments.Written w : segments) {
      for (int k = 0; k < w.probedLists().length; k++) {
        expected += (long) w.probedCounts()[k] * BLOCK * corpusByList.get(w.probedLists()[k]).length;
      }
    }
    assertThat(plan.totalCost()).isEqualTo(expected);
    assertThat(plan.largestUnit()).isLessThanOrEqualTo((long) BLOCK * BLOCK);
    assertThat(plan.tasks()).hasSizeGreaterThanOrEqualTo(8);
    assertThat(unitsOfBigList).as("tasks working on the big list").isGreaterThanOrEqualTo(4);
    assertThat(plan.tasks()).isSortedAccordingTo((a, b) -> Long.compare(b.cost(), a.cost()));
    assertThat(plan.largestTask()).isEqualTo(plan.tasks().get(0).cost());
  }

  @Test
  void listsWithoutItemsAreSkipped() {
    List<ListSegments.Written> queries = List.of(new ListSegments.Written(
        new ListSegments.Segment(0, 10, 10, "q", null, null), new int[] {0, 7}, new int[] {10, 3}));
    IvfPlan plan = IvfPlan.of(queries, Map.of(0, new int[] {0}), new int[] {20}, 4);
    assertThat(plan.tasks()).hasSize(1);
    assertThat(plan.totalCost()).isEqualTo(200);
  }
}
