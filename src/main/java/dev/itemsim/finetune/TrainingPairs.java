package dev.itemsim.finetune;

import dev.itemsim.InvalidInputException;
import dev.itemsim.catalog.PairRows;
import dev.itemsim.eval.MatchGraph;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/**
 * What the encoder is trained on: positive pairs {@code (a, b)} (a of catalogue A, b of catalogue B, or both of
 * A when there is one catalogue), explicit negatives per anchor, and for every item the items it must never
 * be pushed away from ({@link #related}: its match-graph component, or its direct co-engagement partners).
 *
 * @param positives pairs that should be close, in a fixed order
 * @param negatives per anchor id, B items labelled as not matching it (hard negatives)
 * @param related per item id, the items that are true partners of it (itself included): never a negative
 * @param byComponent whether {@link #related} are match-graph components (labelled pairs), so a split by
 *     component keeps partners together; false for co-engagement pairs, which are split pair by pair
 */
public record TrainingPairs(List<Pair> positives, Map<String, List<String>> negatives,
    Map<String, Set<String>> related, boolean byComponent) {

  /** One positive pair. */
  public record Pair(String a, String b) {}

  /** The true partners of {@code id} (itself included), or just itself. */
  public Set<String> relatedTo(String id) {
    return related.getOrDefault(id, Set.of(id));
  }

  /** Positives as {@code [a, b]} rows. */
  public List<String[]> rows() {
    return positives.stream().map(p -> new String[] {p.a(), p.b()}).toList();
  }

  /** Labelled positives: related items are match-graph components. */
  static TrainingPairs labelled(List<Pair> positives, Map<String, List<String>> negatives) {
    MatchGraph graph = new MatchGraph(positives.stream().map(p -> new String[] {p.a(), p.b()}).toList());
    return new TrainingPairs(List.copyOf(positives), negatives, graph.componentMates(), true);
  }

  /** Co-engagement positives: related items are direct partners. */
  static TrainingPairs coEngaged(List<Pair> positives) {
    Map<String, Set<String>> related = new LinkedHashMap<>();
    for (Pair p : positives) {
      related.computeIfAbsent(p.a(), k -> new HashSet<>(Set.of(k))).add(p.b());
      related.computeIfAbsent(p.b(), k -> new HashSet<>(Set.of(k))).add(p.a());
    }
    return new TrainingPairs(List.copyOf(positives), Map.of(), related, false);
  }

  /** The same kind of pairs restricted to {@code kept} (and the negatives of their anchors). */
  TrainingPairs subset(List<Pair> kept) {
    Set<String> anchors = new HashSet<>();
    kept.forEach(p -> anchors.add(p.a()));
    Map<String, List<String>> keptNegatives = new LinkedHashMap<>();
    negatives.forEach((a, n) -> {
      if (anchors.contains(a)) {
        keptNegatives.put(a, n);
      }
    });
    return new TrainingPairs(List.copyOf(kept), keptNegatives, related, byComponent);
  }

  /**
   * Reads labelled pairs: CSV with a header or Parquet, columns {@code id_a} (an id of catalogue A) and
   * {@code id_b} (of catalogue B), optional {@code label} (1 or true: a match; 0 or false: a non-match, used
   * as a hard negative of {@code id_a}). Fails naming the file for missing columns, unreadable rows, blank
   * ids, labels other than 0/1/true/false, or ids that are not among the valid items of their catalogue.
   *
   * @param idsA valid ids of catalogue A; {@code idsB} those of B (the same set for one catalogue)
   */
  public static TrainingPairs readLabelled(SparkSession spark, String path, Set<String> idsA, Set<String> idsB,
      String catalogueA, String catalogueB) {
    List<Pair> positives = new ArrayList<>();
    Map<String, List<String>> negatives = new LinkedHashMap<>();
    List<String> unknown = new ArrayList<>();
    long unknownRows = 0;
    List<PairRows.Pair> rows = PairRows.read(spark, path, "finetune.pairs", "Training pairs file");
    for (PairRows.Pair r : rows) {
      boolean knownA = idsA.contains(r.a());
      boolean knownB = idsB.contains(r.b());
      if (!knownA || !knownB) {
        unknownRows++;
        if (unknown.size() < 5) {
          unknown.add("row " + r.row() + ": " + (!knownA ? "id_a " + r.a() + " is not in " + catalogueA : "")
              + (!knownA && !knownB ? ", " : "") + (!knownB ? "id_b " + r.b() + " is not in " + catalogueB : ""));
        }
        continue;
      }
      if (r.match()) {
        positives.add(new Pair(r.a(), r.b()));
      } else {
        negatives.computeIfAbsent(r.a(), k -> new ArrayList<>()).add(r.b());
      }
    }
    if (unknownRows > 0) {
      throw new InvalidInputException("Training pairs file " + path + ": " + unknownRows + " of " + rows.size()
          + " rows name ids that are not valid items of their catalogue (absent, or rejected: see the "
          + "rejected rows): " + String.join("; ", unknown) + (unknownRows > unknown.size() ? "; ..." : ""));
    }
    if (positives.isEmpty()) {
      throw new InvalidInputException("Training pairs file " + path + " has no positive pairs");
    }
    return labelled(positives, negatives);
  }

  /**
   * SHA-256 (hex) of the pairs, negatives and the texts they were trained with: two trainings with the same
   * digest saw the same data.
   */
  public String digest(Map<String, String> textsA, Map<String, String> textsB) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (Pair p : positives) {
        update(md, "+", p.a(), p.b(), textsA.get(p.a()), textsB.get(p.b()));
      }
      negatives.forEach((a, ns) -> ns.forEach(n -> update(md, "-", a, n, textsA.get(a), textsB.get(n))));
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void update(MessageDigest md, String... fields) {
    for (String f : fields) {
      md.update(String.valueOf(f).getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
    }
  }
}
