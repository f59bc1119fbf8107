package dev.itemsim.similarity;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * How good approximate lists are: the exact top-N of a sample of queries against the whole corpus, with the
 * exact search's kernel, scan and rules (self excluded, filters), from the list segments the approximate
 * search wrote (each item counted once, in its nearest list), and the share of those exact neighbours the
 * approximate lists found: recall@N.
 */
final class SampledRecall {
  private static final Logger LOG = LoggerFactory.getLogger(SampledRecall.class);

  private SampledRecall() {}

  /**
   * Sampled queries: their vectors (rows × dim), item numbers (−1 for queries of another catalogue), ids,
   * filter values (one array per filter column), where each is among the query lists (segment and row), the
   * lists each would probe (rows × {@code stored}, nearest first: every probe the layout stored).
   */
  record Sample(float[] vectors, int dim, int[] items, String[] ids, String[][] values, int[] segments, int[] rows,
      int[] probes, int stored) implements Serializable {
    int size() {
      return ids.length;
    }
  }

  /** Found exact neighbours over all exact neighbours of the sampled queries; null without any. */
  record Result(int queries, long exactNeighbors, long found) {
    Double recall() {
      return exactNeighbors == 0 ? null : (double) found / exactNeighbors;
    }
  }

  /**
   * {@code size} query rows of {@code queries} drawn at random with {@code seed} (all of them when there are
   * fewer), read from their segments: no pass over the catalogue. Query rows are the rows that probe lists
   * (an item's copy in its nearest list).
   */
  static Sample sample(JavaSparkContext jsc, Broadcast<ListSegments> queries, int size, long seed) {
    ListSegments segments = queries.value();
    long total = 0;
    for (int s = 0; s < segments.size(); s++) {
      total += segments.segment(s).queryRows();
    }
    int n = (int) Math.min(size, total);
    // Floyd's algorithm: n distinct positions among all query rows, in O(n) memory
    java.util.Random random = new java.util.Random(seed);
    Set<Long> chosen = new HashSet<>(2 * n);
    for (long j = total - n; j < total; j++) {
      long t = (long) (random.nextDouble() * (j + 1));
      chosen.add(chosen.contains(t) ? j : t);
    }
    long[] positions = chosen.stream().mapToLong(Long::longValue).sorted().toArray();
    List<Tuple2<Integer, int[]>> picks = new ArrayList<>();
    long before = 0;
    int next = 0;
    for (int s = 0; s < segments.size() && next < positions.length; s++) {
      long end = before + segments.segment(s).queryRows();
      List<Integer> ordinals = new ArrayList<>();
      while (next < positions.length && positions[next] < end) {
        ordinals.add((int) (positions[next++] - before));
      }
      if (!ordinals.isEmpty()) {
        picks.add(new Tuple2<>(s, ordinals.stream().mapToInt(Integer::intValue).toArray()));
      }
      before = end;
    }
    int dim = segments.shape().dim();
    int filters = segments.shape().filters();
    List<Picked> rows = new ArrayList<>(jsc.parallelize(picks, Math.max(1, Math.min(picks.size(),
        4 * jsc.defaultParallelism()))).flatMap(p -> picked(p._1(), queries.value(), p._2())).collect());
    rows.sort(Comparator.comparing(Picked::id, CollectedItems::compareIds));
    float[] vectors = new float[rows.size() * dim];
    int[] items = new int[rows.size()];
    String[] ids = new String[rows.size()];
    String[][] values = new String[filters][rows.size()];
    int[] segmentOf = new int[rows.size()];
    int[] rowOf = new int[rows.size()];
    int stored = segments.shape().nprobe();
    int[] probes = new int[rows.size() * stored];
    for (int q = 0; q < rows.size(); q++) {
      Picked r = rows.get(q);
      segmentOf[q] = r.segment();
      rowOf[q] = r.row();
      System.arraycopy(r.probes(), 0, probes, q * stored, stored);
      System.arraycopy(r.vector(), 0, vectors, q * dim, dim);
      items[q] = r.item();
      ids[q] = r.id();
      for (int k = 0; k < filters; k++) {
        values[k][q] = r.values()[k];
      }
    }
    return new Sample(vectors, dim, items, ids, values, segmentOf, rowOf, probes, stored);
  }

  /** One sampled query row: id, item number, vector, filter values, segment and row, stored probes. */
  private record Picked(String id, int item, float[] vector, String[] values, int segment, int row, int[] probes)
      implements Serializable {}

