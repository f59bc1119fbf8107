package dev.itemsim.similarity;

import ai.djl.Device;
import dev.itemsim.InvalidInputException;
import dev.itemsim.embed.TaskGpu;
import dev.itemsim.embed.TorchDevices;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the matrix-product kernel named by {@code similarity.kernel}, once per JVM (and GPU): tasks call
 * {@link #select} for every block pair and get the same kernel, and a warning is logged once.
 *
 * <ul>
 *   <li>{@code auto}: on the GPU Spark's resource scheduling assigned to the task ({@link TaskGpu}), through
 *       libtorch ({@link TorchMatMulKernel}), when one is assigned and DJL's PyTorch engine can open it;
 *       otherwise netlib on the BLAS of {@code similarity.blas} ({@link NativeBlas}), and, when no native BLAS
 *       loads, netlib's pure-Java BLAS with one loud warning. An assigned GPU that cannot be opened is a warning,
 *       once per JVM, and a note in the task's {@link Chosen};
 *   <li>{@code gpu}: the task's assigned GPU, failing with an {@link InvalidInputException} naming its address
 *       and what is missing when it cannot be opened; with no GPU assigned (local mode, no
 *       {@code spark.task.resource.gpu.amount}, outside a task) the first GPU DJL sees, failing when it sees none;
 *   <li>{@code native-blas}: netlib on a native BLAS, failing when none loads;
 *   <li>{@code java}: netlib's pure-Java BLAS on purpose.
 * </ul>
 * {@code native-blas} and {@code java} never look at GPUs. One kernel per JVM and CUDA device, shared by the tasks
 * Spark runs there: how many tasks share a GPU is Spark's accounting ({@code spark.task.resource.gpu.amount}).
 * Driver code that only reports which kernel a search uses calls {@link #describe}, which opens no GPU.
 */
public final class Kernels {
  private static final Logger LOG = LoggerFactory.getLogger(Kernels.class);
  private static final Selection JVM = new Selection(NativeBlas::bind, LOG::warn, Kernels::openGpu);

  /** The names {@code similarity.kernel} accepts. */
  public static final List<String> NAMES = List.of("auto", "gpu", "native-blas", "java");

  private Kernels() {}

  /**
   * The kernel for {@code kernel} on the BLAS this Spark application configured ({@code similarity.blas}) and the
   * GPU Spark assigned to the calling task, if any.
   */
  public static MatMulKernel select(String kernel) {
    return choose(kernel).kernel();
  }

  /** The kernel for {@code kernel} on the BLAS {@code blas} names ({@code similarity.blas}), with no GPU. */
  public static MatMulKernel select(String kernel, String blas) {
    return JVM.choose(kernel, blas, () -> null).kernel();
  }

  /** {@link #select} with where the kernel runs and why an assigned GPU is not used (for {@link KernelUsage}). */
  static Chosen choose(String kernel) {
    return JVM.choose(kernel, NativeBlas.configuredSource(), TaskGpu::assigned);
  }

  /**
   * Fails fast, on the driver, when {@code similarity.kernel = gpu} cannot run where the search's tasks run: one
   * small Spark job of {@code defaultParallelism} tasks, with the task resources every stage gets (so on the GPUs
   * Spark assigns), opens the kernel in each task as a top-N task would, and returns why it cannot rather than
   * failing (Spark retries a failed task, and every attempt would fail the same way). The kernels it opens stay
   * cached for the search's tasks. Other kernel names have nothing to check; a GPU an unchecked executor cannot
   * open still fails that executor's first top-N task.
   *
   * @throws InvalidInputException naming the GPU address and what is missing
   */
  public static void checkOnExecutors(org.apache.spark.api.java.JavaSparkContext jsc, String kernel) {
    String name = Selection.normalized(kernel);
    if (!name.equals("gpu")) {
      return;
    }
    int tasks = Math.max(1, jsc.defaultParallelism());
    List<String> problems = jsc.parallelize(java.util.stream.IntStream.range(0, tasks).boxed().toList(), tasks)
        .map(i -> {
          try {
            choose(name);
            return "";
          } catch (InvalidInputException e) {
            return e.getMessage();
          }
        })
        .filter(problem -> !problem.isEmpty()).distinct().collect();
    if (!problems.isEmpty()) {
      throw new InvalidInputException(String.join(" | ", problems));
    }
  }

  /**
   * The name of the kernel {@code kernel} means, for logs and the run summary, without opening a GPU (the driver
   * may have none): {@code auto} is named by its CPU kernel, which it runs on wherever no GPU is assigned;
   * {@code gpu} is {@code pytorch(gpu)}. The tasks report what they ran on ({@link KernelUsage}).
   */
  public static String describe(String kernel) {
    return JVM.describe(kernel, NativeBlas.configuredSource());
  }

  /**
   * A kernel and where it runs.
   *
   * @param device {@code cpu} or {@code gpu(N)} (the CUDA index)
   * @param gpu the GPU Spark assigned to the task, or null
   * @param note why the assigned GPU is not used ({@code auto}'s CPU fallback), or null
   */
  record Chosen(MatMulKernel kernel, String device, TaskGpu gpu, String note) {}

  /**
   * A CUDA device opened for products, or why it could not be.
   *
   * @param kernel the kernel on the device, or null
   * @param problem what is missing, when {@code kernel} is null
   */
  record GpuOpening(MatMulKernel kernel, String problem) {
    static GpuOpening failed(String problem) {
      return new GpuOpening(null, problem);
    }
  }

  /** CUDA device {@code cudaIndex} on DJL's PyTorch engine, when the engine sees it and a product runs there. */
  private static GpuOpening openGpu(int cudaIndex) {
    try {
      String problem = TorchDevices.whyNotOpenable(cudaIndex);
      return problem != null ? GpuOpening.failed(problem)
          : new GpuOpening(TorchMatMulKernel.open(Device.gpu(cudaIndex)), null);
    } catch (RuntimeException | LinkageError e) {
      return GpuOpening.failed("DJL's PyTorch engine failed to run a product on CUDA device " + cudaIndex + ": " + e);
    }
  }

  /**
   * Kernels chosen so far in this JVM: CPU kernels by name, GPU kernels (or why they could not be opened) by CUDA
   * index. {@code binder} binds netlib ({@link NativeBlas#bind}), {@code opener} opens a CUDA device.
   */
  static final class Selection {
    private final Function<String, NativeBlas.Binding> binder;
    private final Consumer<String> warn;
    private final IntFunction<GpuOpening> opener;
    private final Map<String, MatMulKernel> cpu = new ConcurrentHashMap<>();
    private final Map<Integer, GpuOpening> gpus = new ConcurrentHashMap<>();
    private final AtomicBoolean warnedJavaBlas = new AtomicBoolean();
    private final AtomicBoolean warnedGpu = new AtomicBoolean();

    Selection(Function<String, NativeBlas.Binding> binder, Consumer<String> warn, IntFunction<GpuOpening> opener) {
      this.binder = binder;
      this.warn = warn;
      this.opener = opener;
    }

    /** A selection that cannot open GPUs (every GPU is missing its CUDA natives). */
    Selection(Function<String, NativeBlas.Binding> binder, Consumer<String> warn) {
      this(binder, warn, index -> GpuOpening.failed("no GPU in this selection"));
    }

    MatMulKernel select(String kernel, String blas) {
      return choose(kernel, blas, () -> null).kernel();
    }

    /** The kernel for {@code kernel}; {@code assigned} gives the task's GPU and is asked only for auto and gpu. */
    Chosen choose(String kernel, String blas, Supplier<TaskGpu> assigned) {
      String name = normalized(kernel);
      NativeBlas.Binding binding = binder.apply(blas);  // every call: a conflicting similarity.blas must fail
      return switch (name) {
        case "native-blas", "java" -> onCpu(name, binding, null, null);
        case "auto" -> auto(binding, assigned);
        case "gpu" -> gpu(binding, assigned);
        default -> throw unknown(name);
      };
    }

    String describe(String kernel, String blas) {
      String name = normalized(kernel);
      if (name.equals("gpu")) {
        return "pytorch(gpu)";
      }
      return choose(name, blas, () -> null).kernel().name();
    }

    private Chosen auto(NativeBlas.Binding binding, Supplier<TaskGpu> assigned) {
      TaskGpu gpu;
      try {
        gpu = assigned.get();
      } catch (InvalidInputException e) {  // an address CUDA cannot see: auto runs on the CPU, and says why
        return fallBack(binding, null, e.getMessage());
      }
      if (gpu == null) {
        return onCpu("auto", binding, null, null);
      }
      GpuOpening opening = open(gpu.cudaIndex());
      if (opening.kernel() != null) {
        return new Chosen(opening.kernel(), "gpu(" + gpu.cudaIndex() + ")", gpu, null);
      }
      return fallBack(binding, gpu, "Spark assigned " + gpu.describe() + " to this task, but the top-N kernel "
          + "cannot open it: " + opening.problem());
    }

    private Chosen fallBack(NativeBlas.Binding binding, TaskGpu gpu, String why) {
      Chosen cpuKernel = onCpu("auto", binding, null, null);
      String note = why + ". Exact top-N runs on the CPU instead (similarity.kernel = auto, "
          + cpuKernel.kernel().name() + "): install the CUDA natives for the GPU, or set similarity.kernel = gpu to "
          + "make this an error, or stop requesting GPUs for the job (spark.task.resource.gpu.amount)";
      if (warnedGpu.compareAndSet(false, true)) {
        warn.accept(note);
      }
      return new Chosen(cpuKernel.kernel(), cpuKernel.device(), gpu, note);
    }

    private Chosen gpu(NativeBlas.Binding binding, Supplier<TaskGpu> assigned) {
      TaskGpu gpu = assigned.get();
      if (gpu == null) {
        GpuOpening first = open(0);
        if (first.kernel() == null) {
          throw new InvalidInputException("similarity.kernel = gpu but Spark assigned no GPU to this task (no "
              + "spark.task.resource.gpu.amount, local mode, or not in a Spark task) and DJL's PyTorch engine sees "
              + "none here: " + first.problem() + ". Or set similarity.kernel = auto to run top-N on the CPU");
        }
        return new Chosen(first.kernel(), "gpu(0)", null, null);
      }
      GpuOpening opening = open(gpu.cudaIndex());
      if (opening.kernel() == null) {
        throw new InvalidInputException("similarity.kernel = gpu: Spark assigned " + gpu.describe() + " to this "
            + "task, but the top-N kernel cannot open it: " + opening.problem() + ". Or set similarity.kernel = "
            + "auto to run top-N on the CPU instead");
      }
      return new Chosen(opening.kernel(), "gpu(" + gpu.cudaIndex() + ")", gpu, null);
    }

    private GpuOpening open(int cudaIndex) {
      return gpus.computeIfAbsent(cudaIndex, opener::apply);
    }

    private Chosen onCpu(String name, NativeBlas.Binding binding, TaskGpu gpu, String note) {
      return new Chosen(cpu.computeIfAbsent(name, k -> create(k, binding)), "cpu", gpu, note);
    }

    private MatMulKernel create(String name, NativeBlas.Binding binding) {
      switch (name) {
        case "auto" -> {
          if (!binding.isNative() && warnedJavaBlas.compareAndSet(false, true)) {
            warn.accept("\n*** itemsim: no native BLAS loads in this JVM; exact top-N runs on netlib's pure-Java "
                + "BLAS (" + binding.library() + "), measured 2-3x slower with the Vector API module and 15x without: "
                + binding.problem() + ". "
                + "similarity.kernel = native-blas makes this an error. ***");
          }
          return new NetlibBlasKernel(binding);
        }
        case "native-blas" -> {
          if (!binding.isNative()) {
            throw new IllegalStateException("similarity.kernel = native-blas but no native BLAS loads in this JVM "
                + "(netlib offers only " + binding.library() + "): " + binding.problem());
          }
          return new NetlibBlasKernel(binding);
        }
        case "java" -> {
          return NetlibBlasKernel.javaOnly();
        }
        default -> throw unknown(name);
      }
    }

    static String normalized(String kernel) {
      return kernel.trim().toLowerCase(Locale.ROOT);
    }

    private static InvalidInputException unknown(String name) {
      return new InvalidInputException("similarity.kernel = '" + name + "' is not one of " + String.join(", ", NAMES));
    }
  }
}
