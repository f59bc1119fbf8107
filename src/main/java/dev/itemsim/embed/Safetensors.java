package dev.itemsim.embed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.itemsim.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads tensors from a HuggingFace {@code .safetensors} file: an 8-byte little-endian header length, a JSON
 * header naming each tensor's dtype, shape and byte range, then the raw little-endian data. F32, F16 and
 * BF16 tensors are returned as float32. Every malformed input (header length beyond the file, invalid JSON,
 * ranges outside the data or not matching the shape, unsupported dtypes, missing tensors, unexpected shapes)
 * fails with a message naming the file and the tensor. The file is memory-mapped, never executed: unlike
 * {@code pytorch_model.bin} (a pickle) it cannot run code when loaded.
 */
public final class Safetensors {
  private static final long MAX_HEADER = 100L << 20;

  /** One tensor's entry in the header. */
  public record TensorInfo(String dtype, long[] shape, long begin, long end) {
    long elements() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }
  }

  private final Path file;
  private final ByteBuffer data;
  private final Map<String, TensorInfo> tensors;

  private Safetensors(Path file, ByteBuffer data, Map<String, TensorInfo> tensors) {
    this.file = file;
    this.data = data;
    this.tensors = tensors;
  }

  public static Safetensors open(Path file) {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      if (size < 8) {
        throw bad(file, "is " + size + " bytes long, shorter than the 8-byte header length");
      }
      ByteBuffer all = channel.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
      long headerLength = all.getLong(0);
      if (headerLength <= 0 || headerLength > MAX_HEADER || headerLength > size - 8) {
        throw bad(file, "declares a header of " + headerLength + " bytes but the file has " + (size - 8)
            + " bytes after the length field (corrupt or not a safetensors file)");
      }
      byte[] header = new byte[(int) headerLength];
      all.get(8, header);
      ByteBuffer data = all.slice(8 + (int) headerLength, (int) (size - 8 - headerLength))
          .order(ByteOrder.LITTLE_ENDIAN);
      return new Safetensors(file, data, parseHeader(file, header, data.capacity()));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
  }

  private static Map<String, TensorInfo> parseHeader(Path file, byte[] header, long dataBytes) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(new String(header, StandardCharsets.UTF_8).trim());
    } catch (IOException e) {
      throw bad(file, "has a header that is not valid JSON: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw bad(file, "has a header that is not a JSON object");
    }
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("__metadata__")) {
        continue;
      }
      JsonNode t = e.getValue();
      JsonNode offsets = t.get("data_offsets");
      JsonNode shapeNode = t.get("shape");
      if (t.get("dtype") == null || shapeNode == null || !shapeNode.isArray() || offsets == null
          || offsets.size() != 2) {
        throw bad(file, "tensor '" + e.getKey() + "' lacks dtype, shape or data_offsets in the header");
      }
      long[] shape = new long[shapeNode.size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shapeNode.get(i).asLong();
      }
      TensorInfo info = new TensorInfo(t.get("dtype").asText(), shape, offsets.get(0).asLong(),
          offsets.get(1).asLong());
      if (info.begin() < 0 || info.end() < info.begin() || info.end() > dataBytes) {
        throw bad(file, "tensor '" + e.getKey() + "' has bytes " + info.begin() + ".." + info.end()
            + " but the data section has " + dataBytes + " bytes (truncated file?)");
      }
      tensors.put(e.getKey(), info);
    }
    return Collections.unmodifiableMap(tensors);
  }

  /** Tensor names and header entries, in header order. */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  /** The tensor's values as float32, checking that its shape is {@code expectedShape}. */
  public float[] floats(String name, long... expectedShape) {
    TensorInfo info = tensors.get(name);
    if (info == null) {
      throw bad(file, "has no tensor '" + name + "' (it has " + tensors.size() + " tensors)");
    }
    if (!Arrays.equals(info.shape(), expectedShape)) {
      throw bad(file, "tensor '" + name + "' has shape " + Arrays.toString(info.shape()) + ", expected "
          + Arrays.toString(expectedShape));
    }
    long n = info.elements();
    int width = switch (info.dtype()) {
      case "F32" -> 4;
      case "F16", "BF16" -> 2;
      default -> throw bad(file, "tensor '" + name + "' has dtype " + info.dtype()
          + "; itemsim reads F32, F16 and BF16 weights");
    };
    if (info.end() - info.begin() != n * width) {
      throw bad(file, "tensor '" + name + "' has " + (info.end() - info.begin()) + " bytes, but "
          + Arrays.toString(info.shape()) + " of " + info.dtype() + " needs " + n * width);
    }
    float[] out = new float[(int) n];
    int base = (int) info.begin();
    for (int i = 0; i < out.length; i++) {
      out[i] = switch (info.dtype()) {
        case "F32" -> data.getFloat(base + 4 * i);
        case "F16" -> halfToFloat(data.getShort(base + 2 * i));
        default -> Float.intBitsToFloat((data.getShort(base + 2 * i) & 0xffff) << 16);
      };
    }
    return out;
  }

  /** A float32 tensor to write: its shape and row-major values. */
  public record F32(long[] shape, float[] values) {
    public F32 {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      if (n != values.length) {
        throw new IllegalArgumentException("Shape " + Arrays.toString(shape) + " holds " + n + " values, got "
            + values.length);
      }
    }
  }

  /**
   * Writes {@code tensors} (in map order) as an F32 safetensors file, the header padded with spaces to a
   * multiple of 8 bytes as the format recommends; {@code metadata} goes to {@code __metadata__}.
   */
  public static void write(Path file, Map<String, F32> tensors, Map<String, String> metadata) {
    ObjectMapper json = new ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode header = json.createObjectNode();
    if (!metadata.isEmpty()) {
      com.fasterxml.jackson.databind.node.ObjectNode meta = header.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (Map.Entry<String, F32> e : tensors.entrySet()) {
      com.fasterxml.jackson.databind.node.ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", "F32");
      com.fasterxml.jackson.databind.node.ArrayNode shape = t.putArray("shape");
      for (long d : e.getValue().shape()) {
        shape.add(d);
      }
      long bytes = 4L * e.getValue().values().length;
      t.putArray("data_offsets").add(offset).add(offset + bytes);
      offset += bytes;
    }
    byte[] text;
    try {
      text = json.writeValueAsBytes(header);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int padded = (text.length + 7) / 8 * 8;
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE)) {
      ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
      head.putLong(padded).put(text);
      while (head.hasRemaining()) {
        head.put((byte) ' ');
      }
      writeFully(out, head.flip());
      ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
      for (F32 t : tensors.values()) {
        for (float v : t.values()) {
          if (!chunk.hasRemaining()) {
            writeFully(out, chunk.flip());
            chunk.clear();
          }
          chunk.putFloat(v);
        }
      }
      writeFully(out, chunk.flip());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + file, e);
    }
  }

  private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      out.write(buffer);
    }
  }

  /** IEEE 754 binary16 to float32 (subnormals, infinities and NaN included). */
  static float halfToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h >>> 15) << 31;
    int exponent = (h >>> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      float value = mantissa / 1024f / 16384f;  // 2^-14 · m/2^10
      return sign == 0 ? value : -value;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  private static InvalidInputException bad(Path file, String problem) {
    return new InvalidInputException("Safetensors file " + file + " " + problem);
  }
}
