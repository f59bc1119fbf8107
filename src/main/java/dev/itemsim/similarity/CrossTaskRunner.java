package dev.itemsim.similarity;

/**
 * One task of a cross-catalogue search: a query block against a contiguous range of corpus blocks, strip by
 * strip, returning the query block's partial top-N (neighbour values are corpus indexes).
 */
final class CrossTaskRunner {
  private CrossTaskRunner() {}

  /** A query block and the corpus blocks {@code [corpusFrom, corpusTo)} it is compared with. */
  record Task(int queryBlock, int corpusFrom, int corpusTo) implements java.io.Serializable {}

  static TopNBuffer run(VectorBlocks queries, VectorBlocks corpus, Task task, int topN, MatMulKernel kernel,
      NeighborFilter filter) {
    int rowsQ = queries.rowsIn(task.queryBlock());
    TopNBuffer top = new TopNBuffer(rowsQ, topN);
    int strip = Math.min(BlockTaskRunner.STRIP_ROWS, rowsQ);
    float[] product = new float[strip * corpus.blockSize()];
    for (int j = task.corpusFrom(); j < task.corpusTo(); j++) {
      int rowsJ = corpus.rowsIn(j);
      for (int from = 0; from < rowsQ; from += strip) {
        int rows = Math.min(strip, rowsQ - from);
        kernel.multiplyTransposed(queries.block(task.queryBlock()), from, rows, corpus.block(j), 0, rowsJ,
            queries.dim(), product);
        BlockPairScan.scanRows(product, from, rows, rowsJ, queries.offsetOf(task.queryBlock()), corpus.offsetOf(j),
            top, filter);
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
