package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.SparkTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScratchFolderTest {
  @TempDir
  Path dir;

  @Test
  void aFolderIsCreatedOnlyWhenNew() throws Exception {
    org.apache.hadoop.fs.Path folder = new org.apache.hadoop.fs.Path(dir.resolve("segments").toUri());
    ScratchFolder.createNew(folder, new Configuration(), "segment folder");
    assertThat(dir.resolve("segments")).isDirectory();

    Files.writeString(dir.resolve("segments").resolve("leftover"), "of another run");
    assertThatThrownBy(() -> ScratchFolder.createNew(folder, new Configuration(), "segment folder"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("segment folder " + folder + " exists already");
    assertThat(dir.resolve("segments").resolve("leftover")).exists();
  }

  @Test
  void deletingTwiceDeletesTheFolderAndDestroysTheConfigurationOnce() throws Exception {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    Configuration conf = jsc.hadoopConfiguration();
    Broadcast<SerializableConfiguration> shared = jsc.broadcast(new SerializableConfiguration(conf));
    Path files = Files.createDirectories(dir.resolve("blocks"));
    Files.writeString(files.resolve("block-000000"), "vectors");
    // as a task sees it: no driver configuration, so it is read from the broadcast
    ScratchFolder folder = new ScratchFolder(files.toUri().toString(), shared, null);
    assertThat(folder.conf().get("fs.defaultFS")).isEqualTo(conf.get("fs.defaultFS"));

    folder.delete();
    assertThat(files).doesNotExist();
    assertThat(shared.isValid()).isFalse();
    Files.createDirectories(files);
    folder.delete();  // a second call: the folder again, no second destroy (which Spark refuses)
    assertThat(files).doesNotExist();
  }
}