  /**
   * The query rows (replica 0) of segment {@code s} whose ordinals among its query rows are {@code ordinals}
   * (ascending): the segment's ids, and only the picked rows' vectors, numbers and filter values.
   */
  private static java.util.Iterator<Picked> picked(int s, ListSegments segments, int[] ordinals) {
    ListSegments.Ids ids = segments.readIds(s);
    int[] rows = new int[ordinals.length];
    int next = 0;
    for (int r = 0, ordinal = 0; r < ids.ids().length && next < ordinals.length; r++) {
      if (ids.replicas()[r] != 0) {
        continue;  // a copy of an item stored in several lists: it ranks through its nearest list
      }
      if (ordinal++ == ordinals[next]) {
        rows[next++] = r;
      }
    }
    if (next != ordinals.length) {  // the writers count query rows as rows that probe: those are replica 0
      throw new IllegalStateException("Segment " + s + " has " + next + " rows of replica 0 where " + ordinals.length
          + " query rows were picked: its query rows are not its replica-0 rows");
    }
    ListSegments.Rows read = segments.readRows(s, rows);
    int dim = segments.shape().dim();
    int stored = segments.shape().nprobe();
    List<Picked> out = new ArrayList<>(next);
    for (int i = 0; i < next; i++) {
      String[] values = new String[read.values().length];
      for (int k = 0; k < values.length; k++) {
        values[k] = read.values()[k][i];
      }
      out.add(new Picked(ids.ids()[rows[i]], read.items()[i], java.util.Arrays.copyOfRange(read.vectors(), i * dim,
          (i + 1) * dim), values, s, rows[i], java.util.Arrays.copyOfRange(read.probes(), i * stored,
          (i + 1) * stored)));
    }
    return out.iterator();
  }

  /**
   * Exact lists of the sampled queries ({@code top}: rows follow the sample, neighbours are item numbers) and the
   * lists every listed neighbour is stored in ({@code listsOf}: item number → its lists, nearest first).
   */
  record Exact(TopNBuffer top, HashMap<Integer, int[]> listsOf, long pairsInReach, long pairs)
      implements Serializable {
    /** No (query, segment) pair counted: {@code pairsInReach} of {@code pairs} were multiplied, for the log. */
    Exact(TopNBuffer top, HashMap<Integer, int[]> listsOf) {
      this(top, listsOf, 0, 0);
    }

    Exact mergeFrom(Exact other) {
      top.mergeFrom(other.top);
      listsOf.putAll(other.listsOf);
      return new Exact(top, listsOf, pairsInReach + other.pairsInReach, pairs + other.pairs);
    }
  }

  /**
   * The exact top-{@code topN} of every sampled query over {@code corpus}, with the lists its neighbours are
   * stored in. Tasks take whole segments, about {@code 4 × parallelism} of them, and report their
   * kernel to {@code usage} (null: none).
   *
   * <p>With {@code floors} (null: every segment is multiplied by every query), a segment is multiplied only by
   * the queries it may hold a neighbour for: {@code floors[q]} is a score the exact N-th neighbour of query
   * {@code q} reaches for sure (its approximate N-th score, or −∞), and a segment whose rows cannot score that
   * high with the query, by how far they lie from their list's centroid ({@code centroids}, the lists' unit
   * centroids), is left out for it ({@link Reach}). The lists are those of the full product.
   */
  static Exact exact(JavaSparkContext jsc, Broadcast<ListSegments> corpus, Sample sample, float[] floors,
      Broadcast<VectorBlocks> centroids, int topN, String kernelName, KernelUsage usage, boolean self, int same,
      int exclude) {
    ListSegments segments = corpus.value();
    List<int[]> groups = groups(segments, 4 * jsc.defaultParallelism());
    Broadcast<Sample> shared = jsc.broadcast(sample);
    Broadcast<float[]> sharedFloors = floors == null ? null : jsc.broadcast(floors);
    try {
      Exact exact = jsc.parallelize(groups, Math.max(1, groups.size()))
          .map(group -> exactOver(corpus.value(), group, shared.value(),
              sharedFloors == null ? null : sharedFloors.value(), centroids == null ? null : centroids.value(),
              topN, KernelUsage.select(usage, kernelName), self, same, exclude))
          .reduce(Exact::mergeFrom);
      if (floors != null) {
        LOG.info("Exact lists of {} sampled queries: {} of the {} (query, segment) pairs within reach of the "
            + "queries' floors ({}; segments holding only copies of items stored in several lists left out)",
            sample.size(), exact.pairsInReach(), exact.pairs(),
            String.format(Locale.ROOT, "%.1f%%", 100.0 * exact.pairsInReach() / Math.max(1, exact.pairs())));
      }
      return exact;
    } finally {
      shared.destroy();
      if (sharedFloors != null) {
        sharedFloors.destroy();
      }
    }
  }

