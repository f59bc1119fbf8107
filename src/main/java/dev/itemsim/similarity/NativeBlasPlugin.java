package dev.itemsim.similarity;

import java.util.Map;
import org.apache.spark.SparkContext;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;

/**
 * Binds netlib to the BLAS of {@value NativeBlas#SPARK_CONF} ({@code similarity.blas}) when the driver and
 * each executor start, before any task or Spark ML code can make netlib load a BLAS of its own choosing.
 * Enabled with {@code spark.plugins = dev.itemsim.similarity.NativeBlasPlugin} (conf/local.conf and
 * conf/cluster.conf set it); without it {@link Kernels} binds on first use, which is enough unless Spark ML
 * touches netlib first in that JVM.
 */
public final class NativeBlasPlugin implements SparkPlugin {
  @Override
  public DriverPlugin driverPlugin() {
    return new DriverPlugin() {
      @Override
      public Map<String, String> init(SparkContext sc, PluginContext context) {
        NativeBlas.bind(context.conf().get(NativeBlas.SPARK_CONF, "bundled"));
        return Map.of();
      }
    };
  }

  @Override
  public ExecutorPlugin executorPlugin() {
    return new ExecutorPlugin() {
      @Override
      public void init(PluginContext context, Map<String, String> extraConf) {
        NativeBlas.bind(context.conf().get(NativeBlas.SPARK_CONF, "bundled"));
      }
    };
  }
}
