package dev.itemsim.similarity;

import dev.itemsim.embed.EncoderUsage;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.TaskCompletionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the product tasks of one search ran: every task that multiplies vectors reports, once, its JVM, the
 * kernel and device it got from {@link Kernels} and why a GPU Spark assigned to it was not used. The driver cannot
 * see an executor's CPU fallback otherwise; it sums the reports up for logs and the run summary ({@link #report},
 * read once the search's rows are computed). Reports of task attempts that failed or were killed are not
 * counted, as with any Spark accumulator.
 */
public final class KernelUsage implements Serializable {
  private static final Logger LOG = LoggerFactory.getLogger(KernelUsage.class);
  /** Task attempts that already reported to an accumulator in this JVM: {@code accumulator id/attempt id}. */
  private static final Set<String> REPORTED = ConcurrentHashMap.newKeySet();

  /** One task's report. */
  record Use(String jvm, String kernel, String device, String gpuAddress, String note) implements Serializable {}

  /**
   * The search's product tasks summed up.
   *
   * @param tasks tasks that completed
   * @param jvms distinct JVMs (executors, or the driver in local mode) they ran in
   * @param kernels tasks per kernel name (e.g. {@code native-blas(bundled-openblas 0.3.31)}, {@code pytorch(gpu(1))})
   * @param devices tasks per device ({@code cpu}, {@code gpu(N)})
   * @param gpuAddresses the GPU addresses Spark assigned to the tasks, in order
   * @param notes why an assigned GPU was not used, once each
   */
  public record Report(int tasks, int jvms, Map<String, Integer> kernels, Map<String, Integer> devices,
      List<String> gpuAddresses, List<String> notes) {}

  private final CollectionAccumulator<Use> uses;
  private transient AtomicBoolean logged = new AtomicBoolean();

  private KernelUsage(CollectionAccumulator<Use> uses) {
    this.uses = uses;
  }

  /** Registers the accumulator the tasks of one search report to (driver side). */
  public static KernelUsage register(SparkContext sc) {
    return new KernelUsage(sc.collectionAccumulator("top-N kernel usage"));
  }

  /**
   * {@code usage}'s kernel for {@code kernel} in the calling task ({@link Kernels#select}), reported to
   * {@code usage} unless null.
   */
  static MatMulKernel select(KernelUsage usage, String kernel) {
    Kernels.Chosen chosen = Kernels.choose(kernel);
    if (usage != null) {
      usage.record(chosen);
    }
    return chosen.kernel();
  }

  /** Reports {@code chosen}, once per task attempt (tasks select a kernel per block pair or chunk). */
  void record(Kernels.Chosen chosen) {
    TaskContext task = TaskContext.get();
    if (task != null) {
      String key = uses.id() + "/" + task.taskAttemptId();
      if (!REPORTED.add(key)) {
        return;
      }
      task.addTaskCompletionListener((TaskCompletionListener) context -> REPORTED.remove(key));
    }
    uses.add(new Use(EncoderUsage.jvm(), chosen.kernel().name(), chosen.device(),
        chosen.gpu() == null ? null : chosen.gpu().address(), chosen.note()));
  }

  /** What the completed tasks reported so far (driver side). */
  public Report report() {
    List<Use> all = new ArrayList<>(uses.value());
    Set<String> jvms = new LinkedHashSet<>();
    Map<String, Integer> kernels = new TreeMap<>();
    Map<String, Integer> devices = new TreeMap<>();
    Set<String> addresses = new TreeSet<>();
    Set<String> notes = new LinkedHashSet<>();
    for (Use u : all) {
      jvms.add(u.jvm());
      kernels.merge(u.kernel(), 1, Integer::sum);
      devices.merge(u.device(), 1, Integer::sum);
      if (u.gpuAddress() != null) {
        addresses.add(u.gpuAddress());
      }
      if (u.note() != null) {
        notes.add(u.note());
      }
    }
    return new Report(all.size(), jvms.size(), kernels, devices, List.copyOf(addresses), List.copyOf(notes));
  }

  /**
   * Logs where the tasks ran and, as a warning each, why an assigned GPU was not used; once, when the search's
   * rows have been computed (driver side).
   */
  void log() {
    Report r = report();
    if (r.tasks() == 0 || logged == null || !logged.compareAndSet(false, true)) {
      return;
    }
    LOG.info("Top-N products: {} tasks in {} JVMs, kernels {}, devices {}", r.tasks(), r.jvms(), r.kernels(),
        r.devices());
    for (String note : r.notes()) {
      LOG.warn("{} (see the run summary's topn_fallback; docs/OPERATIONS.md, GPU executors)", note);
    }
  }

  @Override
  public String toString() {
    return "KernelUsage[accumulator " + uses.id() + "]";
  }
}
