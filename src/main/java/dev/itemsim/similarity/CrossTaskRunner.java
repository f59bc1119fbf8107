package dev.itemsim.similarity;

/**
 * One task of a cross-catalogue search: a query block against a contiguous range of corpus blocks, tile by
 * tile, returning the query block's partial top-N (neighbour values are corpus indexes).
 */
final class CrossTaskRunner {
  private CrossTaskRunner() {}

  /** A query block and the corpus blocks {@code [corpusFrom, corpusTo)} it is compared with. */
  record Task(int queryBlock, int corpusFrom, int corpusTo) implements java.io.Serializable {}

  static TopNBuffer run(VectorBlocks queries, VectorBlocks corpus, Task task, int topN, MatMulKernel kernel,
      NeighborFilter filter) {
    int rowsQ = queries.rowsIn(task.queryBlock());
    TopNBuffer top = new TopNBuffer(rowsQ, topN);
    float[] product = new float[BlockTaskRunner.STRIP_ROWS * BlockTaskRunner.TILE_COLUMNS];
    float[] queryBlock = queries.block(task.queryBlock());
    for (int j = task.corpusFrom(); j < task.corpusTo(); j++) {
      int rowsJ = corpus.rowsIn(j);
      float[] corpusBlock = corpus.block(j);
      for (int from = 0; from < rowsQ; from += BlockTaskRunner.STRIP_ROWS) {
        int rows = Math.min(BlockTaskRunner.STRIP_ROWS, rowsQ - from);
        for (int col = 0; col < rowsJ; col += BlockTaskRunner.TILE_COLUMNS) {
          int cols = Math.min(BlockTaskRunner.TILE_COLUMNS, rowsJ - col);
          kernel.multiplyTransposed(queryBlock, from, rows, corpusBlock, col, cols, queries.dim(), product);
          BlockPairScan.scanRows(product, from, rows, col, cols, queries.offsetOf(task.queryBlock()),
              corpus.offsetOf(j), top, filter);
        }
      }
    }
    return top;
  }

  /** Tasks covering every (query block, corpus block) pair once, about {@code minTasks} of them. */
  static java.util.List<Task> plan(int queryBlocks, int corpusBlocks, int minTasks) {
    int perQueryBlock = Math.max(1, Math.min(corpusBlocks, (minTasks + queryBlocks - 1) / Math.max(1, queryBlocks)));
    int chunk = (corpusBlocks + perQueryBlock - 1) / perQueryBlock;
    java.util.List<Task> tasks = new java.util.ArrayList<>();
    for (int q = 0; q < queryBlocks; q++) {
      for (int from = 0; from < corpusBlocks; from += chunk) {
        tasks.add(new Task(q, from, Math.min(corpusBlocks, from + chunk)));
      }
    }
    return tasks;
  }
}
