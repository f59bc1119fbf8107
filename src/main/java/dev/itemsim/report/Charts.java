package dev.itemsim.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.statistics.HistogramDataset;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The report's charts, drawn with JFreeChart and returned as PNG {@code data:} URIs, so the page needs no
 * file or network beside itself. Rendering is headless (no display needed).
 */
final class Charts {
  static final int WIDTH = 860;
  static final int HEIGHT = 420;

  static {
    System.setProperty("java.awt.headless", "true");
  }

  private Charts() {}

  /**
   * A square matrix of cosine similarities, rows and columns in the same order; {@code labels[i]} is drawn at
   * row/column {@code i} (empty labels draw nothing, so a group can be named once).
   */
  static String heatmap(double[][] similarity, String[] labels, String title) {
    int n = similarity.length;
    double[][] xyz = new double[3][n * n];
    double min = 1;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        int k = i * n + j;
        xyz[0][k] = j;
        xyz[1][k] = i;
        xyz[2][k] = similarity[i][j];
        min = Math.min(min, similarity[i][j]);
      }
    }
    DefaultXYZDataset data = new DefaultXYZDataset();
    data.addSeries("cosine", xyz);
    double lower = Math.max(-1, Math.floor(min * 10) / 10);
    Gradient scale = new Gradient(lower, 1.0);
    XYBlockRenderer renderer = new XYBlockRenderer();
    renderer.setPaintScale(scale);
    SymbolAxis x = new SymbolAxis(null, labels);
    x.setVerticalTickLabels(true);
    x.setGridBandsVisible(false);
    x.setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
    SymbolAxis y = new SymbolAxis(null, labels);
    y.setInverted(true);
    y.setGridBandsVisible(false);
    y.setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
    x.setRange(-0.5, n - 0.5);
    y.setRange(-0.5, n - 0.5);
    XYPlot plot = new XYPlot(data, x, y, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinesVisible(false);
    plot.setRangeGridlinesVisible(false);
    JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 14), plot, false);
    NumberAxis legendAxis = new NumberAxis("cosine");
    legendAxis.setRange(lower, 1.0);
    PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
    legend.setPosition(RectangleEdge.RIGHT);
    legend.setMargin(4, 4, 4, 4);
    legend.setStripWidth(14);
    chart.addSubtitle(legend);
    chart.setBackgroundPaint(Color.WHITE);
    return png(chart, WIDTH, WIDTH);
  }

  /** Histograms of several score samples over one range, e.g. rank-1 and rank-N scores. */
  static String histograms(Map<String, double[]> series, String title, String xLabel, int bins) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (double[] values : series.values()) {
      for (double v : values) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    if (!(max > min)) {
      min = Double.isFinite(min) ? min - 0.5 : 0;
      max = min + 1;
    }
    HistogramDataset data = new HistogramDataset();
    for (Map.Entry<String, double[]> e : series.entrySet()) {
      if (e.getValue().length > 0) {
        data.addSeries(e.getKey(), e.getValue(), bins, min, max);
      }
    }
    JFreeChart chart = ChartFactory.createHistogram(title, xLabel, "count", data, PlotOrientation.VERTICAL, true,
        false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setForegroundAlpha(0.7f);
    style(chart);
    return png(chart, WIDTH, HEIGHT);
  }

  /** A bar per category (e.g. the most-listed items), horizontal. */
  static String bars(List<String> labels, List<Number> values, String title, String valueLabel) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (int i = 0; i < labels.size(); i++) {
      data.addValue(values.get(i), valueLabel, labels.get(i));
    }
    JFreeChart chart = ChartFactory.createBarChart(title, null, valueLabel, data, PlotOrientation.HORIZONTAL,
        false, false, false);
    style(chart);
    return png(chart, WIDTH, Math.max(HEIGHT, 60 + 26 * labels.size()));
  }

  /** Lines through points, one series per entry (x, y pairs), e.g. recall@K per scorer. */
  static String lines(Map<String, double[][]> series, String title, String xLabel, String yLabel) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (Map.Entry<String, double[][]> e : series.entrySet()) {
      XYSeries s = new XYSeries(e.getKey());
      for (double[] point : e.getValue()) {
        s.add(point[0], point[1]);
      }
      data.addSeries(s);
    }
    JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, data, PlotOrientation.VERTICAL, true,
        false, false);
    XYPlot plot = chart.getXYPlot();
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    plot.setRenderer(renderer);
    NumberAxis y = (NumberAxis) plot.getRangeAxis();
    y.setRange(0, 1.02);
    style(chart);
    return png(chart, WIDTH, HEIGHT);
  }

  private static void style(JFreeChart chart) {
    chart.setBackgroundPaint(Color.WHITE);
    chart.getPlot().setBackgroundPaint(new Color(0xF7, 0xF7, 0xF7));
    chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
  }

  private static String png(JFreeChart chart, int width, int height) {
    BufferedImage image = chart.createBufferedImage(width, height);
    try {
      return "data:image/png;base64," + Base64.getEncoder().encodeToString(ChartUtils.encodeAsPNG(image));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot encode a chart as PNG", e);
    }
  }

  /** Dark blue (low) through teal and green to yellow (high), like viridis. */
  private record Gradient(double lower, double upper) implements PaintScale {
    private static final Color[] STOPS = {new Color(0x44, 0x01, 0x54), new Color(0x3B, 0x52, 0x8B),
        new Color(0x21, 0x90, 0x8C), new Color(0x5D, 0xC8, 0x63), new Color(0xFD, 0xE7, 0x25)};

    @Override
    public double getLowerBound() {
      return lower;
    }

    @Override
    public double getUpperBound() {
      return upper;
    }

    @Override
    public Paint getPaint(double value) {
      double t = Math.max(0, Math.min(1, (value - lower) / (upper - lower)));
      double at = t * (STOPS.length - 1);
      int i = Math.min(STOPS.length - 2, (int) at);
      double f = at - i;
      Color a = STOPS[i];
      Color b = STOPS[i + 1];
      return new Color((int) Math.round(a.getRed() + f * (b.getRed() - a.getRed())),
          (int) Math.round(a.getGreen() + f * (b.getGreen() - a.getGreen())),
          (int) Math.round(a.getBlue() + f * (b.getBlue() - a.getBlue())));
    }
  }
}