  /** Segment numbers in about {@code tasks} groups of similar row counts. */
  private static List<int[]> groups(ListSegments segments, int tasks) {
    long rows = 0;
    for (int s = 0; s < segments.size(); s++) {
      rows += segments.segment(s).rows();
    }
    long perGroup = Math.max(1, (rows + tasks - 1) / tasks);
    List<int[]> groups = new ArrayList<>();
    List<Integer> current = new ArrayList<>();
    long size = 0;
    for (int s = 0; s < segments.size(); s++) {
      current.add(s);
      size += segments.segment(s).rows();
      if (size >= perGroup) {
        groups.add(current.stream().mapToInt(Integer::intValue).toArray());
        current.clear();
        size = 0;
      }
    }
    if (!current.isEmpty()) {
      groups.add(current.stream().mapToInt(Integer::intValue).toArray());
    }
    return groups;
  }

  private static Exact exactOver(ListSegments corpus, int[] group, Sample sample, float[] floors,
      VectorBlocks centroids, int topN, MatMulKernel kernel, boolean self, int same, int exclude) {
    TopNBuffer top = new TopNBuffer(sample.size(), topN);
    List<ListSegment> scored = new ArrayList<>();
    long pairsInReach = 0;
    long pairs = 0;
    float[] product = IvfScan.productBuffer();
    double[] norms = new double[sample.size()];
    int[] all = new int[sample.size()];
    for (int q = 0; q < norms.length; q++) {
      all[q] = q;
      norms[q] = floors == null ? 0 : Math.sqrt(Reach.dot(sample.vectors(), q * sample.dim(), sample.vectors(),
          q * sample.dim(), sample.dim()));
    }
    for (int s : group) {
      ListSegment c = corpus.read(s);
      int[] nearestRows = nearestListRows(c);
      if (nearestRows.length == 0) {
        continue;
      }
      IvfTaskRunner.Gathered nearest = IvfTaskRunner.Gathered.of(c, nearestRows);
      int[] queries = all;
      if (floors != null) {
        float[] centroid = centroids.vector(c.list());
        queries = Reach.of(nearest, c.dim(), centroid).queries(sample, norms, centroid, floors);
      }
      pairsInReach += queries.length;
      pairs += sample.size();
      if (queries.length == 0) {
        continue;
      }
      scored.add(c);
      float[] vectors = queries == all ? sample.vectors()
          : IvfTaskRunner.Gathered.of(sample.vectors(), sample.dim(), queries).vectors();
      score(vectors, queries, nearest, c.items(), sample.dim(), kernel, product, top,
          allowed(self ? sample.items() : null, sample.values(), c, same, exclude));
    }
    return new Exact(top, listsOf(top, scored), pairsInReach, pairs);
  }

  /**
   * The pairs (sampled query, row of {@code c}) exact search ranks: never the query's own item ({@code items}: the
   * queries' item numbers; null for queries of another catalogue), and only as the filters allow.
   */
  private static IvfScan.Check allowed(int[] items, String[][] values, ListSegment c, int same, int exclude) {
    return (q, cr) -> !(items != null && items[q] == c.items()[cr])
        && IvfScan.filtersAllow(values, q, c.values(), cr, same, exclude);
  }

  /**
   * Offers every product of the query rows ({@code vectors}, row i being sampled query {@code queries[i]}) with
   * the segment rows {@code rows} (item numbers in {@code items}) that {@code check} allows to {@code top}, in
   * strips and tiles as exact search multiplies blocks.
   */
  private static void score(float[] vectors, int[] queries, IvfTaskRunner.Gathered rows, int[] items, int dim,
      MatMulKernel kernel, float[] product, TopNBuffer top, IvfScan.Check check) {
    for (int from = 0; from < queries.length; from += BlockTaskRunner.STRIP_ROWS) {
      int strip = Math.min(BlockTaskRunner.STRIP_ROWS, queries.length - from);
      for (int col = 0; col < rows.count(); col += BlockTaskRunner.TILE_COLUMNS) {
        int cols = Math.min(BlockTaskRunner.TILE_COLUMNS, rows.count() - col);
        kernel.multiplyTransposed(vectors, from, strip, rows.vectors(), col, cols, dim, product);
        IvfScan.scan(product, strip, cols, queries, from, rows.rows(), col, items, top, check);
      }
    }
  }

  /** A row the scan drew for the recall sample: its draw key, id, vector and filter values. */
  record Drawn(long key, String id, float[] vector, String[] values) implements Serializable {}

  /** Drawn rows by key, ties to the lower id: the draw keeps the first {@code size}. */
  private static final Comparator<Drawn> BY_KEY = Comparator.comparingLong(Drawn::key)
      .thenComparing(Drawn::id, CollectedItems::compareIds);

  /**
   * Draws the recall sample in the scan's pass over the corpus: the {@code size} rows whose ids have the
   * smallest keys ({@link #key}: the id hashed with {@code seed}, ties to the lower id), a random sample of the
   * distinct ids that does not depend on how the rows are partitioned or ordered. Each scan task keeps its own
   * smallest ({@link #copy}, {@link #offer}, {@link #rows}), the driver the smallest of all ({@link #smallest}).
   * Of {@code rows} rows, a task keeps only keys below the share {@code (size + 8·√size + 32) / rows} of the key
   * range, so the driver receives about that many rows whatever the number of tasks; fewer than {@code size}
   * fall under it with a probability below 10⁻⁸ (Chernoff's bound), and {@link #smallest} then returns fewer.
   */
  static final class Draw implements Serializable {
    private final int size;
    private final long seed;
    private final long bound;
    private transient java.util.PriorityQueue<Drawn> kept;  // the largest key at the head

