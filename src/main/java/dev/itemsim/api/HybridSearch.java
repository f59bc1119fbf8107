package dev.itemsim.api;

import dev.itemsim.similarity.EmbeddingRetriever;
import dev.itemsim.similarity.HybridRetriever;
import dev.itemsim.similarity.LexicalFeatures;
import dev.itemsim.similarity.LexicalRetriever;
import dev.itemsim.similarity.NeighborSearch;
import dev.itemsim.similarity.SearchRequest;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * itemsim's hybrid scorer over {@code (id, text, vector)} rows: each item's candidates are the union of its
 * embedding top-K and its lexical (TF-IDF over words, model numbers and character n-grams) top-K, scored
 * {@code embeddingWeight · cosine(vectors) + (1 − embeddingWeight) · lexical cosine}. Defaults are the
 * itemsim job's ({@code conf/defaults.conf}). Same result columns and id rules as {@link NearestNeighbors}.
 *
 * <p>The texts, vectors and candidate lists are gathered on the driver (fine to a few hundred thousand
 * items), then re-scored in Spark tasks.
 */
public final class HybridSearch {
  private String idCol = "id";
  private String textCol = "text";
  private String vectorCol = "embedding";
  private int topN = 10;
  private HybridRetriever.Options options = HybridRetriever.Options.defaults();

  public HybridSearch setIdCol(String value) {
    idCol = value;
    return this;
  }

  public HybridSearch setTextCol(String value) {
    textCol = value;
    return this;
  }

  public HybridSearch setVectorCol(String value) {
    vectorCol = value;
    return this;
  }

  public HybridSearch setTopN(int value) {
    topN = value;
    return this;
  }

  /** Weight of the embedding cosine in the blend (0..1). */
  public HybridSearch setEmbeddingWeight(double value) {
    options = new HybridRetriever.Options(value, options.embedding(), options.lexical());
    return this;
  }

  /** Candidates each retriever contributes per item before re-scoring. */
  public HybridSearch setCandidates(int value) {
    options = new HybridRetriever.Options(options.embeddingWeight(), options.embedding(),
        new LexicalRetriever.Options(options.lexical().lexical(), value));
    return this;
  }

  /** Weights of the word and model-number cosines in the lexical cosine (the rest is character n-grams). */
  public HybridSearch setLexicalWeights(double wordWeight, double modelWeight) {
    LexicalFeatures.Settings l = options.lexical().lexical();
    options = new HybridRetriever.Options(options.embeddingWeight(), options.embedding(), new LexicalRetriever.Options(
        new LexicalFeatures.Settings(wordWeight, modelWeight, l.ngram(), l.maxPostings()),
        options.lexical().candidates()));
    return this;
  }

  public HybridSearch setBlockSize(int value) {
    options = new HybridRetriever.Options(options.embeddingWeight(),
        new EmbeddingRetriever.Options(options.embedding().kernel(), value), options.lexical());
    return this;
  }

  /** Every item's best other items of the same dataset. */
  public Dataset<Row> search(Dataset<Row> items) {
    return run(SearchColumns.of(items, "items", idCol, vectorCol, textCol), null);
  }

  /** Every query's best items of {@code corpus} (the same column names on both). */
  public Dataset<Row> search(Dataset<Row> queries, Dataset<Row> corpus) {
    return run(SearchColumns.of(queries, "queries", idCol, vectorCol, textCol),
        SearchColumns.of(corpus, "corpus items", idCol, vectorCol, textCol));
  }

  private Dataset<Row> run(Dataset<Row> queries, Dataset<Row> corpus) {
    return NearestNeighbors.materialise(queries.sparkSession(), new HybridRetriever(options),
        new NeighborSearch.Options(topN, -1f, SearchRequest.FilterColumns.NONE, false), queries, corpus,
        "/tmp/itemsim-scratch");
  }
}
