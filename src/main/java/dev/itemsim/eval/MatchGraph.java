package dev.itemsim.eval;

import dev.itemsim.InvalidInputException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * The graph of true-match pairs: items are nodes, each pair an edge; its connected components are the groups
 * of items that are all (directly or through others) the same product. Ids of both sides share one namespace,
 * which can only merge components, never split them: a split by component never leaks.
 */
public final class MatchGraph {
  private final List<String[]> pairs;
  private final Map<String, String> parent = new HashMap<>();

  /** @param pairs {@code [id_a, id_b, ...]} rows; only the first two fields are read */
  public MatchGraph(List<String[]> pairs) {
    this.pairs = pairs;
    for (String[] p : pairs) {
      union(p[0], p[1]);
    }
  }

  private String find(String x) {
    String root = x;
    while (true) {
      String up = parent.getOrDefault(root, root);
      if (up.equals(root)) {
        break;
      }
      root = up;
    }
    for (String at = x; !at.equals(root); ) {
      String up = parent.get(at);
      parent.put(at, root);
      at = up;
    }
    return root;
  }

  private void union(String a, String b) {
    String ra = find(a);
    String rb = find(b);
    if (!ra.equals(rb)) {
      // the lower id becomes the root, so roots do not depend on the order of the pairs
      if (ra.compareTo(rb) < 0) {
        parent.put(rb, ra);
      } else {
        parent.put(ra, rb);
      }
    }
  }

  /** The component of {@code id}: the lowest id in it ({@code id} itself when it is in no pair). */
  public String component(String id) {
    return find(id);
  }

  /** Every item in a pair, by component (the component's lowest id), items sorted. */
  public Map<String, List<String>> components() {
    Map<String, List<String>> out = new TreeMap<>();
    for (String[] p : pairs) {
      for (int k = 0; k < 2; k++) {
        out.computeIfAbsent(find(p[k]), c -> new ArrayList<>()).add(p[k]);
      }
    }
    out.replaceAll((c, members) -> members.stream().distinct().sorted().toList());
    return out;
  }

  /** The pairs, split by component: no component (so no item, and no partner of one) is on both sides. */
  public record Split(List<String[]> train, List<String[]> test, int trainComponents, int testComponents) {}

  /**
   * Splits the pairs by component: components are ordered by their lowest id, shuffled with {@code seed}, and
   * given to the test side until it holds at least {@code testFraction} of the pairs; the rest are training
   * pairs. Pairs keep their input order on each side. The same pairs and seed always give the same split.
   */
  public Split split(double testFraction, long seed) {
    if (!(testFraction > 0 && testFraction < 1)) {
      throw new InvalidInputException("The test fraction must be between 0 and 1 (exclusive), got " + testFraction);
    }
    Map<String, Integer> pairsPerComponent = pairsPerComponent();
    List<String> order = shuffled(pairsPerComponent, seed);
    long target = Math.round(testFraction * pairs.size());
    Set<String> test = new HashSet<>();
    long testPairs = 0;
    for (String c : order) {
      if (testPairs >= target) {
        break;
      }
      test.add(c);
      testPairs += pairsPerComponent.get(c);
    }
    List<String[]> trainRows = new ArrayList<>();
    List<String[]> testRows = new ArrayList<>();
    for (String[] p : pairs) {
      (test.contains(find(p[0])) ? testRows : trainRows).add(p);
    }
    return new Split(trainRows, testRows, order.size() - test.size(), test.size());
  }

  /**
   * The pairs in {@code k} folds by component, for cross-fitting: components are taken in the order {@link #split}
   * uses for {@code seed}, each given to the fold holding the fewest pairs so far (the lower fold on ties). No
   * component is in two folds; pairs keep their input order within a fold; a fold may be empty when there are
   * fewer components than folds.
   */
  public List<List<String[]>> folds(int k, long seed) {
    if (k < 2) {
      throw new InvalidInputException("Cross-fitting needs at least 2 folds, got " + k);
    }
    Map<String, Integer> pairsPerComponent = pairsPerComponent();
    int[] sizes = new int[k];
    Map<String, Integer> foldOf = new HashMap<>();
    for (String c : shuffled(pairsPerComponent, seed)) {
      int smallest = 0;
      for (int f = 1; f < k; f++) {
        smallest = sizes[f] < sizes[smallest] ? f : smallest;
      }
      foldOf.put(c, smallest);
      sizes[smallest] += pairsPerComponent.get(c);
    }
    List<List<String[]>> out = new ArrayList<>();
    for (int f = 0; f < k; f++) {
      out.add(new ArrayList<>());
    }
    for (String[] p : pairs) {
      out.get(foldOf.get(find(p[0]))).add(p);
    }
    return out;
  }

  private Map<String, Integer> pairsPerComponent() {
    Map<String, Integer> out = new TreeMap<>();
    for (String[] p : pairs) {
      out.merge(find(p[0]), 1, Integer::sum);
    }
    return out;
  }

  /** The components (ordered by their lowest id) shuffled with {@code seed}. */
  private static List<String> shuffled(Map<String, Integer> pairsPerComponent, long seed) {
    List<String> order = new ArrayList<>(pairsPerComponent.keySet());
    Collections.shuffle(order, new Random(seed));
    return order;
  }

  /** Every item's component: all items of it, the item itself included. */
  public Map<String, Set<String>> componentMates() {
    Map<String, Set<String>> out = new LinkedHashMap<>();
    for (List<String> members : components().values()) {
      Set<String> all = Set.copyOf(members);
      for (String m : members) {
        out.put(m, all);
      }
    }
    return out;
  }
}