    /** @param rows the rows the scan will offer (the corpus count) */
    Draw(int size, long seed, long rows) {
      this(keyBound(size, rows), size, seed);
    }

    private Draw(long bound, int size, long seed) {
      if (size < 1) {
        throw new IllegalArgumentException("A recall sample holds at least one row: " + size);
      }
      this.size = size;
      this.seed = seed;
      this.bound = bound;
    }

    private static long keyBound(int size, long rows) {
      double share = (size + 8 * Math.sqrt(size) + 32) / Math.max(1, rows);
      return share >= 1 ? Long.MAX_VALUE : (long) (share * 0x1p63);
    }

    /** An empty draw of the same size, seed and key bound, for one task. */
    Draw copy() {
      return new Draw(bound, size, seed);
    }

    /**
     * Keeps the row when its key is among the {@code size} smallest offered to this draw; its filter values as
     * the list files store them (blank as missing).
     */
    void offer(String id, org.apache.spark.sql.catalyst.util.ArrayData vector, String[] values) {
      long key = key(id, seed);
      if (key > bound) {
        return;
      }
      if (kept == null) {
        kept = new java.util.PriorityQueue<>(size, BY_KEY.reversed());
      }
      if (kept.size() == size) {
        Drawn largest = kept.peek();
        if (key > largest.key() || key == largest.key() && CollectedItems.compareIds(id, largest.id()) >= 0) {
          return;
        }
        kept.poll();
      }
      String[] stored = new String[values.length];
      for (int k = 0; k < values.length; k++) {
        stored[k] = values[k] == null || values[k].isBlank() ? null : values[k];
      }
      kept.add(new Drawn(key, id, CollectedItems.floats(vector, id), stored));
    }

    /** The rows kept so far. */
    List<Drawn> rows() {
      return kept == null ? List.of() : new ArrayList<>(kept);
    }

    /** The {@code size} rows of smallest key among {@code drawn} (the tasks' rows), in id order. */
    List<Drawn> smallest(List<Drawn> drawn) {
      List<Drawn> out = new ArrayList<>(drawn);
      out.sort(BY_KEY);
      out = new ArrayList<>(out.subList(0, Math.min(size, out.size())));
      out.sort(Comparator.comparing(Drawn::id, CollectedItems::compareIds));
      return out;
    }
  }

