package dev.itemsim.catalog;

import com.univocity.parsers.common.TextParsingException;
import com.univocity.parsers.csv.CsvParser;
import com.univocity.parsers.csv.CsvParserSettings;
import dev.itemsim.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.input.PortableDataStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.TaskCompletionListener;
import scala.Tuple2;

/**
 * Reads a CSV file, or a folder of part files, as rows of strings: one column per header field, then
 * {@link CatalogReader#CORRUPT_COLUMN} and {@link CatalogReader#SOURCE_FILE_COLUMN}. Record boundaries and
 * recovery from malformed lines are {@link CsvRecords}'; fields are split by univocity-parsers (the parser
 * Spark's own CSV source uses), an empty field read as null.
 *
 * <p>Each file is streamed by one Spark task (compressed files through their Hadoop codec). Files of zero
 * bytes, and names starting with {@code _} or {@code .}, are skipped; every other file needs the same header.
 * A record whose field count differs from the header's, or that {@link CsvRecords} found broken, becomes a
 * row with its raw text in the corrupt-record column and as many fields as could be split (the rest null).
 */
final class CsvFiles {
  private CsvFiles() {}

  /**
   * @param pathKey the configuration key of {@code path}, which the errors name
   * @param maxRecordLines physical lines one record may span (see {@link CsvRecords})
   * @throws InvalidInputException if a header cannot be read, two files' headers differ, a header uses a
   *     reserved column name, or no file has a header (then the message says the input has no rows)
   */
  static Dataset<Row> read(SparkSession spark, String path, String pathKey, int maxRecordLines) {
    JavaPairRDD<String, PortableDataStream> files = JavaSparkContext.fromSparkContext(spark.sparkContext())
        .binaryFiles(path);
    files.setName("CSV files of " + path);
    List<FileHeader> headers = new ArrayList<>(unwrapInvalidInput(() ->
        files.map(f -> FileHeader.of(f._2(), maxRecordLines)).filter(h -> h.fields() != null).collect()));
    if (headers.isEmpty()) {
      throw new InvalidInputException(pathKey + " = " + path + " has no rows: no CSV file under it has a header");
    }
    headers.sort(Comparator.comparing(FileHeader::file));
    FileHeader expected = headers.get(0);
    for (FileHeader h : headers) {
      h.requireSameAs(expected);
    }
    List<String> columns = columnNames(expected);
    int width = columns.size();
    JavaRDD<Row> rows = files.flatMap(f -> new FileRows(f._2(), expected, width, maxRecordLines));
    rows.setName("CSV rows of " + path);
    return spark.createDataFrame(rows, CatalogReader.stringSchema(columns));
  }

  /**
   * Spark's names for header fields: an empty field is {@code _c<index>}; a name that occurs more than once
   * (ignoring case) gets its index appended.
   */
  private static List<String> columnNames(FileHeader header) {
    String[] fields = header.fields();
    Set<String> seen = new HashSet<>();
    Set<String> repeated = new HashSet<>();
    for (String f : fields) {
      if (f != null && !f.isEmpty() && !seen.add(f.toLowerCase(Locale.ROOT))) {
        repeated.add(f.toLowerCase(Locale.ROOT));
      }
    }
    List<String> names = new ArrayList<>(fields.length);
    for (int i = 0; i < fields.length; i++) {
      String f = fields[i];
      String name = f == null || f.isEmpty() ? "_c" + i : repeated.contains(f.toLowerCase(Locale.ROOT)) ? f + i : f;
      if (name.equals(CatalogReader.CORRUPT_COLUMN) || name.equals(CatalogReader.SOURCE_FILE_COLUMN)) {
        throw new InvalidInputException("CSV file " + header.file() + ": header column '" + name
            + "' is a name itemsim reserves for its own column; rename it");
      }
      names.add(name);
    }
    return names;
  }

