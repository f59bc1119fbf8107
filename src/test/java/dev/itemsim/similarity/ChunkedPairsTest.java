package dev.itemsim.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

/** A map task's embedding pairs leave in bounded parts, each pair once, each part within its chunk. */
class ChunkedPairsTest {

  @Test
  void partsStayWithinTheLimitAndCarryEveryPairOnceToItsChunk() {
    // three chunks of queries: global indexes 0..9, 10..24, 25..29
    List<ShardSearch.Chunk> chunks = List.of(new ShardSearch.Chunk(0, 0, 10, 0),
        new ShardSearch.Chunk(0, 10, 25, 10), new ShardSearch.Chunk(1, 0, 5, 25));
    Random random = new Random(7);
    List<Row> rows = new ArrayList<>();
    Map<Long, Integer> expected = new HashMap<>();
    for (int i = 0; i < 500; i++) {
      int q = random.nextInt(30);
      int c = random.nextInt(1000);
      int chunk = q < 10 ? 0 : q < 25 ? 1 : 2;
      long pair = (long) c << 32 | (q - chunks.get(chunk).first());
      if (expected.containsKey(pair | (long) chunk << 62)) {
        continue;
      }
      expected.put(pair | (long) chunk << 62, i % 50 + 1);
      rows.add(RowFactory.create(q, c, i % 50 + 1));
    }

    Map<Long, Integer> seen = new HashMap<>();
    int parts = 0;
    var it = new CandidateReranking.ChunkedPairs(rows.iterator(), chunks, 7);
    while (it.hasNext()) {
      Tuple2<Integer, CandidateReranking.EmbeddingPairs> part = it.next();
      parts++;
      assertThat(part._2().pairs()).hasSizeBetween(1, 7).hasSameSizeAs(part._2().ranks());
      for (int i = 0; i < part._2().pairs().length; i++) {
        long key = part._2().pairs()[i] | (long) part._1() << 62;
        assertThat(seen.put(key, part._2().ranks()[i])).as("pair %d seen twice", key).isNull();
      }
    }
    assertThat(seen).isEqualTo(expected);
    assertThat(parts).isGreaterThanOrEqualTo(expected.size() / 7);
  }

  @Test
  void noRowsGiveNoParts() {
    var it = new CandidateReranking.ChunkedPairs(java.util.Collections.emptyIterator(),
        List.of(new ShardSearch.Chunk(0, 0, 10, 0)), 7);
    assertThat(it.hasNext()).isFalse();
  }
}