  /**
   * A 63-bit key of {@code id} under {@code seed} (never negative): FNV-1a over its characters, mixed with the seed
   * (SplitMix64's finaliser).
   */
  static long key(String id, long seed) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < id.length(); i++) {
      h = (h ^ id.charAt(i)) * 0x100000001b3L;
    }
    long z = h + seed * 0x9e3779b97f4a7c15L;
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return (z ^ (z >>> 31)) >>> 1;
  }

  /** The recall sample and its exact lists, measured while the corpus lists were written ({@link Fused}). */
  record Measured(Sample sample, Exact exact) {}

  /**
   * The exact lists of a recall sample drawn by the scan ({@link Draw}), computed as the corpus lists are
   * written, when the queries are the corpus (one catalogue) and the writers number the rows: each segment's
   * rows stored in their item's nearest list are scored against every sampled query with the exact pass's
   * kernel, rules and tie order ({@link #exact}), so no pass reads the lists again. The writers also note where
   * each sampled item's query row went and the lists it probes ({@link #measured}).
   */
  static final class Fused implements ListSegments.Tap {
    /** Rows' lists a writer task holds before trimming them to its partial lists' rows; 0: its default. Tests lower it. */
    static volatile int trimListsAbove = 0;
    private final float[] vectors;
    private final int dim;
    private final int[] items;
    private final String[] ids;
    private final String[][] values;
    private final int topN;
    private final String kernelName;
    private final KernelUsage usage;
    private final int same;
    private final int exclude;

    /**
     * @param drawn the sampled rows, in id order
     * @param names every corpus id in id order (the rows' numbers)
     * @param usage where the kernel's use is counted (null: nowhere)
     */
    Fused(List<Drawn> drawn, int dim, String[] names, int topN, String kernelName, KernelUsage usage, int same,
        int exclude) {
      int size = drawn.size();
      int filters = size == 0 ? 0 : drawn.get(0).values().length;
      this.vectors = new float[size * dim];
      this.items = new int[size];
      this.ids = new String[size];
      this.values = new String[filters][size];
      for (int q = 0; q < size; q++) {
        Drawn d = drawn.get(q);
        if (d.vector().length != dim) {
          throw new IllegalArgumentException("The vector of sampled item '" + d.id() + "' has length "
              + d.vector().length + ", expected " + dim);
        }
        System.arraycopy(d.vector(), 0, vectors, q * dim, dim);
        ids[q] = d.id();
        items[q] = java.util.Arrays.binarySearch(names, d.id(), CollectedItems::compareIds);
        if (items[q] < 0) {
          throw new IllegalStateException("Sampled item '" + d.id() + "' is not among the corpus ids");
        }
        for (int k = 0; k < filters; k++) {
          values[k][q] = d.values()[k];
        }
      }
      this.dim = dim;
      this.topN = topN;
      this.kernelName = kernelName;
      this.usage = usage;
      this.same = same;
      this.exclude = exclude;
    }

    @Override
    public ListSegments.Tap.Task open() {
      return new Scoring();
    }

    /** One writer task's share: partial exact lists, the lists of its rows, the sampled rows it wrote. */
    private final class Scoring implements ListSegments.Tap.Task {
      private final TopNBuffer top = new TopNBuffer(ids.length, topN);
      private final HashMap<Integer, int[]> listsOf = new HashMap<>();
      private final ArrayList<Found> found = new ArrayList<>();
      private final MatMulKernel kernel = KernelUsage.select(usage, kernelName);
      private final float[] product = IvfScan.productBuffer();
      private final int[] all = java.util.stream.IntStream.range(0, ids.length).toArray();
      private final Map<String, Integer> sampled = new HashMap<>(2 * ids.length);
      /** Rows' lists held before those of rows out of the partial lists are let go. */
      private final int trimAt = trimListsAbove > 0 ? trimListsAbove : 4 * ids.length * topN + 65_536;

      Scoring() {
        for (int q = 0; q < ids.length; q++) {
          sampled.put(ids[q], q);
        }
      }

      @Override
      public void written(ListSegment c, String[] rowIds, String path) {
        int[] nearestRows = nearestListRows(c);
        if (nearestRows.length == 0 || ids.length == 0) {
          return;
        }
        IvfTaskRunner.Gathered nearest = IvfTaskRunner.Gathered.of(c, nearestRows);
        score(vectors, all, nearest, c.items(), dim, kernel, product, top, allowed(items, values, c, same, exclude));
        int a = c.assignments();
        for (int r : nearestRows) {
          listsOf.put(c.items()[r], java.util.Arrays.copyOfRange(c.lists(), r * a, (r + 1) * a));
          Integer q = sampled.get(rowIds[r]);
          if (q != null) {
            found.add(new Found(q, path, r, java.util.Arrays.copyOfRange(c.probes(), r * c.nprobe(),
                (r + 1) * c.nprobe())));
          }
        }
        if (listsOf.size() > trimAt) {  // a row out of the partial lists now never enters them again
          listsOf.keySet().retainAll(listed(top));
        }
      }

      @Override
      public Serializable result() {
        Set<Integer> listed = listed(top);
        listsOf.keySet().retainAll(listed);
        return new Part(new Exact(top, listsOf), found);
      }
    }

    /**
     * The sample and its exact lists from the writer tasks' results ({@code results}, in any order) over the
     * segments they wrote ({@code written}): every sampled item's query row must have been written once.
     */
    Measured measured(ListSegments written, List<Serializable> results, int stored) {
      Map<String, Integer> segmentOf = new HashMap<>();
      for (int s = 0; s < written.size(); s++) {
        segmentOf.put(written.segment(s).path(), s);
      }
      Exact exact = new Exact(new TopNBuffer(ids.length, topN), new HashMap<>());
      int[] segments = new int[ids.length];
      int[] rows = new int[ids.length];
      int[] probes = new int[ids.length * stored];
      java.util.Arrays.fill(segments, -1);
      for (Serializable result : results) {
        Part part = (Part) result;
        exact = exact.mergeFrom(part.exact());
        for (Found f : part.found()) {
          if (segments[f.query()] >= 0) {
            throw new IllegalStateException("Sampled item '" + ids[f.query()] + "' was written twice as a query row");
          }
          segments[f.query()] = segmentOf.get(f.path());
          rows[f.query()] = f.row();
          System.arraycopy(f.probes(), 0, probes, f.query() * stored, stored);
        }
      }
      for (int q = 0; q < ids.length; q++) {
        if (segments[q] < 0) {
          throw new IllegalStateException("Sampled item '" + ids[q] + "' was not written as a query row");
        }
      }
      return new Measured(new Sample(vectors, dim, items, ids, values, segments, rows, probes, stored), exact);
    }
  }

  /** A sampled item's query row as written: the sample row, its segment's path, its row there, its probes. */
  private record Found(int query, String path, int row, int[] probes) implements Serializable {}

  /** One writer task's result: its partial exact lists and the sampled query rows it wrote. */
  private record Part(Exact exact, ArrayList<Found> found) implements Serializable {}

  /** The lists the neighbours in {@code top} are stored in, read from their replica-0 rows among {@code scored}. */
  private static HashMap<Integer, int[]> listsOf(TopNBuffer top, List<ListSegment> scored) {
    Set<Integer> listed = listed(top);
    HashMap<Integer, int[]> out = new HashMap<>();
    for (ListSegment c : scored) {
      for (int r = 0; r < c.rows(); r++) {
        if (c.replicas()[r] == 0 && listed.contains(c.items()[r])) {
          out.put(c.items()[r], java.util.Arrays.copyOfRange(c.lists(), r * c.assignments(),
              (r + 1) * c.assignments()));
        }
      }
    }
    return out;
  }

  /** The neighbours listed in {@code top}. */
  private static Set<Integer> listed(TopNBuffer top) {
    Set<Integer> listed = new HashSet<>();
    int[] neighbors = new int[top.n()];
    float[] scores = new float[top.n()];
    for (int q = 0; q < top.rows(); q++) {
      int count = top.sorted(q, neighbors, scores);
      for (int k = 0; k < count; k++) {
        listed.add(neighbors[k]);
      }
    }
    return listed;
  }

  /**
   * How far a segment's rows lie from their list's centroid (of norm {@code centroidNorm}): the lowest cosine of
   * a non-zero row with it, and the rows' smallest and largest norms. By the triangle inequality on the sphere, a
   * query at angle θ from the centroid is at least {@code θ − acos(minCosine)} from every row, which bounds its
   * dot products with them.
   */
  record Reach(double centroidNorm, double minCosine, double minNorm, double maxNorm) {
    /**
     * Slack on a bound, relative to the query's and the largest row's norms: covers the rounding of float32
     * products (of the order of dim × 2⁻²⁴), by which the search's and this pass's scores of one pair may differ.
     * Kernels of lower precision (TF32, bf16) would need more.
     */
    static final double SLACK = 1e-3;

    static Reach of(IvfTaskRunner.Gathered rows, int dim, float[] centroid) {
      double centroidNorm = Math.sqrt(dot(centroid, 0, centroid, 0, dim));
      double minCosine = 1;
      double minNorm = Double.POSITIVE_INFINITY;
      double maxNorm = 0;
      for (int r = 0; r < rows.count(); r++) {
        double norm = Math.sqrt(dot(rows.vectors(), r * dim, rows.vectors(), r * dim, dim));
        minNorm = Math.min(minNorm, norm);
        maxNorm = Math.max(maxNorm, norm);
        if (norm > 0 && centroidNorm > 0) {
          minCosine = Math.min(minCosine, dot(rows.vectors(), r * dim, centroid, 0, dim) / (norm * centroidNorm));
        }
      }
      return new Reach(centroidNorm, centroidNorm > 0 ? minCosine : -1, minNorm, maxNorm);
    }

    /** The sampled queries ({@code norms}: their norms) that may score {@code floors[q]} with one of the rows. */
    int[] queries(Sample sample, double[] norms, float[] centroid, float[] floors) {
      int dim = sample.dim();
      int[] out = new int[sample.size()];
      int count = 0;
      for (int q = 0; q < sample.size(); q++) {
        double cosine = norms[q] > 0 && centroidNorm > 0
            ? dot(sample.vectors(), q * dim, centroid, 0, dim) / (norms[q] * centroidNorm) : -1;
        if (mayReach(cosine, norms[q], floors[q])) {
          out[count++] = q;
        }
      }
      return java.util.Arrays.copyOf(out, count);
    }

    /**
     * Whether a query of norm {@code norm} at cosine {@code cosine} from the centroid may score at least
     * {@code floor} with a row: a zero query, no floor, or a bound that is not a number (a non-finite vector)
     * always may. A zero centroid gives a radius of π, so the bound is Cauchy–Schwarz's.
     */
    boolean mayReach(double cosine, double norm, float floor) {
      if (floor == Float.NEGATIVE_INFINITY || norm == 0) {
        return true;
      }
      double theta = Math.acos(Math.max(-1, Math.min(1, cosine)));
      double radius = Math.acos(Math.max(-1, Math.min(1, minCosine)));
      double cosineBound = theta <= radius ? 1 : Math.cos(theta - radius);
      double bound = norm * (cosineBound >= 0 ? maxNorm * cosineBound : minNorm * cosineBound);
      return !(bound + SLACK * norm * maxNorm < floor);
    }

    static double dot(float[] a, int at, float[] b, int bt, int dim) {
      double s = 0;
      for (int k = 0; k < dim; k++) {
        s += (double) a[at + k] * b[bt + k];
      }
      return s;
    }
  }

  /** Rows stored in their item's nearest list (replica 0): every item exactly once over all segments. */
  private static int[] nearestListRows(ListSegment c) {
    int count = 0;
    for (int r = 0; r < c.rows(); r++) {
      count += c.replicas()[r] == 0 ? 1 : 0;
    }
    int[] rows = new int[count];
    for (int r = 0, i = 0; r < c.rows(); r++) {
      if (c.replicas()[r] == 0) {
        rows[i++] = r;
      }
    }
    return rows;
  }

  /**
   * Recall@N of {@code approximate} (query id → neighbour item numbers) against the exact lists in
   * {@code exact} (rows following {@code sample}).
   */
  static Result compare(Sample sample, TopNBuffer exact, Map<String, Set<Integer>> approximate) {
    return compare(sample, exact, approximate, q -> true);
  }

  /** The same over the sampled queries {@code queries} accepts (by row in the sample). */
  static Result compare(Sample sample, TopNBuffer exact, Map<String, Set<Integer>> approximate,
      java.util.function.IntPredicate queries) {
    int[] neighbors = new int[exact.n()];
    float[] scores = new float[exact.n()];
    long total = 0;
    long found = 0;
    int counted = 0;
    for (int q = 0; q < sample.size(); q++) {
      if (!queries.test(q)) {
        continue;
      }
      counted++;
      int count = exact.sorted(q, neighbors, scores);
      Set<Integer> listed = approximate.getOrDefault(sample.ids()[q], Set.of());
      total += count;
      for (int k = 0; k < count; k++) {
        found += listed.contains(neighbors[k]) ? 1 : 0;
      }
    }
    return new Result(counted, total, found);
  }

  /**
   * The recall@N every nprobe from 1 to {@code sample.stored()} gives the sampled queries {@code queries} accepts,
   * read from their exact lists without searching: an exact neighbour is found with nprobe p when one of the
   * lists it is stored in is among the query's p nearest, since the approximate search ranks the items of those
   * lists with the same rules and tie order as the exact pass, so no item it misses can push it out. The two
   * compute each score with different products, so a tie at the N-th place may fall the other way by a rounding.
   */
  static Curve curve(Sample sample, Exact exact, java.util.function.IntPredicate queries) {
    int stored = sample.stored();
    long[] foundWithin = new long[stored];
    long[] squares = new long[stored];
    long[] timesExact = new long[stored];
    long exactSquares = 0;
    int[] neighbors = new int[exact.top().n()];
    float[] scores = new float[exact.top().n()];
    long[] byRank = new long[stored];
    long total = 0;
    int counted = 0;
    for (int q = 0; q < sample.size(); q++) {
      if (!queries.test(q)) {
        continue;
      }
      counted++;
      int count = exact.top().sorted(q, neighbors, scores);
      total += count;
      exactSquares += (long) count * count;
      java.util.Arrays.fill(byRank, 0);
      for (int k = 0; k < count; k++) {
        int[] lists = exact.listsOf().get(neighbors[k]);
        if (lists == null) {
          throw new IllegalStateException("Exact neighbour " + neighbors[k] + " of sampled query '" + sample.ids()[q]
              + "' has no list: the exact pass did not report where it is stored");
        }
        int first = stored;
        for (int rank = 0; rank < stored && first == stored; rank++) {
          for (int list : lists) {
            if (sample.probes()[q * stored + rank] == list) {
              first = rank;
            }
          }
        }
        if (first < stored) {
          byRank[first]++;
        }
      }
      long found = 0;
      for (int p = 0; p < stored; p++) {
        found += byRank[p];
        foundWithin[p] += found;
        squares[p] += found * found;
        timesExact[p] += found * count;
      }
    }
    return new Curve(counted, total, foundWithin, squares, timesExact, exactSquares);
  }

  /**
   * Recall@N of {@code queries} sampled queries by nprobe: {@code foundWithin[p - 1]} of their
   * {@code exactNeighbors} exact neighbours are stored in one of the query's {@code p} nearest lists. For the
   * sampling error, per nprobe the sums over queries of found² ({@code squares}) and found × exact neighbours
   * ({@code timesExact}), and of exact neighbours² ({@code exactSquares}).
   */
  record Curve(int queries, long exactNeighbors, long[] foundWithin, long[] squares, long[] timesExact,
      long exactSquares) {
    /** One-sided 95 % normal quantile: the lower bound {@link #smallestReaching} compares with its target. */
    static final double Z = 1.645;

    /** Recall@N with the {@code nprobe} nearest lists probed (1 ≤ nprobe ≤ stored); 1 with nothing to find. */
    double recall(int nprobe) {
      return exactNeighbors == 0 ? 1 : (double) foundWithin[nprobe - 1] / exactNeighbors;
    }

    /**
     * The standard error of {@link #recall} as an estimate of the recall over all queries the sample was drawn
     * from: the ratio estimator's, {@code sqrt(Σ(found − R·exact)² · m / (m − 1)) / Σ exact} over the m queries;
     * 0 with fewer than two queries or nothing to find.
     */
    double standardError(int nprobe) {
      if (queries < 2 || exactNeighbors == 0) {
        return 0;
      }
      double r = recall(nprobe);
      double deviations = squares[nprobe - 1] - 2 * r * timesExact[nprobe - 1] + r * r * exactSquares;
      return Math.sqrt(Math.max(0, deviations) * queries / (queries - 1.0)) / exactNeighbors;
    }

    /**
     * The one-sided 95 % lower confidence bound of the recall with {@code nprobe} lists probed: the lower of the
     * ratio estimator's ({@link #standardError}) and Wilson's score bound over the exact neighbours taken as
     * independent draws. The second keeps a sample of one query, or of queries that all happened to find the same
     * share (no spread to estimate), from claiming its recall with certainty; on samples of hundreds of queries
     * the first is the lower one. The recall itself when there is nothing to find.
     */
    double lowerBound(int nprobe) {
      double r = recall(nprobe);
      if (exactNeighbors == 0) {
        return r;
      }
      double m = exactNeighbors;
      double z2 = Z * Z;
      double wilson = (r + z2 / (2 * m) - Z * Math.sqrt(r * (1 - r) / m + z2 / (4 * m * m))) / (1 + z2 / m);
      return Math.min(r - Z * standardError(nprobe), wilson);
    }

    /**
     * The smallest nprobe whose recall reaches {@code target} with 95 % confidence (its {@link #lowerBound}), or
     * the largest one when none does.
     */
    int smallestReaching(double target) {
      for (int p = 1; p <= foundWithin.length; p++) {
        if (lowerBound(p) >= target) {
          return p;
        }
      }
      return foundWithin.length;
    }

    /** Recall@N for nprobe 1, 2, ... up to the stored probes. */
    List<Double> recalls() {
      return byNprobe(this::recall);
    }

    /** The {@link #lowerBound}s for nprobe 1, 2, ... up to the stored probes. */
    List<Double> lowerBounds() {
      return byNprobe(this::lowerBound);
    }

    private List<Double> byNprobe(java.util.function.IntToDoubleFunction f) {
      List<Double> out = new ArrayList<>(foundWithin.length);
      for (int p = 1; p <= foundWithin.length; p++) {
        out.add(f.applyAsDouble(p));
      }
      return out;
    }
  }

  /**
   * The approximate lists of the sampled queries: query id → neighbour item numbers, and each query's N-th
   * score (−∞ when its list is shorter), rows following the sample; from the merged lists of the search
   * ({@code merged}: query segment → its rows' lists); only the sample's lists reach the driver.
   */
  static Approximate approximate(Sample sample, JavaPairRDD<Integer, TopNBuffer> merged) {
    Map<Integer, List<Integer>> bySegment = new HashMap<>();
    for (int q = 0; q < sample.size(); q++) {
      bySegment.computeIfAbsent(sample.segments()[q], k -> new ArrayList<>()).add(q);
    }
    HashMap<Integer, int[]> wanted = new HashMap<>();
    bySegment.forEach((segment, qs) -> wanted.put(segment, qs.stream().mapToInt(Integer::intValue).toArray()));
    int[] rows = sample.rows();
    List<Tuple2<Integer, Tuple2<int[], Float>>> lists = merged.filter(block -> wanted.containsKey(block._1()))
        .flatMap(block -> {
          TopNBuffer top = block._2();
          int[] neighbors = new int[top.n()];
          float[] scores = new float[top.n()];
          List<Tuple2<Integer, Tuple2<int[], Float>>> out = new ArrayList<>();
          for (int q : wanted.get(block._1())) {
            int count = top.sorted(rows[q], neighbors, scores);
            float floor = count == top.n() ? scores[count - 1] : Float.NEGATIVE_INFINITY;
            out.add(new Tuple2<>(q, new Tuple2<>(java.util.Arrays.copyOf(neighbors, count), floor)));
          }
          return out.iterator();
        }).collect();
    Map<String, Set<Integer>> out = new HashMap<>();
    float[] floors = new float[sample.size()];
    java.util.Arrays.fill(floors, Float.NEGATIVE_INFINITY);
    for (Tuple2<Integer, Tuple2<int[], Float>> list : lists) {
      Set<Integer> neighbors = out.computeIfAbsent(sample.ids()[list._1()], k -> new HashSet<>());
      for (int neighbor : list._2()._1()) {
        neighbors.add(neighbor);
      }
      floors[list._1()] = list._2()._2();
    }
    return new Approximate(out, floors);
  }

  /** The sampled queries' approximate lists (id → neighbour item numbers) and N-th scores (rows as the sample). */
  record Approximate(Map<String, Set<Integer>> lists, float[] floors) {}

}