  private static <T> T unwrapInvalidInput(java.util.function.Supplier<T> sparkAction) {
    try {
      return sparkAction.get();
    } catch (RuntimeException e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof InvalidInputException invalid) {
          throw invalid;
        }
      }
      throw e;
    }
  }

  private static InputStream open(PortableDataStream file) {
    InputStream raw = file.open();
    CompressionCodec codec = new CompressionCodecFactory(file.getConfiguration()).getCodec(new Path(file.getPath()));
    try {
      return codec == null ? raw : codec.createInputStream(raw);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot decompress " + file.getPath(), e);
    }
  }

  /** A file's header fields, or null fields when the file has no line at all. */
  private record FileHeader(String file, String[] fields) implements Serializable {
    static FileHeader of(PortableDataStream file, int maxRecordLines) {
      try (CsvRecords records = new CsvRecords(open(file), maxRecordLines)) {
        return new FileHeader(file.getPath(), records.hasNext() ? headerFields(file.getPath(), records.next()) : null);
      }
    }

    private static String[] headerFields(String file, CsvRecords.Record header) {
      String[] fields = header.malformed() ? null : new FieldSplitter().split(header.text());
      if (fields == null) {
        throw new InvalidInputException("CSV file " + file + ": the header (line " + header.line()
            + ") cannot be read: " + header.text());
      }
      return fields;
    }

    void requireSameAs(FileHeader expected) {
      if (!Arrays.equals(fields, expected.fields())) {
        throw new InvalidInputException("CSV file " + file + " has header " + Arrays.toString(fields) + " but "
            + expected.file() + " has " + Arrays.toString(expected.fields())
            + "; every file of a CSV input needs the same header");
      }
    }
  }

  /** The rows of one file, split as they are streamed; the stream is closed at its end or the task's. */
  private static final class FileRows implements Iterator<Row> {
    private final String file;
    private final int width;
    private final CsvRecords records;
    private final FieldSplitter splitter = new FieldSplitter();

    FileRows(PortableDataStream stream, FileHeader expected, int width, int maxRecordLines) {
      this.file = stream.getPath();
      this.width = width;
      this.records = new CsvRecords(open(stream), maxRecordLines);
      TaskContext task = TaskContext.get();
      if (task != null) {
        task.addTaskCompletionListener((TaskCompletionListener) context -> records.close());
      }
      if (records.hasNext()) {
        new FileHeader(file, FileHeader.headerFields(file, records.next())).requireSameAs(expected);
      }
    }

    @Override
    public boolean hasNext() {
      boolean more = records.hasNext();
      if (!more) {
        records.close();
      }
      return more;
    }

    @Override
    public Row next() {
      CsvRecords.Record record = records.next();
      String[] fields = splitter.split(record.text());
      boolean malformed = record.malformed() || fields == null || fields.length != width;
      Object[] values = new Object[width + 2];
      if (fields != null) {
        for (int i = 0; i < Math.min(width, fields.length); i++) {
          values[i] = fields[i] == null || fields[i].isEmpty() ? null : fields[i];
        }
      }
      values[width] = malformed ? record.text() : null;
      values[width + 1] = file;
      return RowFactory.create(values);
    }
  }

  /** univocity-parsers set up as RFC 4180 with Spark's reading defaults; one per thread. */
  static final class FieldSplitter {
    private final CsvParser parser;

    FieldSplitter() {
      CsvParserSettings settings = new CsvParserSettings();
      settings.getFormat().setDelimiter(',');
      settings.getFormat().setQuote('"');
      settings.getFormat().setQuoteEscape('"');
      settings.getFormat().setLineSeparator("\n");
      settings.getFormat().setComment('\0');
      settings.setIgnoreLeadingWhitespaces(false);
      settings.setIgnoreTrailingWhitespaces(false);
      settings.setMaxCharsPerColumn(-1);
      settings.setMaxColumns(20_480);
      settings.setReadInputOnSeparateThread(false);
      parser = new CsvParser(settings);
    }

    /** The record's fields, or null when univocity cannot split it as one record. */
    String[] split(String record) {
      try {
        String[] fields = parser.parseLine(record);
        if (fields == null) {
          return new String[0];
        }
        // A record's newlines all sit inside quoted fields. Fewer in the fields means univocity ended the
        // record early and holds the rest for its next call: drop that, so it cannot leak into other rows.
        if (record.indexOf('\n') >= 0 && newlines(record) != newlines(fields)) {
          parser.stopParsing();
          return null;
        }
        return fields;
      } catch (TextParsingException e) {
        parser.stopParsing();
        return null;
      }
    }

    private static long newlines(String... texts) {
      long n = 0;
      for (String t : texts) {
        n += t == null ? 0 : t.chars().filter(c -> c == '\n').count();
      }
      return n;
    }
  }
}
