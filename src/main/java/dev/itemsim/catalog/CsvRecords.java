package dev.itemsim.catalog;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Cuts a UTF-8 CSV byte stream into records, reading it one physical line at a time. Only record boundaries
 * are decided here; splitting a record into fields is left to a CSV parser.
 *
 * <p>A line ends at {@code \n} or {@code \r\n}; a leading UTF-8 byte-order mark is dropped and empty lines
 * outside a quoted field are skipped. A record is one line, or more while an RFC-4180 quoted field (one that
 * starts with {@code "}, with {@code ""} for a quote inside it) is still open at the end of a line.
 *
 * <p>Recovery is at line granularity: when a quoted field is still open after {@code maxRecordLines} lines or
 * at the end of the stream, or a closing quote is followed by anything but a comma or the end of the line,
 * only the record's first line is returned, as malformed, and reading resumes at the line after it. A record
 * with a line that is not valid UTF-8 is malformed as a whole; its text has U+FFFD for the bad bytes.
 */
final class CsvRecords implements Iterator<CsvRecords.Record>, AutoCloseable {
  /**
   * @param text the record's lines joined with {@code \n}, without line terminators
   * @param line the 1-based number of its first physical line
   * @param malformed whether the record is broken (its fields are not checked here)
   */
  record Record(String text, long line, boolean malformed) {}

  private record Line(String text, long number, boolean validUtf8) {}

  /** Where a scan stands after a line; a record goes on to the next line only while {@code QUOTED}. */
  private enum Quoting { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED, TEXT_AFTER_CLOSING_QUOTE }

  private static final int CHUNK = 64 * 1024;

  private final InputStream in;
  private final int maxRecordLines;
  private final CharsetDecoder strictUtf8 = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
  private final Deque<Line> reread = new ArrayDeque<>();
  private final byte[] chunk = new byte[CHUNK];
  private int chunkPos;
  private int chunkEnd;
  private byte[] lineBytes = new byte[1024];
  private long linesRead;
  private boolean endOfStream;
  private Record next;

  /** @param maxRecordLines physical lines a record may span, at least 1 */
  CsvRecords(InputStream in, int maxRecordLines) {
    if (maxRecordLines < 1) {
      throw new IllegalArgumentException("maxRecordLines must be >= 1: " + maxRecordLines);
    }
    this.in = in;
    this.maxRecordLines = maxRecordLines;
  }

  @Override
  public boolean hasNext() {
    if (next == null) {
      next = readRecord();
    }
    return next != null;
  }

  @Override
  public Record next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    Record r = next;
    next = null;
    return r;
  }

  @Override
  public void close() {
    try {
      in.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Record readRecord() {
    Line first = nextLine();
    while (first != null && first.text().isEmpty()) {
      first = nextLine();
    }
    if (first == null) {
      return null;
    }
    List<Line> lines = new ArrayList<>(1);
    lines.add(first);
    Quoting state = scan(first.text(), Quoting.FIELD_START);
    while (state == Quoting.QUOTED && lines.size() < maxRecordLines) {
      Line more = nextLine();
      if (more == null) {
        break;
      }
      lines.add(more);
      state = scan(more.text(), Quoting.QUOTED);
    }
    if (state == Quoting.QUOTED || state == Quoting.TEXT_AFTER_CLOSING_QUOTE) {
      for (int i = lines.size() - 1; i > 0; i--) {
        reread.addFirst(lines.get(i));
      }
      return new Record(first.text(), first.number(), true);
    }
    if (lines.size() == 1) {
      return new Record(first.text(), first.number(), !first.validUtf8());
    }
    StringBuilder text = new StringBuilder();
    boolean malformed = false;
    for (Line l : lines) {
      text.append(text.isEmpty() ? "" : "\n").append(l.text());
      malformed |= !l.validUtf8();
    }
    return new Record(text.toString(), first.number(), malformed);
  }

  /** Runs the quoting state machine over one line, starting in {@code state}. */
  private static Quoting scan(String line, Quoting state) {
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      state = switch (state) {
        case FIELD_START -> c == '"' ? Quoting.QUOTED : c == ',' ? Quoting.FIELD_START : Quoting.UNQUOTED;
        case UNQUOTED -> c == ',' ? Quoting.FIELD_START : Quoting.UNQUOTED;
        case QUOTED -> c == '"' ? Quoting.QUOTE_IN_QUOTED : Quoting.QUOTED;
        case QUOTE_IN_QUOTED -> c == '"' ? Quoting.QUOTED : c == ',' ? Quoting.FIELD_START
            : Quoting.TEXT_AFTER_CLOSING_QUOTE;
        case TEXT_AFTER_CLOSING_QUOTE -> state;
      };
      if (state == Quoting.TEXT_AFTER_CLOSING_QUOTE) {
        return state;
      }
    }
    return state;
  }

  private Line nextLine() {
    if (!reread.isEmpty()) {
      return reread.pollFirst();
    }
    int length = readLineBytes();
    if (length < 0) {
      return null;
    }
    long number = ++linesRead;
    int start = number == 1 && startsWithByteOrderMark(length) ? 3 : 0;
    int end = length > start && lineBytes[length - 1] == '\r' ? length - 1 : length;
    try {
      String text = strictUtf8.decode(ByteBuffer.wrap(lineBytes, start, end - start)).toString();
      return new Line(text, number, true);
    } catch (CharacterCodingException e) {
      return new Line(new String(lineBytes, start, end - start, StandardCharsets.UTF_8), number, false);
    }
  }

  private boolean startsWithByteOrderMark(int length) {
    return length >= 3 && lineBytes[0] == (byte) 0xEF && lineBytes[1] == (byte) 0xBB && lineBytes[2] == (byte) 0xBF;
  }

  /** Fills {@code lineBytes} with the next line without its {@code \n}; -1 at the end of the stream. */
  private int readLineBytes() {
    int length = 0;
    boolean any = false;
    while (true) {
      if (chunkPos == chunkEnd && !fillChunk()) {
        return any ? length : -1;
      }
      any = true;
      int newline = chunkPos;
      while (newline < chunkEnd && chunk[newline] != '\n') {
        newline++;
      }
      int n = newline - chunkPos;
      if (length + n > lineBytes.length) {
        lineBytes = Arrays.copyOf(lineBytes, Math.max(length + n, 2 * lineBytes.length));
      }
      System.arraycopy(chunk, chunkPos, lineBytes, length, n);
      length += n;
      chunkPos = newline;
      if (newline < chunkEnd) {
        chunkPos++;
        return length;
      }
    }
  }

  private boolean fillChunk() {
    if (endOfStream) {
      return false;
    }
    try {
      int n = in.read(chunk);
      while (n == 0) {
        n = in.read(chunk);
      }
      if (n < 0) {
        endOfStream = true;
        return false;
      }
      chunkPos = 0;
      chunkEnd = n;
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
