package dev.itemsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.launcher.JavaModuleOptions;
import org.junit.jupiter.api.Test;

/**
 * The JVMs that embed Spark without spark-submit (the launcher's {@code run}, the test JVM) start with the options
 * spark-submit would give them: Spark's own list, which changes with Spark versions.
 */
class SparkModuleOptionsTest {
  private static final List<String> SPARKS = Arrays.asList(JavaModuleOptions.defaultModuleOptionArray());

  @Test
  void theLauncherGivesItsJvmSparksModuleOptions() throws Exception {
    String script = Files.readString(Path.of("scripts/spark-support.sh"));
    Matcher m = Pattern.compile("(?s)\nspark_module_options=\"(.*?)\"").matcher(script);
    assertThat(m.find()).as("spark_module_options in scripts/spark-support.sh").isTrue();

    List<String> options = Arrays.asList(m.group(1).replace("\\\n", " ").trim().split("\\s+"));

    assertThat(options).containsExactlyElementsOf(SPARKS);
    assertThat(Files.readString(Path.of("scripts/itemsim"))).contains("$spark_module_options");
  }

  @Test
  void theTestJvmStartsWithSparksModuleOptions() {
    assertThat(ManagementFactory.getRuntimeMXBean().getInputArguments()).containsAll(SPARKS);
  }
}
