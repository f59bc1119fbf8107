package dev.itemsim.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class CsvRecordsTest {

  @Test
  void oneRecordPerLineAndQuotedNewlinesJoinLines() {
    assertThat(records("id,title\n1,\"two\nlines\"\n2,\"he said \"\"hi\"\"\"\n", 100)).containsExactly(
        good("id,title", 1), good("1,\"two\nlines\"", 2), good("2,\"he said \"\"hi\"\"\"", 4));
  }

  @Test
  void unterminatedQuoteCostsItsLineOnly() {
    String csv = "id,title\n1,\"never closed\n2,b\n3,c\n";
    assertThat(records(csv, 100)).containsExactly(
        good("id,title", 1), bad("1,\"never closed", 2), good("2,b", 3), good("3,c", 4));
  }

  @Test
  void quoteStillOpenAfterMaxRecordLinesCostsItsFirstLine() {
    assertThat(records("1,\"a\nb\nc\",x\n", 3)).containsExactly(good("1,\"a\nb\nc\",x", 1));
    assertThat(records("1,\"a\nb\nc\nd\",x\n", 3)).containsExactly(
        bad("1,\"a", 1), good("b", 2), good("c", 3), good("d\",x", 4));
  }

  @Test
  void textAfterAClosingQuoteEndsTheRecordThere() {
    assertThat(records("1,\"open\n2,\"b\",c\n", 100)).containsExactly(bad("1,\"open", 1), good("2,\"b\",c", 2));
    assertThat(records("1,\"12\" screen\",x\n2,y\n", 100)).containsExactly(
        bad("1,\"12\" screen\",x", 1), good("2,y", 2));
  }

  @Test
  void quotesInsideUnquotedFieldsAreText() {
    assertThat(records("1,5\" screen,x\n2,y\n", 100)).containsExactly(good("1,5\" screen,x", 1), good("2,y", 2));
  }

  @Test
  void invalidUtf8MakesItsRecordMalformedAndKeepsAReadableText() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.writeBytes("1,ok\n2,caf".getBytes(StandardCharsets.UTF_8));
    bytes.write(0xE9);
    bytes.writeBytes("\n3,\"caf\u00e9\"\n".getBytes(StandardCharsets.UTF_8));
    assertThat(records(bytes.toByteArray(), 100)).containsExactly(
        good("1,ok", 1), bad("2,caf\uFFFD", 2), good("3,\"caf\u00e9\"", 3));
  }

  @Test
  void byteOrderMarkCrlfAndEmptyLinesAreNotData() {
    byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.writeBytes(bom);
    bytes.writeBytes("id,title\r\n\r\n1,\"a\r\nb\"\r\n2,c".getBytes(StandardCharsets.UTF_8));
    assertThat(records(bytes.toByteArray(), 100)).containsExactly(
        good("id,title", 1), good("1,\"a\nb\"", 3), good("2,c", 5));
    assertThat(records(new byte[0], 100)).isEmpty();
  }

  @Test
  void linesLongerThanTheReadBufferStayWhole() {
    String longTitle = IntStream.range(0, 30_000).mapToObj(i -> "word").collect(Collectors.joining(" "));
    assertThat(records("1," + longTitle + "\n2,\"" + longTitle + "\n" + longTitle + "\"\n", 100))
        .containsExactly(good("1," + longTitle, 1), good("2,\"" + longTitle + "\n" + longTitle + "\"", 2));
  }

  private static CsvRecords.Record good(String text, long line) {
    return new CsvRecords.Record(text, line, false);
  }

  private static CsvRecords.Record bad(String text, long line) {
    return new CsvRecords.Record(text, line, true);
  }

  private static List<CsvRecords.Record> records(String csv, int maxRecordLines) {
    return records(csv.getBytes(StandardCharsets.UTF_8), maxRecordLines);
  }

  private static List<CsvRecords.Record> records(byte[] csv, int maxRecordLines) {
    List<CsvRecords.Record> out = new ArrayList<>();
    try (CsvRecords records = new CsvRecords(new ByteArrayInputStream(csv), maxRecordLines)) {
      records.forEachRemaining(out::add);
    }
    return out;
  }
}
