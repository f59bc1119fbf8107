package dev.itemsim.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.InvalidInputException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
  @TempDir
  Path dir;

  /** Writes a safetensors file: header JSON as given, then the data bytes. */
  private Path write(String header, byte[] data) throws Exception {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
    out.write(json);
    out.write(data);
    Path file = Files.createTempFile(dir, "model", ".safetensors");
    Files.write(file, out.toByteArray());
    return file;
  }

  private static byte[] f32(float... values) {
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return b.array();
  }

  private static byte[] shorts(int... values) {
    ByteBuffer b = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      b.putShort((short) v);
    }
    return b.array();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Arrays.stream(parts).forEach(out::writeBytes);
    return out.toByteArray();
  }

  @Test
  void readsF32F16AndBf16Tensors() throws Exception {
    // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800, smallest subnormal 0x0001 = 2^-24
    // BF16: 1.0 = 0x3F80, -3.0 = 0xC040
    byte[] data = concat(f32(1.5f, -2.25f, 3f, 0f, 7f, 8f), shorts(0x3C00, 0xC000, 0x3800, 0x0001),
        shorts(0x3F80, 0xC040));
    Path file = write("{\"__metadata__\":{\"format\":\"pt\"},"
        + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
        + "\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]},"
        + "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[32,36]}}", data);
    Safetensors st = Safetensors.open(file);
    assertThat(st.tensors()).containsOnlyKeys("w", "h", "b");
    assertThat(st.floats("w", 2, 3)).containsExactly(1.5f, -2.25f, 3f, 0f, 7f, 8f);
    assertThat(st.floats("h", 4)).containsExactly(1f, -2f, 0.5f, (float) Math.pow(2, -24));
    assertThat(st.floats("b", 1, 2)).containsExactly(1f, -3f);
  }

  @Test
  void corruptHeaderLengthIsAClearError() throws Exception {
    Path file = dir.resolve("bad.safetensors");
    Files.write(file, concat(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array(),
        "{}".getBytes(StandardCharsets.UTF_8)));
    assertThatThrownBy(() -> Safetensors.open(file)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("declares a header of 1099511627776 bytes");
    Path notJson = write("{not json", new byte[0]);
    assertThatThrownBy(() -> Safetensors.open(notJson)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("not valid JSON");
    Path tiny = dir.resolve("tiny.safetensors");
    Files.write(tiny, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> Safetensors.open(tiny)).hasMessageContaining("shorter than the 8-byte header");
  }

  @Test
  void truncatedDataIsAClearError() throws Exception {
    Path file = write("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", f32(1f, 2f));
    assertThatThrownBy(() -> Safetensors.open(file)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("tensor 'w' has bytes 0..16 but the data section has 8 bytes");
  }

  @Test
  void wrongDtypesShapesAndMissingTensorsNameTheTensor() throws Exception {
    Path file = write("{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
        + "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
        + "\"short\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[16,24]}}", new byte[24]);
    Safetensors st = Safetensors.open(file);
    assertThatThrownBy(() -> st.floats("ids", 1)).hasMessageContaining("tensor 'ids' has dtype I64");
    assertThatThrownBy(() -> st.floats("w", 2, 1)).hasMessageContaining("tensor 'w' has shape [2], expected [2, 1]");
    assertThatThrownBy(() -> st.floats("nope", 1)).hasMessageContaining("has no tensor 'nope'");
    assertThatThrownBy(() -> st.floats("short", 3)).hasMessageContaining("tensor 'short' has 8 bytes")
        .hasMessageContaining("needs 12");
  }

  @Test
  void halfPrecisionSpecialValues() {
    assertThat(Safetensors.halfToFloat((short) 0x7C00)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(Safetensors.halfToFloat((short) 0xFC00)).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(Safetensors.halfToFloat((short) 0x7E00)).isNaN();
    assertThat(Safetensors.halfToFloat((short) 0x7BFF)).isEqualTo(65504f);
    assertThat(Safetensors.halfToFloat((short) 0x8000)).isEqualTo(-0f);
  }

  @Test
  void writtenFilesReadBackExactlyWithAnAlignedHeader() throws Exception {
    Path file = dir.resolve("w.safetensors");
    java.util.Map<String, Safetensors.F32> tensors = new java.util.LinkedHashMap<>();
    float[] big = new float[(1 << 18) + 3];
    for (int i = 0; i < big.length; i++) {
      big[i] = (float) Math.sin(i);
    }
    tensors.put("a.weight", new Safetensors.F32(new long[] {2, 3}, new float[] {1, -2, 3.5f, 0, Float.MIN_VALUE, 7}));
    tensors.put("b", new Safetensors.F32(new long[] {big.length}, big));
    Safetensors.write(file, tensors, java.util.Map.of("format", "pt"));
    Safetensors st = Safetensors.open(file);
    assertThat(st.tensors().keySet()).containsExactly("a.weight", "b");
    assertThat(st.floats("a.weight", 2, 3)).containsExactly(1, -2, 3.5f, 0, Float.MIN_VALUE, 7);
    assertThat(java.util.Arrays.equals(st.floats("b", big.length), big)).isTrue();
    long headerLength = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(headerLength % 8).isZero();
    assertThat(Files.size(file)).isEqualTo(8 + headerLength + 4L * (6 + big.length));
    assertThatThrownBy(() -> new Safetensors.F32(new long[] {2, 2}, new float[3]))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
