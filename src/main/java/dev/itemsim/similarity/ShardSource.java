package dev.itemsim.similarity;

/**
 * A search side cut into shards of consecutive global indexes (shard {@code s} holds indexes
 * {@code offset(s) .. offset(s + 1) − 1}), read one shard at a time ({@link ItemShards} on a file system).
 */
interface ShardSource extends java.io.Serializable {
  int numShards();

  /** The global index of shard {@code s}'s first item; {@code offset(numShards())} is the item count. */
  int offset(int s);

  /**
   * The {@code parts} of shard {@code s}, into {@code reuse}'s arrays where they are large enough (null: new
   * arrays of exact length).
   */
  Shard read(int s, Shard.Parts parts, Shard reuse);

  default int count() {
    return offset(numShards());
  }

  /** The shard holding global index {@code g}. */
  default int shardOf(int g) {
    int lo = 0;
    int hi = numShards() - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (offset(mid) <= g) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }
}
