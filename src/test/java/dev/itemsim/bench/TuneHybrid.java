package dev.itemsim.bench;

import dev.itemsim.catalog.CatalogReader;
import dev.itemsim.catalog.TextTemplate;
import dev.itemsim.embed.EncoderSettings;
import dev.itemsim.eval.MatchPairs;
import dev.itemsim.eval.RankingMetrics;
import dev.itemsim.similarity.BlockedTopN;
import dev.itemsim.similarity.HybridRanker;
import dev.itemsim.similarity.Kernels;
import dev.itemsim.similarity.LexicalFeatures;
import dev.itemsim.similarity.SparseTopN;
import dev.itemsim.similarity.SparseVectors;
import dev.itemsim.similarity.TopNBuffer;
import dev.itemsim.similarity.VectorBlocks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Grid search of the hybrid weights on one benchmark (A → B recall@1, then recall@10), encoding once.
 * The protocol: tune on Abt-Buy only, report Amazon-Google with the chosen weights untouched.
 *
 * <p>Usage: {@code TuneHybrid sample-data/abt-buy}.
 */
public final class TuneHybrid {
  public static void main(String[] args) {
    String dir = args.length > 0 ? args[0] : "sample-data/abt-buy";
    SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.plugins", dev.itemsim.similarity.NativeBlasPlugin.class.getName()).getOrCreate();
    TextTemplate template = TextTemplate.parse("{title} | {brand} | {category}", 300);
    Side a = side(spark, dir + "/products_a.csv", template);
    Side b = side(spark, dir + "/products_b.csv", template);
    var truth = MatchPairs.read(spark, dir + "/matches.csv").partners(true);
    var encoder = dev.itemsim.embed.SharedEncoders.get(EncoderSettings.defaults("builtin:all-minilm-l6-v2"));
    VectorBlocks av = VectorBlocks.of(Arrays.asList(encoder.encode(a.texts).vectors()), 384, 2048);
    VectorBlocks bv = VectorBlocks.of(Arrays.asList(encoder.encode(b.texts).vectors()), 384, 2048);
    int k = 50;
    Map<Integer, TopNBuffer> emb = BlockedTopN.computeCrossLocally(av, bv, k, Kernels.select("auto"));
    int[][] embLists = new int[a.ids.size()][];
    int[] ids = new int[k];
    float[] scores = new float[k];
    for (var e : emb.entrySet()) {
      for (int r = 0; r < e.getValue().rows(); r++) {
        embLists[e.getKey() * 2048 + r] = Arrays.copyOf(ids, e.getValue().sorted(r, ids, scores));
      }
    }
    System.out.printf(Locale.ROOT, "%-9s %-9s %-9s %-6s %9s %9s%n", "wordW", "modelW", "embW", "ngram", "recall@1",
        "recall@10");
    int ngram = 3;
    for (double modelWeight : new double[] {0.0, 0.2, 0.35, 0.5}) {
      for (double wordWeight : new double[] {0.2, 0.35}) {
        List<SparseVectors> lex = LexicalFeatures.build(spark, List.of(a.texts, b.texts),
            new LexicalFeatures.Settings(wordWeight, modelWeight, ngram));
        List<int[]> lexLists = new SparseTopN(lex.get(1)).searchAll(lex.get(0), k, false);
        for (double embWeight : new double[] {0.0, 0.1, 0.2, 0.3, 0.4}) {
          Map<String, List<String>> ranked = new HashMap<>();
          for (int q = 0; q < a.ids.size(); q++) {
            HybridRanker.Ranked r = HybridRanker.rank(q, embLists[q], lexLists.get(q), av, bv, lex.get(0), lex.get(1),
                embWeight, k);
            List<String> list = new ArrayList<>();
            for (int c : r.corpusIndexes()) {
              list.add(b.ids.get(c));
            }
            ranked.put(a.ids.get(q), list);
          }
          RankingMetrics.Result m = RankingMetrics.compute(ranked, truth, RankingMetrics.DEFAULT_KS);
          System.out.printf(Locale.ROOT, "%-9.2f %-9.2f %-9.2f %-6d %9.4f %9.4f%n", wordWeight, modelWeight, embWeight,
              ngram,
              m.get("recall@1"), m.get("recall@10"));
        }
      }
    }
    spark.stop();
  }

  private record Side(List<String> ids, List<String> texts) {}

  private static Side side(SparkSession spark, String csv, TextTemplate template) {
    List<String> ids = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    for (Row r : CatalogReader.read(spark, csv, "csv").select("id", "title", "brand", "category").collectAsList()) {
      ids.add(r.getString(0));
      texts.add(template.render(Arrays.asList(r.getString(1), r.getString(2), r.getString(3))));
    }
    return new Side(ids, texts);
  }
}
