package dev.itemsim.similarity;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import scala.Tuple2;

/**
 * Runs one {@link IvfPlan.Task}: for each query segment of the task, the rows that probe each of its lists
 * are gathered into one matrix, multiplied by that list's segments with the kernel product tile by product
 * tile, and every tile is scanned for the rows' top-N while still in cache, with the exact search's
 * candidate test ({@link ScoreChunks}) and lists ({@link TopNBuffer}); one partial buffer per query segment
 * is emitted, lazily. Tasks in one JVM share what they learn of each row's threshold ({@link ThresholdFloors}).
 *
 * <p>A candidate that passes the threshold is offered unless it is the query itself (one catalogue), it is
 * stored in several lists and this is not the nearest of them the query probes (so each pair is scored
 * once), or the filters forbid it.
 */
final class IvfTaskRunner implements Iterator<Tuple2<Integer, TopNBuffer>> {
  private final ListSegments queries;
  private final ListSegments corpus;
  private final IvfPlan.Unit[] units;
  private final int topN;
  private final MatMulKernel kernel;
  private final boolean self;
  private final int same;
  private final int exclude;
  private final String computation;
  private int next;

  /**
   * @param same index of the {@code sameValueOf} column among the segments' filter values, or −1
   * @param exclude index of the {@code excludeSameValueOf} column, or −1
   */
  IvfTaskRunner(ListSegments queries, ListSegments corpus, IvfPlan.Task task, int topN, MatMulKernel kernel,
      boolean self, int same, int exclude, String computation) {
    this.queries = queries;
    this.corpus = corpus;
    this.units = task.units();
    this.topN = topN;
    this.kernel = kernel;
    this.self = self;
    this.same = same;
    this.exclude = exclude;
    this.computation = computation;
  }

  @Override
  public boolean hasNext() {
    return next < units.length;
  }

  @Override
  public Tuple2<Integer, TopNBuffer> next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    int a = units[next].querySegment();
    ListSegment q = queries.read(a);
    TopNBuffer top = new TopNBuffer(q.rows(), topN);
    ThresholdFloors.seed(computation, a, top);
    Map<Integer, int[]> rowsByList = rowsByProbedList(q);
    while (next < units.length && units[next].querySegment() == a) {
      int list = units[next].list();
      Gathered rows = Gathered.of(q, rowsByList.get(list));
      while (next < units.length && units[next].querySegment() == a && units[next].list() == list) {
        ListSegment c = corpus.read(units[next].corpusSegment());
        multiply(rows, q, c, top, a);
        next++;
      }
    }
    ThresholdFloors.learn(computation, a, top);
    return new Tuple2<>(a, top);
  }

  /** Query rows of {@code q} by the lists they probe. */
  private static Map<Integer, int[]> rowsByProbedList(ListSegment q) {
    Map<Integer, int[]> counts = new HashMap<>();
    for (int r = 0; r < q.rows(); r++) {
      for (int k = r * q.nprobe(), end = k + q.nprobe(); k < end; k++) {
        if (q.probes()[k] >= 0) {
          counts.computeIfAbsent(q.probes()[k], l -> new int[1])[0]++;
        }
      }
    }
    Map<Integer, int[]> rows = new HashMap<>();
    counts.forEach((l, n) -> rows.put(l, new int[n[0]]));
    Map<Integer, int[]> filled = new HashMap<>();
    for (int r = 0; r < q.rows(); r++) {
      for (int k = r * q.nprobe(), end = k + q.nprobe(); k < end; k++) {
        int l = q.probes()[k];
        if (l >= 0) {
          rows.get(l)[filled.computeIfAbsent(l, x -> new int[1])[0]++] = r;
        }
      }
    }
    return rows;
  }

  private void multiply(Gathered rows, ListSegment q, ListSegment c, TopNBuffer top, int a) {
    float[] product = IvfScan.productBuffer();
    int dim = c.dim();
    IvfScan.Check check = check(q, c);
    for (int from = 0; from < rows.count(); from += BlockTaskRunner.STRIP_ROWS) {
      int strip = Math.min(BlockTaskRunner.STRIP_ROWS, rows.count() - from);
      for (int col = 0; col < c.rows(); col += BlockTaskRunner.TILE_COLUMNS) {
        int cols = Math.min(BlockTaskRunner.TILE_COLUMNS, c.rows() - col);
        kernel.multiplyTransposed(rows.vectors(), from, strip, c.vectors(), col, cols, dim, product);
        IvfScan.scan(product, strip, cols, rows.rows(), from, null, col, c.items(), top, check);
      }
      ThresholdFloors.learn(computation, a, top);
      ThresholdFloors.seed(computation, a, top);
    }
  }

  /** The offer rules for query rows of {@code q} against rows of corpus segment {@code c}. */
  private IvfScan.Check check(ListSegment q, ListSegment c) {
    boolean dedup = c.assignments() > 1;
    String[][] qv = q.values();
    String[][] cv = c.values();
    return (qr, cr) -> {
      if (self && q.items()[qr] == c.items()[cr]) {
        return false;
      }
      if (dedup && owner(q, qr, c, cr) != c.list()) {
        return false;
      }
      return IvfScan.filtersAllow(qv, qr, cv, cr, same, exclude);
    };
  }

  /** The nearest of corpus row {@code cr}'s lists that query row {@code qr} probes: the one that scores it. */
  private static int owner(ListSegment q, int qr, ListSegment c, int cr) {
    for (int k = cr * c.assignments(), end = k + c.assignments(); k < end; k++) {
      if (q.probes(qr, c.lists()[k])) {
        return c.lists()[k];
      }
    }
    return -1;
  }

  /** Rows of a segment copied into one dense matrix, with their row numbers. */
  record Gathered(float[] vectors, int[] rows, int count) {
    static Gathered of(ListSegment segment, int[] rows) {
      return of(segment.vectors(), segment.dim(), rows);
    }

    /** Rows {@code rows} of the row-major matrix {@code from} ({@code dim} floats a row). */
    static Gathered of(float[] from, int dim, int[] rows) {
      float[] vectors = new float[rows.length * dim];
      for (int i = 0; i < rows.length; i++) {
        System.arraycopy(from, rows[i] * dim, vectors, i * dim, dim);
      }
      return new Gathered(vectors, rows, rows.length);
    }
  }
}
