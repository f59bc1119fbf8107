package dev.itemsim.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import dev.itemsim.similarity.IncrementalLists;
import dev.itemsim.similarity.LexicalFeatures;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NeighborStateTest {
  @TempDir
  Path dir;

  @Test
  void aLargeVocabularysFrequenciesAreWrittenWithoutLargeTasksAndReadBackEqual() {
    SparkSession spark = SparkTestSupport.spark();
    int vocabulary = 60_000;  // as a full catalogue's words, n-grams and model numbers: over 1 MB of rows
    int[][] features = new int[LexicalFeatures.Frequencies.TOKEN_KINDS][];
    long[][] counts = new long[features.length][];
    for (int k = 0; k < features.length; k++) {
      int kind = k;
      features[k] = IntStream.range(0, vocabulary).map(i -> i * 7 + kind).toArray();
      counts[k] = LongStream.range(0, vocabulary).map(i -> 1 + (i * 31 + kind) % 500).toArray();
    }
    LexicalFeatures.Frequencies written = new LexicalFeatures.Frequencies(6_762, features, counts, 12);
    Dataset<Row> noLists = spark.createDataFrame(List.of(), IncrementalLists.STATE_SCHEMA);
    IncrementalLists.Outcome outcome = new IncrementalLists.Outcome(null, noLists,
        new IncrementalLists.Counts(0, 0, 0, 0, 0, 0), null, written);
    OutputLayout layout = new OutputLayout(dir.resolve("out").toString());
    Map<String, Object> settings = Map.of("topN", 10);

    List<String> warnings = warningsDuring(() -> NeighborState.write(spark, layout.resolve(OutputLayout.STATE),
        "run-1", "2026-03-01", settings, outcome, null));

    assertThat(warnings).noneMatch(w -> w.contains("very large size"));
    NeighborState.Previous previous = NeighborState.read(spark, layout, settings);
    assertThat(previous.whyNone()).isNull();
    LexicalFeatures.Frequencies read = previous.state().frequencies();
    previous.release();
    assertThat(read.documents()).isEqualTo(6_762);
    assertThat(read.changesSinceFit()).isEqualTo(12);
    assertThat(read.features()).isDeepEqualTo(features);
    assertThat(read.counts()).isDeepEqualTo(counts);
  }

  /** The WARN messages any logger printed while {@code action} ran. */
  private static List<String> warningsDuring(Runnable action) {
    List<String> messages = new CopyOnWriteArrayList<>();
    LoggerContext context = (LoggerContext) LogManager.getContext(false);
    AbstractAppender capture = new AbstractAppender("capture-warnings", null, null, true, Property.EMPTY_ARRAY) {
      @Override
      public void append(LogEvent event) {
        messages.add(event.getMessage().getFormattedMessage());
      }
    };
    capture.start();
    context.getConfiguration().getRootLogger().addAppender(capture, Level.WARN, null);
    context.updateLoggers();
    try {
      action.run();
    } finally {
      context.getConfiguration().getRootLogger().removeAppender(capture.getName());
      context.updateLoggers();
      capture.stop();
    }
    return messages;
  }
}
