package dev.itemsim.embed;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.util.CollectionAccumulator;

/**
 * Where the encode tasks of a run ran: each task that completes reports its JVM, whether it had to load the
 * model there, the device it encoded on and why a GPU Spark assigned was not used. The driver sums this up
 * for the run summary ({@link #report()}): with one encoder per JVM ({@link SharedEncoders}), {@code loads}
 * never exceeds {@code jvms} per device, however many tasks ran. Reports of task attempts that failed or were
 * killed (a lost executor, a losing speculative copy) are not counted, as with any Spark accumulator.
 */
public final class EncoderUsage implements Serializable {
  /** One completed task's report. */
  record Use(String jvm, boolean loaded, String device, String gpuAddress, String note) implements Serializable {}

  /**
   * The run's encode tasks summed up.
   *
   * @param tasks encode tasks that completed
   * @param jvms distinct JVMs (executors, or the driver in local mode) they ran in
   * @param loads models loaded by those tasks (at most one per JVM and device)
   * @param devices tasks per device ({@code cpu}, {@code gpu(N)})
   * @param gpuAddresses the GPU addresses Spark assigned to the tasks, in order
   * @param notes why an assigned GPU was not used, once each
   */
  public record Report(int tasks, int jvms, int loads, Map<String, Integer> devices, List<String> gpuAddresses,
      List<String> notes) {}

  private final CollectionAccumulator<Use> uses;

  private EncoderUsage(CollectionAccumulator<Use> uses) {
    this.uses = uses;
  }

  /** Registers the accumulator the tasks report to (driver side). */
  public static EncoderUsage register(SparkContext sc, String name) {
    return new EncoderUsage(sc.collectionAccumulator(name));
  }

  /** Called by a task once it holds its encoder. */
  void record(SharedEncoders.Lease lease, TaskGpu gpu) {
    uses.add(new Use(jvm(), lease.loadedNow(), lease.loaded().device(), gpu == null ? null : gpu.address(),
        lease.loaded().note()));
  }

  /** What the completed tasks reported so far (driver side). */
  public Report report() {
    List<Use> all = new ArrayList<>(uses.value());
    Set<String> jvms = new LinkedHashSet<>();
    Map<String, Integer> devices = new TreeMap<>();
    Set<String> addresses = new java.util.TreeSet<>();
    Set<String> notes = new LinkedHashSet<>();
    int loads = 0;
    for (Use u : all) {
      jvms.add(u.jvm());
      loads += u.loaded() ? 1 : 0;
      devices.merge(u.device(), 1, Integer::sum);
      if (u.gpuAddress() != null) {
        addresses.add(u.gpuAddress());
      }
      if (u.note() != null) {
        notes.add(u.note());
      }
    }
    return new Report(all.size(), jvms.size(), loads, devices, List.copyOf(addresses), List.copyOf(notes));
  }

  /** This JVM as usage reports name it: executor id (or {@code driver}), pid and host. */
  public static String jvm() {
    SparkEnv env = SparkEnv.get();
    String executor = env == null ? "none" : env.executorId();
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      host = "unknown-host";
    }
    return executor + " (pid " + ProcessHandle.current().pid() + " on " + host + ")";
  }
}
