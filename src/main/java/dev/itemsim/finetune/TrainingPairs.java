package dev.itemsim.finetune;

import static org.apache.spark.sql.functions.col;

import dev.itemsim.InvalidInputException;
import dev.itemsim.catalog.CatalogReader;
import dev.itemsim.eval.MatchGraph;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;

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
    String format = path.toLowerCase(Locale.ROOT).endsWith(".csv") ? "csv" : "parquet";
    Dataset<Row> raw = CatalogReader.read(spark, path, format);
    List<String> columns = new ArrayList<>(Arrays.asList(raw.columns()));
    boolean csv = columns.remove(CatalogReader.CORRUPT_COLUMN);
    columns.remove(CatalogReader.SOURCE_FILE_COLUMN);
    if (!columns.contains("id_a") || !columns.contains("id_b")) {
      throw new InvalidInputException("Training pairs file " + path + " needs columns id_a and id_b (and "
          + "optionally label); columns found: " + String.join(", ", columns));
    }
    boolean labelled = columns.contains("label");
    List<org.apache.spark.sql.Column> select = new ArrayList<>(List.of(col("id_a").cast(DataTypes.StringType),
        col("id_b").cast(DataTypes.StringType)));
    select.add(labelled ? col("label").cast(DataTypes.StringType) : org.apache.spark.sql.functions.lit("1"));
    select.add(csv ? col(CatalogReader.CORRUPT_COLUMN) : org.apache.spark.sql.functions.lit(null)
        .cast(DataTypes.StringType));
    List<Pair> positives = new ArrayList<>();
    Map<String, List<String>> negatives = new LinkedHashMap<>();
    List<String> unknown = new ArrayList<>();
    long unknownRows = 0;
    int row = 0;
    for (Row r : raw.select(select.toArray(org.apache.spark.sql.Column[]::new)).collectAsList()) {
      row++;
      if (!r.isNullAt(3)) {
        throw new InvalidInputException("Training pairs file " + path + ", row " + row + " cannot be read as CSV: "
            + abbreviate(r.getString(3)));
      }
      if (r.isNullAt(0) || r.isNullAt(1) || r.getString(0).isBlank() || r.getString(1).isBlank()) {
        throw new InvalidInputException("Training pairs file " + path + ", row " + row
            + ": id_a and id_b must both be set");
      }
      String a = r.getString(0);
      String b = r.getString(1);
      boolean match = label(r.isNullAt(2) ? null : r.getString(2), path, row);
      boolean knownA = idsA.contains(a);
      boolean knownB = idsB.contains(b);
      if (!knownA || !knownB) {
        unknownRows++;
        if (unknown.size() < 5) {
          unknown.add("row " + row + ": " + (!knownA ? "id_a " + a + " is not in " + catalogueA : "")
              + (!knownA && !knownB ? ", " : "") + (!knownB ? "id_b " + b + " is not in " + catalogueB : ""));
        }
        continue;
      }
      if (match) {
        positives.add(new Pair(a, b));
      } else {
        negatives.computeIfAbsent(a, k -> new ArrayList<>()).add(b);
      }
    }
    if (unknownRows > 0) {
      throw new InvalidInputException("Training pairs file " + path + ": " + unknownRows + " of " + row
          + " rows name ids that are not valid items of their catalogue (absent, or rejected: see the "
          + "rejected rows): " + String.join("; ", unknown) + (unknownRows > unknown.size() ? "; ..." : ""));
    }
    if (positives.isEmpty()) {
      throw new InvalidInputException("Training pairs file " + path + " has no positive pairs");
    }
    return labelled(positives, negatives);
  }

  private static boolean label(String value, String path, int row) {
    String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "1", "1.0", "true" -> true;
      case "0", "0.0", "false" -> false;
      default -> throw new InvalidInputException("Training pairs file " + path + ", row " + row + ": label = '"
          + value + "' is not one of 1, 0, true, false");
    };
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
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
