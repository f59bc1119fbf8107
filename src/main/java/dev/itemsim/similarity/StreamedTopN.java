package dev.itemsim.similarity;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * Exact top-k between the items of a Spark dataset, which stay where they are, and a small set of items held
 * in memory on every executor (broadcast once): what an incremental run needs, where few items changed and
 * many did not. Each task reads its partition in chunks of at most {@code chunkRows} items, packs a chunk as
 * one vector block and multiplies it with the small set's blocks through the cross-catalogue kernel
 * ({@link CrossTaskRunner}: fused product and top-k scan), so memory per task is one chunk, one product tile
 * and the lists.
 *
 * <ul>
 *   <li>{@link #againstSmallSet}: every dataset item's best k among the small set (each task's lists are
 *       complete; no shuffle).
 *   <li>{@link #ofSmallSet}: every small-set item's best k among all dataset items other than itself
 *       (partial lists per chunk, merged by query block).
 * </ul>
 * Lists follow itemsim's order: ties go to the lower id ({@link CollectedItems#compareIds}); the small set is
 * numbered in id order and each chunk is sorted by id, so the kernel's lower-index ties are lower-id ties, and
 * partial lists are merged by id.
 */
final class StreamedTopN {
  /** Rows of {@link #againstSmallSet}: an item's list ({@link ScoredList}) as columns. */
  static final StructType LIST_SCHEMA = new StructType()
      .add(SearchItems.ID, DataTypes.StringType, false)
      .add("neighbor_ids", DataTypes.createArrayType(DataTypes.StringType, false), false)
      .add("scores", DataTypes.createArrayType(DataTypes.FloatType, false), false)
      .add("truncated", DataTypes.BooleanType, false);

  private StreamedTopN() {}

  /**
   * Every item of {@code items} with its best {@code k} items of {@code small} that {@code filter} allows, as
   * {@link #LIST_SCHEMA} rows, computed and persisted (unpersist them when done, and destroy the broadcast
   * added to {@code broadcasts}, which the lists' lineage names); a list is truncated when it holds k entries.
   * No item may be in both sets. Each task reports its kernel to {@code usage} (null: none).
   */
  static Dataset<Row> againstSmallSet(SparkSession spark, Dataset<Row> items, CollectedItems small, int k,
      SearchRequest.FilterColumns filter, String kernel, KernelUsage usage, int chunkRows,
      List<Broadcast<?>> broadcasts) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<SmallSet> shared = jsc.broadcast(SmallSet.of(small));
    List<String> filters = filter.columns();
    String same = filter.sameValueOf();
    String exclude = filter.excludeSameValueOf();
    JavaRDD<Row> rows = chunks(items, filters, chunkRows, false).flatMap(chunk -> {
      CollectedItems corpus = shared.value().items();
      Map<String, Integer> corpusIndex = corpus.indexById();
      for (String id : chunk.ids()) {
        if (corpusIndex.containsKey(id)) {
          throw new IllegalArgumentException("Item " + id + " is both among the items and the small set");
        }
      }
      List<Row> out = new ArrayList<>(chunk.ids().length);
      if (corpus.ids().length == 0) {
        for (String id : chunk.ids()) {
          out.add(RowFactory.create(id, new String[0], new float[0], false));
        }
        return out.iterator();
      }
      TopNBuffer top = CrossTaskRunner.run(chunk.blocks(), corpus.blocks(),
          new CrossTaskRunner.Task(0, 0, corpus.blocks().numBlocks()), k, KernelUsage.select(usage, kernel),
          new SearchRequest.FilterColumns(same, exclude).compile(chunk, corpus));
      int[] neighbors = new int[k];
      float[] scores = new float[k];
      for (int r = 0; r < chunk.ids().length; r++) {
        int count = top.sorted(r, neighbors, scores);
        String[] ids = new String[count];
        for (int c = 0; c < count; c++) {
          ids[c] = corpus.ids()[neighbors[c]];
        }
        out.add(RowFactory.create(chunk.ids()[r], ids, Arrays.copyOf(scores, count), count == k));
      }
      return out.iterator();
    });
    broadcasts.add(shared);
    Dataset<Row> lists = spark.createDataFrame(rows, LIST_SCHEMA)
        .persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
    lists.count();
    return lists;
  }

  /**
   * Every item of {@code small} with its best {@code k} items of {@code items} other than itself that
   * {@code filter} allows, by id. A list is truncated when more allowed items may exist. Each task reports its
   * kernel to {@code usage} (null: none).
   */
  static Map<String, ScoredList> ofSmallSet(SparkSession spark, CollectedItems small, Dataset<Row> items, int k,
      SearchRequest.FilterColumns filter, String kernel, KernelUsage usage, int chunkRows) {
    Map<String, ScoredList> out = new HashMap<>(2 * small.ids().length);
    if (small.ids().length == 0) {
      return out;
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<SmallSet> shared = jsc.broadcast(SmallSet.of(small));
    List<String> filters = filter.columns();
    String same = filter.sameValueOf();
    String exclude = filter.excludeSameValueOf();
    int kept = k + 1;  // the item itself may be among its best: keep one more, drop it after merging
    List<Tuple2<Integer, PartialLists>> merged;
    try {
      merged = chunks(items, filters, chunkRows, true).mapPartitionsToPair(chunkIt -> {
        CollectedItems queries = shared.value().items();
        SearchRequest.FilterColumns rules = new SearchRequest.FilterColumns(same, exclude);
        VectorBlocks qBlocks = queries.blocks();
        PartialLists[] partial = new PartialLists[qBlocks.numBlocks()];
        for (int b = 0; b < partial.length; b++) {
          partial[b] = new PartialLists(qBlocks.rowsIn(b));
        }
        int[] neighbors = new int[kept];
        float[] scores = new float[kept];
        MatMulKernel matMul = KernelUsage.select(usage, kernel);
        while (chunkIt.hasNext()) {
          CollectedItems chunk = chunkIt.next();
          NeighborFilter nf = rules.compile(queries, chunk);
          for (int b = 0; b < partial.length; b++) {
            TopNBuffer top = CrossTaskRunner.run(qBlocks, chunk.blocks(), new CrossTaskRunner.Task(b, 0, 1), kept,
                matMul, nf);
            for (int r = 0; r < top.rows(); r++) {
              int count = top.sorted(r, neighbors, scores);
              String[] ids = new String[count];
              for (int c = 0; c < count; c++) {
                ids[c] = chunk.ids()[neighbors[c]];
              }
              partial[b].merge(r, new ScoredList(ids, Arrays.copyOf(scores, count), count == kept), kept);
            }
          }
        }
        List<Tuple2<Integer, PartialLists>> blocks = new ArrayList<>(partial.length);
        for (int b = 0; b < partial.length; b++) {
          blocks.add(new Tuple2<>(b, partial[b]));
        }
        return blocks.iterator();
      }).reduceByKey((x, y) -> x.mergeAll(y, kept), Math.max(1, Math.min(small.blocks().numBlocks(),
          jsc.defaultParallelism()))).collect();
    } finally {
      shared.destroy();
    }
    for (Tuple2<Integer, PartialLists> block : merged) {
      int offset = small.blocks().offsetOf(block._1());
      PartialLists lists = block._2();
      for (int r = 0; r < lists.lists.length; r++) {
        String self = small.ids()[offset + r];
        ScoredList list = lists.lists[r];
        // a complete list of k + 1 may hold k others: still complete; a truncated one is cut to k
        ScoredList others = list.without(self::equals);
        out.put(self, others.size() > k ? others.first(k) : others);
      }
    }
    return out;
  }

  /** The partial lists of one query block's rows, merged across chunks and tasks. */
  static final class PartialLists implements java.io.Serializable {
    final ScoredList[] lists;

    PartialLists(int rows) {
      lists = new ScoredList[rows];
      Arrays.fill(lists, ScoredList.EMPTY);
    }

    void merge(int row, ScoredList chunkList, int k) {
      lists[row] = mergeExhaustiveParts(lists[row], chunkList, k);
    }

    PartialLists mergeAll(PartialLists other, int k) {
      for (int r = 0; r < lists.length; r++) {
        lists[r] = mergeExhaustiveParts(lists[r], other.lists[r], k);
      }
      return this;
    }
  }

  /**
   * Merges the best-k lists of two disjoint parts of one item's candidates into the best k of both: unlike
   * {@link ScoredList#merge} it does not stop at a truncated part's end, since a part's unseen candidates rank
   * below its own k-th and so below the merged k-th.
   */
  static ScoredList mergeExhaustiveParts(ScoredList a, ScoredList b, int k) {
    ScoredList all = ScoredList.merge(new ScoredList(a.ids(), a.scores(), false),
        new ScoredList(b.ids(), b.scores(), false), k);
    boolean truncated = a.truncated() || b.truncated() || a.size() + b.size() > k;
    return new ScoredList(all.ids(), all.scores(), truncated);
  }

  /**
   * The dataset's items in chunks of at most {@code chunkRows}, each packed as one vector block with its ids
   * and filter values ({@link CollectedItems}); sorted by id within the chunk when {@code sorted}.
   */
  private static JavaRDD<CollectedItems> chunks(Dataset<Row> items, List<String> filters, int chunkRows,
      boolean sorted) {
    List<String> columns = new ArrayList<>(List.of(SearchItems.ID, SearchItems.EMBEDDING));
    columns.addAll(filters);
    return items.selectExpr(CollectedItems.quoted(columns)).javaRDD()
        .mapPartitions(rows -> new Chunks(rows, filters.size(), chunkRows, sorted));
  }

  /** A partition's rows ({@code item_id, embedding, filter values...}) as packed chunks. */
  private static final class Chunks implements Iterator<CollectedItems> {
    private final Iterator<Row> rows;
    private final int filters;
    private final int chunkRows;
    private final boolean sorted;

    Chunks(Iterator<Row> rows, int filters, int chunkRows, boolean sorted) {
      this.rows = rows;
      this.filters = filters;
      this.chunkRows = chunkRows;
      this.sorted = sorted;
    }

    @Override
    public boolean hasNext() {
      return rows.hasNext();
    }

    @Override
    public CollectedItems next() {
      List<Row> chunk = new ArrayList<>(Math.min(chunkRows, 1024));
      while (rows.hasNext() && chunk.size() < chunkRows) {
        chunk.add(rows.next());
      }
      if (chunk.isEmpty()) {
        throw new java.util.NoSuchElementException();
      }
      if (sorted) {
        chunk.sort(Comparator.comparing(r -> r.getString(0), CollectedItems::compareIds));
      }
      int n = chunk.size();
      String[] ids = new String[n];
      String[][] attrs = new String[filters][n];
      List<float[]> vectors = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        Row r = chunk.get(i);
        ids[i] = r.getString(0);
        vectors.add(CollectedItems.floats(r.getList(1)));
        for (int f = 0; f < filters; f++) {
          attrs[f][i] = r.isNullAt(2 + f) ? null : r.getString(2 + f);
        }
      }
      return new CollectedItems(ids, VectorBlocks.of(vectors, vectors.get(0).length, n), new String[0], attrs);
    }
  }

  /** The small set as shipped to the executors: ids, vectors and filter values in id order. */
  private record SmallSet(String[] ids, VectorBlocks blocks, String[][] attrs) implements java.io.Serializable {
    static SmallSet of(CollectedItems items) {
      return new SmallSet(items.ids(), items.blocks(), items.attrs());
    }

    CollectedItems items() {
      return new CollectedItems(ids, blocks, new String[0], attrs);
    }
  }
}
