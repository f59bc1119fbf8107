package dev.itemsim.job;

import dev.itemsim.InvalidInputException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.ExceptionFailure;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskEndReason;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches a run's Spark tasks and executors, for the run summary ({@link RunSummary.SparkActivity}) and to
 * fail fast on bad input.
 *
 * <p>Spark retries a failed task ({@code spark.task.maxFailures}, 4 on a cluster), which is right for a lost
 * executor and pointless for bad input: a model file that does not load, or a GPU that cannot be opened, fails
 * every attempt the same way. When a task fails with an {@link InvalidInputException}, the monitor cancels the
 * stage at once and keeps the task's message, so the job ends after one attempt with that message
 * ({@link #invalidInput()}).
 */
final class TaskMonitor extends SparkListener implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TaskMonitor.class);

  private final SparkContext sc;
  private final AtomicInteger executorsAdded = new AtomicInteger();
  private final AtomicInteger executorsLost = new AtomicInteger();
  private final AtomicLong taskFailures = new AtomicLong();
  private final AtomicLong tasksKilled = new AtomicLong();
  private final AtomicLong speculativeTasks = new AtomicLong();
  private final Map<String, Long> failuresByReason = new TreeMap<>();
  private final AtomicReference<String> invalidInput = new AtomicReference<>();

  private TaskMonitor(SparkContext sc) {
    this.sc = sc;
  }

  /** Starts watching {@code sc} until {@link #close()}. */
  static TaskMonitor watch(SparkContext sc) {
    TaskMonitor monitor = new TaskMonitor(sc);
    sc.addSparkListener(monitor);
    return monitor;
  }

  @Override
  public void onExecutorAdded(SparkListenerExecutorAdded added) {
    executorsAdded.incrementAndGet();
  }

  @Override
  public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
    executorsLost.incrementAndGet();
    LOG.warn("Executor {} lost ({}). Spark re-runs its tasks elsewhere and the run continues; if executors keep "
        + "getting lost, read their stderr (out of memory: raise spark.executor.memory or lower the cores per "
        + "executor)", removed.executorId(), removed.reason());
  }

  @Override
  public void onTaskStart(SparkListenerTaskStart start) {
    if (start.taskInfo().speculative()) {
      speculativeTasks.incrementAndGet();
    }
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd end) {
    TaskEndReason reason = end.reason();
    if (end.taskInfo().successful() || reason == null || reason == org.apache.spark.Success$.MODULE$) {
      return;
    }
    if (reason instanceof org.apache.spark.TaskKilled) {
      // a losing speculative copy, or a task of a cancelled stage
      tasksKilled.incrementAndGet();
      return;
    }
    String kind = reason.getClass().getSimpleName().replace("$", "");
    taskFailures.incrementAndGet();
    synchronized (failuresByReason) {
      failuresByReason.merge(kind, 1L, Long::sum);
    }
    if (reason instanceof ExceptionFailure failure
        && InvalidInputException.class.getName().equals(failure.className())
        && invalidInput.compareAndSet(null, failure.description())) {
      sc.cancelStage(end.stageId(), "bad input (not retried): " + failure.description());
    }
  }

  /** The message of the first task that failed on bad input, or null. */
  String invalidInput() {
    return invalidInput.get();
  }

  RunSummary.SparkActivity activity() {
    synchronized (failuresByReason) {
      return new RunSummary.SparkActivity(executorsAdded.get(), executorsLost.get(), taskFailures.get(),
          new TreeMap<>(failuresByReason), tasksKilled.get(), speculativeTasks.get());
    }
  }

  @Override
  public void close() {
    sc.removeSparkListener(this);
  }
}
