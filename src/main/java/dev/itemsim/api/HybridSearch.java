package dev.itemsim.api;

import dev.itemsim.similarity.EmbeddingRetriever;
import dev.itemsim.similarity.HybridRetriever;
import dev.itemsim.similarity.LexicalFeatures;
import dev.itemsim.similarity.LexicalRetriever;
import dev.itemsim.similarity.Retriever;

/**
 * itemsim's hybrid scorer over {@code (id, text, vector)} rows: each item's candidates are the union of its
 * embedding top-K and its lexical (TF-IDF over words, model numbers and character n-grams) top-K, scored
 * {@code embeddingWeight · cosine(vectors) + (1 − embeddingWeight) · lexical cosine}. Defaults are the
 * itemsim job's ({@code conf/defaults.conf}). Same result columns and id rules as {@link NearestNeighbors}.
 *
 * <p>Everything runs on the executors: both sides are written as shards to the scratch folder, each task
 * ranks a chunk of queries against every shard; the driver holds no per-item data of its own (the embedding
 * candidates' search numbers the items on the driver as {@link NearestNeighbors} does).
 */
public final class HybridSearch extends ItemSearch<HybridSearch> {
  private String textCol = "text";
  private HybridRetriever.Options options = HybridRetriever.Options.defaults();

  public HybridSearch setTextCol(String value) {
    textCol = value;
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
        new LexicalRetriever.Options(options.lexical().lexical(), value, options.lexical().shardSize()));
    return this;
  }

  /** Weights of the word and model-number cosines in the lexical cosine (the rest is character n-grams). */
  public HybridSearch setLexicalWeights(double wordWeight, double modelWeight) {
    LexicalFeatures.Settings l = options.lexical().lexical();
    options = new HybridRetriever.Options(options.embeddingWeight(), options.embedding(), new LexicalRetriever.Options(
        new LexicalFeatures.Settings(wordWeight, modelWeight, l.ngram(), l.maxPostings()),
        options.lexical().candidates(), options.lexical().shardSize()));
    return this;
  }

  /**
   * Items per shard of each side (16..4194304; default 16384): a task holds one shard of queries and one of
   * corpus items at a time, and reads every corpus shard, so smaller shards use less memory per task and
   * read more.
   */
  public HybridSearch setShardSize(int value) {
    options = new HybridRetriever.Options(options.embeddingWeight(), options.embedding(),
        options.lexical().withShardSize(value));
    return this;
  }

  /** Rows per block of the embedding candidates' blocked product (16..16384). */
  public HybridSearch setBlockSize(int value) {
    options = new HybridRetriever.Options(options.embeddingWeight(),
        new EmbeddingRetriever.Options(options.embedding().kernel(), value), options.lexical());
    return this;
  }

  @Override
  HybridSearch self() {
    return this;
  }

  @Override
  Retriever retriever() {
    return new HybridRetriever(options);
  }

  @Override
  String textCol() {
    return textCol;
  }
}
