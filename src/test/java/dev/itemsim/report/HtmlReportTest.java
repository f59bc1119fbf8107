package dev.itemsim.report;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.itemsim.SparkTestSupport;
import dev.itemsim.job.JobTestSupport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTML report of a real run (similar items and two evaluations of a small catalogue with hostile titles),
 * rendered in headless Chromium as a person would open it: no console error, every chart present and drawn,
 * catalogue text shown as text and never run. {@code show --explain} prints the explanations the page shows.
 */
@Tag("integration")
class HtmlReportTest {
  static final String SCRIPT_TITLE = "<script>alert(1)</script>";
  static final String ATTRIBUTE_TITLE = "\"><img src=x onerror=alert(2)>";
  static final String HOSTILE_ID = "<b>x3</b>";

  @TempDir
  static Path dir;
  static Path output;
  static Path html;
  static String page;

  /** 30 true Abt/Buy pairs (brands copied to the Abt side, for grouping) plus three hostile items. */
  @BeforeAll
  static void runJobsAndReport() throws Exception {
    SparkSession spark = SparkTestSupport.spark();
    List<String[]> pairs = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("sample-data/abt-buy/matches.csv")).subList(1, 200)) {
      pairs.add(line.split(","));
    }
    Dataset<Row> catalog = spark.read().parquet("sample-data/catalog");
    List<Row> buy = catalog.filter(col("source").equalTo("buy").and(col("brand").isNotNull()))
        .filter(col("id").isin(pairs.stream().map(p -> p[1]).toArray())).orderBy("id").limit(30).collectAsList();
    List<Row> rows = new ArrayList<>();
    List<String> matches = new ArrayList<>(List.of("id_a,id_b"));
    for (Row b : buy) {
      String abtId = pairs.stream().filter(p -> p[1].equals(b.getString(0))).findFirst().orElseThrow()[0];
      Row a = catalog.filter(col("id").equalTo(abtId)).first();
      rows.add(RowFactory.create(a.getString(0), a.getString(1), b.getString(2), a.getString(3), null, null, "abt"));
      rows.add(RowFactory.create(b.getString(0), b.getString(1), b.getString(2), b.getString(3), null, null, "buy"));
      matches.add(abtId + "," + b.getString(0));
    }
    rows.add(JobTestSupport.product("x1", SCRIPT_TITLE + " Sony Turntable", "<b>Bold & \"Co\"</b>"));
    rows.add(JobTestSupport.product("x2", ATTRIBUTE_TITLE + " Sony Turntable", "<b>Bold & \"Co\"</b>"));
    rows.add(JobTestSupport.product(HOSTILE_ID, "Sony PS-LX350H Belt-Drive Turntable", "<b>Bold & \"Co\"</b>"));
    Path catalogPath = dir.resolve("catalog");
    spark.createDataFrame(rows, catalog.schema()).coalesce(1).write().parquet(catalogPath.toString());
    Path matchesPath = dir.resolve("matches.csv");
    Files.write(matchesPath, matches);

    output = dir.resolve("out");
    Path spec = JobTestSupport.spec(dir, catalogPath, output);
    assertThat(JobTestSupport.run(spec).exitCode()).isZero();
    Path evaluate = dir.resolve("evaluate.conf");
    Files.write(evaluate, List.of("job = evaluate", "input.path = \"" + catalogPath + "\"",
        "eval.matches = \"" + matchesPath + "\"", "eval.listSize = 20", "output.path = \"" + output + "\"",
        "similarity.blockSize = 16"));
    for (String scorer : List.of("embedding", "hybrid")) {
      JobTestSupport.Result r = JobTestSupport.run(evaluate, "similarity.scorer=" + scorer);
      assertThat(r.exitCode()).as(r.err()).isZero();
    }
    html = dir.resolve("report.html");
    JobTestSupport.Result report = JobTestSupport.cli("report", "--output", output.toString(), "--html",
        html.toString(), "--sample", "100");
    assertThat(report.exitCode()).as(report.err()).isZero();
    assertThat(report.out()).contains("Wrote " + html);
    page = Files.readString(html, StandardCharsets.UTF_8);
  }

  @Test
  void thePageStandsAloneAndEscapesEveryText() {
    assertThat(page).startsWith("<!DOCTYPE html>");
    assertThat(page).doesNotContain(SCRIPT_TITLE).doesNotContain("<img src=x").doesNotContain("<b>x3</b>")
        .doesNotContain("<b>Bold");
    assertThat(page).contains("&lt;script&gt;alert(1)&lt;/script&gt;").contains("&lt;b&gt;x3&lt;/b&gt;");
    assertThat(page).doesNotContain("<script").doesNotContain("http://").doesNotContain("https://");
    assertThat(page).contains("Content-Security-Policy").contains("default-src 'none'");
    assertThat(page).contains("data:image/png;base64,");
    assertThat(page).contains("Similarity heatmap").contains("Score distribution").contains("Coverage")
        .contains("Recall@K").contains("Worst misses").contains("Run summary");
    assertThat(page).contains("0.300 × embedding").contains("× model numbers");
  }

  @Test
  void chromiumShowsEveryChartAndRunsNothing() throws Exception {
    var binary = HeadlessChromium.binary();
    if (binary.isEmpty()) {
      // .ci/run installs Debian's chromium: in CI its absence is a failure, elsewhere a reason to skip
      assertThat(System.getenv("CI")).as("chromium is not installed (.ci/run installs it)").isNull();
      Assumptions.abort("chromium is not on the PATH: apt-get install -y chromium to run this test");
    }
    String expression = """
        (() => {
          const images = [...document.images].map(img => {
            const canvas = document.createElement('canvas');
            canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
            const g = canvas.getContext('2d');
            g.drawImage(img, 0, 0);
            const d = canvas.width ? g.getImageData(0, 0, canvas.width, canvas.height).data : [];
            const colors = new Set(); let inked = 0;
            for (let i = 0; i < d.length; i += 4 * 5) {
              colors.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
              if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) inked++;
            }
            return {alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
                    colors: colors.size, inked: inked, dataUri: img.src.startsWith('data:image/png;base64,')};
          });
          return JSON.stringify({title: document.title, scripts: document.scripts.length,
            handlers: document.querySelectorAll('[onerror],[onload],[onclick]').length,
            text: document.body.textContent, details: document.querySelectorAll('details').length,
            images: images});
        })()
        """;
    try (HeadlessChromium chromium = HeadlessChromium.start(binary.get(), Files.createDirectories(
        dir.resolve("chromium-profile")))) {
      HeadlessChromium.PageLoad load = chromium.load(html, expression);
      Files.createDirectories(Path.of("target"));
      Files.write(Path.of("target/report-screenshot.png"), load.screenshot());
      assertThat(load.errors()).as("console errors, exceptions, failed loads").isEmpty();
      assertThat(load.dialogs()).as("alert() dialogs").isEmpty();
      JsonNode page = load.evaluated();
      assertThat(page.path("title").asText()).startsWith("itemsim similar-items report");
      assertThat(page.path("scripts").asInt()).isZero();
      assertThat(page.path("handlers").asInt()).isZero();
      assertThat(page.path("text").asText()).contains(SCRIPT_TITLE).contains(ATTRIBUTE_TITLE).contains(HOSTILE_ID)
          .contains("Bold & \"Co\"");
      assertThat(page.path("details").asInt()).isEqualTo(63);
      JsonNode images = page.path("images");
      assertThat(images.size()).as("heatmap, scores, coverage, hubs, recall").isGreaterThanOrEqualTo(5);
      for (JsonNode image : images) {
        assertThat(image.path("dataUri").asBoolean()).as(image.toString()).isTrue();
        assertThat(image.path("complete").asBoolean()).as(image.toString()).isTrue();
        assertThat(image.path("width").asInt()).as(image.toString()).isGreaterThan(300);
        assertThat(image.path("height").asInt()).as(image.toString()).isGreaterThan(200);
        assertThat(image.path("colors").asInt()).as("not blank: %s", image).isGreaterThan(8);
        assertThat(image.path("inked").asInt()).as("not blank: %s", image).isGreaterThan(500);
      }
      java.awt.image.BufferedImage shot = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(
          load.screenshot()));
      assertThat(shot.getWidth()).isGreaterThan(600);
    }
  }

  @Test
  void showExplainPrintsTheExplanationsThePageShows() {
    JobTestSupport.Result r = JobTestSupport.cli("show", "--output", output.toString(), "--item", "x1", "--explain");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("scorer hybrid").contains("x1  " + SCRIPT_TITLE);
    List<String> formulas = r.out().lines().map(String::trim).filter(l -> l.contains(" × embedding ")).toList();
    assertThat(formulas).hasSize(5);
    String shown = org.apache.commons.text.StringEscapeUtils.unescapeHtml4(page);
    for (String formula : formulas) {
      assertThat(shown).contains(formula);
    }
    assertThat(r.out()).contains("shared model numbers: ");
    assertThat(r.out().lines().filter(l -> l.trim().startsWith("shared model numbers")).toList()).hasSize(5);
  }

  @Test
  void anEmptyOutputOrAMissingEvaluationIsAClearError() {
    JobTestSupport.Result r = JobTestSupport.cli("report", "--output", dir.resolve("nothing").toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("No similar_items or matches table");
    Path missing = dir.resolve("no-such-evaluation");
    JobTestSupport.Result e = JobTestSupport.cli("report", "--output", output.toString(), "--evaluation",
        missing.toString(), "--html", dir.resolve("unused.html").toString());
    assertThat(e.exitCode()).isEqualTo(2);
    assertThat(e.err()).contains("No evaluation under --evaluation " + missing);
  }
}
