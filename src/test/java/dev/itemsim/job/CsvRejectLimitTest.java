package dev.itemsim.job;

import static dev.itemsim.job.JobTestSupport.run;
import static dev.itemsim.job.JobTestSupport.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.itemsim.SparkTestSupport;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Encoders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvRejectLimitTest {
  @TempDir
  Path dir;

  @Test
  void rejectLimitCountsCsvLinesNotWhatAQuoteSwallowed() throws Exception {
    List<String> lines = new ArrayList<>(List.of("id,title,brand"));
    for (int i = 1; i <= 14; i++) {
      lines.add(i + ",Product " + i + ",Brand " + i);
    }
    // six broken lines among twenty: 30% rejected, over the 25% limit
    lines.add(3, "b1,\"Quote never closed,Sony");
    lines.add(6, "b2,Too,many,fields");
    lines.add(9, "b3,Too few");
    lines.add(12, "b4,\"12\" screen\",Sony");
    lines.add(15, "b5,\"Another open quote,Bose");
    String latin1 = "b6,Caf\u00e9 table,Ikea";
    lines.add(18, latin1);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (String line : lines) {
      boolean notUtf8 = line.equals(latin1);
      bytes.writeBytes((line + "\n").getBytes(notUtf8 ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8));
    }
    Path csv = Files.write(dir.resolve("catalog.csv"), bytes.toByteArray());
    Path out = dir.resolve("out");

    JobTestSupport.Result result = run(csvSpec(csv, out), "validation.maxRejectedFraction=0.25");

    assertThat(result.exitCode()).as(result.err()).isEqualTo(3);
    assertThat(result.err()).contains("6 of 20 rows rejected").contains("malformed_row=6");
    // a stopped run publishes no table; its rejected rows are kept beside its run summary
    Path kept;
    try (var runs = Files.list(out.resolve(OutputLayout.RUNS))) {
      kept = runs.filter(p -> p.toString().endsWith(".rejected")).findFirst().orElseThrow();
    }
    assertThat(result.err()).contains(kept.toString());
    List<String> records = SparkTestSupport.spark().read().parquet(kept.toString()).select("item_id")
        .as(Encoders.STRING()).collectAsList();
    assertThat(records).containsExactlyInAnyOrder("b1", "b2", "b3", "b4", "b5", "b6");
  }

  @Test
  void csvMaxRecordLinesBoundsAQuotedField() throws Exception {
    Path csv = Files.writeString(dir.resolve("catalog.csv"),
        "id,title,brand\n1,Lamp,Ikea\n2,\"Desk\nwith\ndrawer\",Ikea\n3,Broken,\"Ikea\n4,Stool,Ikea\n");
    JobTestSupport.Result lenient = run(csvSpec(csv, dir.resolve("lenient")), "validation.maxRejectedFraction=0");
    assertThat(lenient.exitCode()).as(lenient.err()).isEqualTo(3);
    assertThat(lenient.err()).contains("1 of 4 rows rejected");

    JobTestSupport.Result strict = run(csvSpec(csv, dir.resolve("strict")), "validation.maxRejectedFraction=0",
        "input.csvMaxRecordLines=2");
    assertThat(strict.exitCode()).as(strict.err()).isEqualTo(3);
    assertThat(strict.err()).contains("4 of 6 rows rejected");
  }

  private Path csvSpec(Path csv, Path out) throws Exception {
    return spec(dir, csv, out, "input.format = csv", "text.template = \"{title} | {brand}\"");
  }
}
