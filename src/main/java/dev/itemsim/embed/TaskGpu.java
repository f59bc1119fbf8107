package dev.itemsim.embed;

import dev.itemsim.InvalidInputException;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The GPU Spark's resource scheduling assigned to the running task ({@code spark.executor.resource.gpu.*},
 * {@code spark.task.resource.gpu.amount}), as the CUDA device index this process opens it by.
 *
 * <p>Spark hands a task the addresses its discovery script reported, which are usually what
 * {@code nvidia-smi} calls the GPUs. CUDA numbers only the devices {@code CUDA_VISIBLE_DEVICES} lets it see,
 * in that list's order: with {@code CUDA_VISIBLE_DEVICES=2,3}, address {@code 3} is CUDA device 1. Without the
 * variable an address must be a device index. Encoders are shared per JVM and address, so a task only ever
 * uses the device it was given and Spark's accounting decides how many tasks share one.
 *
 * @param address the address Spark assigned (the first, when a task is given several)
 * @param cudaIndex the CUDA device index in this process
 * @param visibleDevices {@code CUDA_VISIBLE_DEVICES} as this process saw it, or null
 */
public record TaskGpu(String address, int cudaIndex, String visibleDevices) implements Serializable {
  /** Spark's name for the GPU resource. */
  public static final String RESOURCE = "gpu";

  /** The GPU assigned to the task running on this thread, or null (no task, or no GPU requested). */
  public static TaskGpu assigned() {
    TaskContext task = TaskContext.get();
    if (task == null) {
      return null;
    }
    Map<String, ResourceInformation> resources = task.resourcesJMap();
    ResourceInformation gpu = resources == null ? null : resources.get(RESOURCE);
    if (gpu == null || gpu.addresses().length == 0) {
      return null;
    }
    return of(gpu.addresses()[0], System.getenv("CUDA_VISIBLE_DEVICES"));
  }

  /**
   * Maps a Spark GPU address to the CUDA device index under {@code visibleDevices}
   * ({@code CUDA_VISIBLE_DEVICES}, or null when unset).
   *
   * @throws InvalidInputException when the address is not among the visible devices, or (with no
   *     {@code CUDA_VISIBLE_DEVICES}) is not a device index
   */
  public static TaskGpu of(String address, String visibleDevices) {
    String a = address.trim();
    if (visibleDevices != null && !visibleDevices.isBlank()) {
      List<String> visible = Arrays.stream(visibleDevices.split(",")).map(String::trim).toList();
      int index = visible.indexOf(a);
      if (index < 0) {
        throw new InvalidInputException("Spark assigned GPU address " + a + " to this task, but "
            + "CUDA_VISIBLE_DEVICES=" + visibleDevices + " on this executor does not list it, so CUDA cannot open "
            + "it: make the GPU discovery script (spark.executor.resource.gpu.discoveryScript or the worker's) "
            + "report the devices CUDA_VISIBLE_DEVICES names, or unset CUDA_VISIBLE_DEVICES");
      }
      return new TaskGpu(a, index, visibleDevices);
    }
    try {
      int index = Integer.parseInt(a);
      if (index < 0) {
        throw new NumberFormatException();
      }
      return new TaskGpu(a, index, null);
    } catch (NumberFormatException e) {
      throw new InvalidInputException("Spark assigned GPU address '" + a + "' to this task; without "
          + "CUDA_VISIBLE_DEVICES it must be a CUDA device index (0, 1, ...): make the GPU discovery script report "
          + "indices, or set CUDA_VISIBLE_DEVICES to the addresses it reports");
    }
  }

  /** E.g. {@code GPU address 3 (CUDA device 1 under CUDA_VISIBLE_DEVICES=2,3)}. */
  public String describe() {
    return "GPU address " + address + " (CUDA device " + cudaIndex
        + (visibleDevices == null ? "" : " under CUDA_VISIBLE_DEVICES=" + visibleDevices) + ")";
  }
}
