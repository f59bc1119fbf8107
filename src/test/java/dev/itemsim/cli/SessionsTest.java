package dev.itemsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.ItemsimKryoRegistrator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class SessionsTest {
  private static final String CLUSTER_PROFILE = "--add-modules=jdk.incubator.vector -Dai.djl.offline=true";

  @Test
  void javaOptionsGivenToSparkSubmitAreKeptAndTheJobsAdded() {
    SparkConf submitted = new SparkConf(false)
        .set("spark.executor.extraJavaOptions", "-Xlog:gc:file=/tmp/gc-%p.log -Dai.djl.offline=true")
        .set("spark.sql.shuffle.partitions", "400");
    Map<String, String> job = new LinkedHashMap<>();
    job.put("spark.executor.extraJavaOptions", CLUSTER_PROFILE);
    job.put("spark.driver.extraJavaOptions", CLUSTER_PROFILE);
    job.put("spark.sql.shuffle.partitions", "8");

    SparkConf conf = Sessions.configured(submitted, job);

    assertThat(conf.get("spark.executor.extraJavaOptions"))
        .isEqualTo("-Xlog:gc:file=/tmp/gc-%p.log -Dai.djl.offline=true --add-modules=jdk.incubator.vector");
    assertThat(conf.get("spark.driver.extraJavaOptions")).isEqualTo(CLUSTER_PROFILE);
    // any other setting of the job replaces the submitted one, as before
    assertThat(conf.get("spark.sql.shuffle.partitions")).isEqualTo("8");
  }

  @Test
  void optionsAlreadySubmittedAreNotRepeated() {
    SparkConf submitted = new SparkConf(false).set("spark.executor.extraJavaOptions", CLUSTER_PROFILE + " -Xlog:gc");

    SparkConf conf = Sessions.configured(submitted, Map.of("spark.executor.extraJavaOptions", CLUSTER_PROFILE));

    assertThat(conf.get("spark.executor.extraJavaOptions")).isEqualTo(CLUSTER_PROFILE + " -Xlog:gc");
  }

  @Test
  void theJobRunsUnderKryoWhateverRegistratorsWereSubmitted() {
    SparkConf submitted = new SparkConf(false)
        .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .set("spark.kryo.registrator", "com.example.Registrator");

    SparkConf conf = Sessions.configured(submitted, Map.of());

    assertThat(conf.get("spark.kryo.registrator"))
        .isEqualTo("com.example.Registrator," + ItemsimKryoRegistrator.class.getName());
  }
}
