package dev.itemsim.catalog;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Synthetic product catalogues of any size for benchmarks: brands, product types, model numbers and
 * attributes, with a share of planted near-duplicates (the same product re-listed with reordered words,
 * another spelling of the model number and a different price). Deterministic for a given size and seed;
 * ids are {@code P%09d}; a near-duplicate's {@code group_id} equals its original's.
 */
public final class SyntheticCatalog {
  public static final StructType SCHEMA = new StructType()
      .add("id", DataTypes.StringType, false)
      .add("title", DataTypes.StringType, false)
      .add("brand", DataTypes.StringType, false)
      .add("category", DataTypes.StringType, false)
      .add("description", DataTypes.StringType, false)
      .add("price", DataTypes.DoubleType, false)
      .add("group_id", DataTypes.StringType, false);

  private static final String[] BRANDS = {"Sony", "Samsung", "LG", "Panasonic", "Philips", "Bose", "Canon",
      "Nikon", "Logitech", "Linksys", "Netgear", "Belkin", "Garmin", "Apple", "Dell", "HP", "Lenovo", "Asus",
      "Acer", "Toshiba", "Sharp", "Pioneer", "Yamaha", "Denon", "Onkyo", "JVC", "Kenwood", "Olympus", "Fujifilm",
      "Epson", "Brother", "Kingston", "SanDisk", "Seagate", "Western Digital", "Microsoft", "Intuit", "Adobe"};
  private static final String[][] TYPES = {
      {"TV", "LCD HDTV", "LED TV", "Plasma Television"}, {"Camera", "Digital Camera", "DSLR Camera Body"},
      {"Speaker System", "Bookshelf Speakers", "Subwoofer"}, {"Headphones", "In-Ear Headphones", "Headset"},
      {"Router", "Wireless Router", "Ethernet Switch"}, {"Laptop", "Notebook Computer", "Ultrabook"},
      {"Printer", "Inkjet Printer", "Laser Printer"}, {"Hard Drive", "External Hard Drive", "SSD"},
      {"Memory Card", "SD Card", "microSD Card"}, {"Receiver", "AV Receiver", "Stereo Receiver"},
      {"Turntable", "Record Player"}, {"GPS", "Car GPS Navigator"}, {"Mouse", "Wireless Mouse"},
      {"Keyboard", "Wireless Keyboard"}, {"Software", "Accounting Software", "Photo Editing Software"}};
  private static final String[] CATEGORIES = {"TVs", "Cameras", "Audio", "Audio", "Networking", "Computers",
      "Printers", "Storage", "Storage", "Audio", "Audio", "Car Electronics", "Accessories", "Accessories",
      "Software"};
  private static final String[] ATTRIBUTES = {"Black", "Silver", "White", "Wireless", "Bluetooth", "1080p",
      "4K", "32GB", "64GB", "1TB", "2TB", "USB 3.0", "HDMI", "Wi-Fi", "Noise Cancelling", "Refurbished",
      "Portable", "Compact", "Professional", "Home Edition", "2-Pack", "with Remote", "Energy Star"};
  private static final String[] PHRASES = {"High performance and reliable build quality",
      "Easy setup in minutes", "Includes cables and quick start guide", "Sleek modern design",
      "Backed by a one-year limited warranty", "Ideal for home and office", "Crystal clear sound",
      "Low power consumption", "Fast transfer speeds", "Award-winning design"};

  private SyntheticCatalog() {}

  /** Writes {@code items} rows as Parquet to {@code output}; {@code duplicateShare} of them are near-duplicates. */
  public static void write(SparkSession spark, long items, double duplicateShare, long seed, String output) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int partitions = (int) Math.max(1, Math.min(1000, items / 100_000 + 1));
    List<Integer> slices = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      slices.add(p);
    }
    JavaRDD<Row> rows = jsc.parallelize(slices, partitions).flatMap(p -> {
      long from = items * p / partitions;
      long to = items * (p + 1) / partitions;
      List<Row> out = new ArrayList<>((int) (to - from));
      for (long i = from; i < to; i++) {
        out.add(row(i, duplicateShare, seed));
      }
      return out.iterator();
    });
    spark.createDataFrame(rows, SCHEMA).write().mode(SaveMode.Overwrite).parquet(output);
  }

  /** Item {@code i}: a near-duplicate of an earlier item with probability {@code duplicateShare}. */
  static Row row(long i, double duplicateShare, long seed) {
    SplittableRandom r = new SplittableRandom(seed * 1_000_003L + i);
    if (i > 0 && r.nextDouble() < duplicateShare) {
      long original = r.nextLong(i);
      Row o = row(original, duplicateShare, seed);
      SplittableRandom v = new SplittableRandom(seed ^ (i * 31 + 7));
      return RowFactory.create(id(i), variantTitle(o.getString(1), v), o.getString(2), o.getString(3),
          o.getString(4), Math.round(o.getDouble(5) * (0.9 + 0.2 * v.nextDouble()) * 100) / 100.0,
          o.getString(6));
    }
    int type = r.nextInt(TYPES.length);
    String brand = BRANDS[r.nextInt(BRANDS.length)];
    String noun = TYPES[type][r.nextInt(TYPES[type].length)];
    String model = modelNumber(r);
    StringBuilder title = new StringBuilder(brand).append(' ');
    int attrs = 1 + r.nextInt(3);
    for (int a = 0; a < attrs; a++) {
      title.append(ATTRIBUTES[r.nextInt(ATTRIBUTES.length)]).append(' ');
    }
    title.append(noun).append(" - ").append(model);
    StringBuilder description = new StringBuilder(title);
    int phrases = r.nextInt(4);
    for (int k = 0; k < phrases; k++) {
      description.append(". ").append(PHRASES[r.nextInt(PHRASES.length)]);
    }
    double price = Math.round((9.99 + r.nextDouble() * 1990) * 100) / 100.0;
    return RowFactory.create(id(i), title.toString(), brand, CATEGORIES[type], description.toString(), price,
        id(i));
  }

  private static String id(long i) {
    return String.format(Locale.ROOT, "P%09d", i);
  }

  private static String modelNumber(SplittableRandom r) {
    StringBuilder sb = new StringBuilder();
    int letters = 2 + r.nextInt(3);
    for (int k = 0; k < letters; k++) {
      sb.append((char) ('A' + r.nextInt(26)));
    }
    if (r.nextBoolean()) {
      sb.append('-');
    }
    sb.append(100 + r.nextInt(9900));
    if (r.nextInt(3) == 0) {
      sb.append((char) ('A' + r.nextInt(26)));
    }
    return sb.toString();
  }

  /** Reorders words, drops the dash of the model number or lower-cases, like a second seller would. */
  private static String variantTitle(String title, SplittableRandom v) {
    String[] parts = title.split(" - ", 2);
    String words = parts[0];
    String model = parts.length > 1 ? parts[1] : "";
    switch (v.nextInt(3)) {
      case 0 -> model = model.replace("-", "");
      case 1 -> words = words.toLowerCase(Locale.ROOT);
      default -> {
        String[] w = words.split(" ");
        if (w.length > 2) {
          String t = w[1];
          w[1] = w[w.length - 1];
          w[w.length - 1] = t;
        }
        words = String.join(" ", w);
      }
    }
    return model.isEmpty() ? words : words + " " + model;
  }
}
