package dev.itemsim.embed;

import dev.itemsim.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the float32 initialisers (weights) of an ONNX model by decoding the protobuf wire format directly
 * (ModelProto.graph → GraphProto.initializer / node), without ONNX Runtime. Initialisers keep HuggingFace
 * names for embeddings, biases and LayerNorms; MatMul weights carry generated names (e.g.
 * {@code onnx::MatMul_787}) and are found through the node that uses them
 * ({@link #matMulWeightOf(String)} for {@code /encoder/layer.0/attention/self/query/MatMul}); ONNX stores
 * them as [in, out].
 */
public final class OnnxWeights {
  /**
   * A float32 tensor: shape and row-major values, and where in the file its values are stored as contiguous
   * little-endian floats ({@code raw_data} or packed {@code float_data}), or -1 when they are not.
   */
  public record Tensor(long[] shape, float[] values, long dataOffset) {}

  private final Path file;
  private final Map<String, Tensor> initializers;
  private final Map<String, List<String>> nodeInputs;

  private OnnxWeights(Path file, Map<String, Tensor> initializers, Map<String, List<String>> nodeInputs) {
    this.file = file;
    this.initializers = initializers;
    this.nodeInputs = nodeInputs;
  }

  public static OnnxWeights read(Path file) {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer buf = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size())
          .order(ByteOrder.LITTLE_ENDIAN);
      Map<String, Tensor> initializers = new LinkedHashMap<>();
      Map<String, List<String>> nodes = new LinkedHashMap<>();
      Reader model = new Reader(buf, 0, buf.limit(), file);
      while (model.hasMore()) {
        int tag = model.tag();
        if (tag >>> 3 == 7 && (tag & 7) == 2) {
          Reader graph = model.message();
          while (graph.hasMore()) {
            int gTag = graph.tag();
            if (gTag >>> 3 == 5 && (gTag & 7) == 2) {
              readTensor(graph.message(), initializers);
            } else if (gTag >>> 3 == 1 && (gTag & 7) == 2) {
              readNode(graph.message(), nodes);
            } else {
              graph.skip(gTag);
            }
          }
        } else {
          model.skip(tag);
        }
      }
      if (initializers.isEmpty()) {
        throw new InvalidInputException("ONNX model " + file + " has no float32 initialisers (not an ONNX "
            + "model, or weights stored externally)");
      }
      return new OnnxWeights(file, initializers, nodes);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
  }

  public Map<String, Tensor> initializers() {
    return initializers;
  }

  /** The initialiser named {@code name}, checking its shape. */
  public Tensor get(String name, long... expectedShape) {
    Tensor t = initializers.get(name);
    if (t == null) {
      throw new InvalidInputException("ONNX model " + file + " has no initialiser '" + name + "'");
    }
    if (!Arrays.equals(t.shape(), expectedShape)) {
      throw new InvalidInputException("ONNX model " + file + ": initialiser '" + name + "' has shape "
          + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(expectedShape));
    }
    return t;
  }

  /** The initialiser that node {@code nodeName} (a MatMul) multiplies by, [in, out]. */
  public String matMulWeightOf(String nodeName) {
    List<String> inputs = nodeInputs.get(nodeName);
    if (inputs == null) {
      throw new InvalidInputException("ONNX model " + file + " has no node '" + nodeName + "'");
    }
    return inputs.stream().filter(initializers::containsKey).findFirst().orElseThrow(() ->
        new InvalidInputException("ONNX node '" + nodeName + "' in " + file + " reads no initialiser"));
  }

  /**
   * Writes a copy of {@code base} to {@code target} in which each initialiser named in {@code replacements}
   * holds the given values instead: the same graph byte for byte, new weights. Every replaced initialiser must
   * keep its element count and be stored as contiguous floats.
   */
  public static void rewrite(Path base, Path target, Map<String, float[]> replacements) {
    OnnxWeights weights = read(base);
    try {
      Files.copy(base, target, StandardCopyOption.REPLACE_EXISTING);
      try (FileChannel out = FileChannel.open(target, StandardOpenOption.WRITE)) {
        for (Map.Entry<String, float[]> e : replacements.entrySet()) {
          Tensor t = weights.initializers.get(e.getKey());
          if (t == null) {
            throw new IllegalArgumentException("ONNX model " + base + " has no initialiser '" + e.getKey() + "'");
          }
          if (t.values().length != e.getValue().length || t.dataOffset() < 0) {
            throw new IllegalArgumentException("Cannot rewrite initialiser '" + e.getKey() + "' of " + base + ": "
                + t.values().length + " values" + (t.dataOffset() < 0 ? " not stored contiguously" : "")
                + ", replacement has " + e.getValue().length);
          }
          ByteBuffer bytes = ByteBuffer.allocate(4 * e.getValue().length).order(ByteOrder.LITTLE_ENDIAN);
          bytes.asFloatBuffer().put(e.getValue());
          long at = t.dataOffset();
          while (bytes.hasRemaining()) {
            at += out.write(bytes, at);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + target, e);
    }
  }

  private static void readNode(Reader node, Map<String, List<String>> nodes) {
    List<String> inputs = new ArrayList<>();
    String name = "";
    while (node.hasMore()) {
      int tag = node.tag();
      switch (tag >>> 3) {
        case 1 -> inputs.add(node.string());
        case 3 -> name = node.string();
        default -> node.skip(tag);
      }
    }
    nodes.put(name, inputs);
  }

  private static void readTensor(Reader t, Map<String, Tensor> out) {
    List<Long> dims = new ArrayList<>();
    int dataType = 0;
    String name = "";
    ByteBuffer raw = null;
    long dataOffset = -1;
    List<Float> floatData = new ArrayList<>();
    while (t.hasMore()) {
      int tag = t.tag();
      int field = tag >>> 3;
      if (field == 1 && (tag & 7) == 0) {
        dims.add(t.varint());
      } else if (field == 1 && (tag & 7) == 2) {
        Reader packed = t.message();
        while (packed.hasMore()) {
          dims.add(packed.varint());
        }
      } else if (field == 2) {
        dataType = (int) t.varint();
      } else if (field == 4 && (tag & 7) == 2) {
        Reader packed = t.message();
        dataOffset = floatData.isEmpty() ? packed.pos : -1;
        while (packed.hasMore()) {
          floatData.add(packed.fixed32());
        }
      } else if (field == 8) {
        name = t.string();
      } else if (field == 4 && (tag & 7) == 5) {
        floatData.add(t.fixed32());
        dataOffset = -1;
      } else if (field == 9) {
        raw = t.bytes();
        dataOffset = t.pos - raw.remaining();
      } else {
        t.skip(tag);
      }
    }
    if (dataType != 1) {
      return;  // FLOAT only; int64 shape constants and the like are not weights
    }
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    float[] values;
    if (raw != null) {
      values = new float[raw.remaining() / 4];
      raw.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    } else {
      values = new float[floatData.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = floatData.get(i);
      }
    }
    out.put(name, new Tensor(shape, values, raw != null || !floatData.isEmpty() ? dataOffset : -1));
  }

  /** Protobuf wire-format reader over [position, end) of a buffer. */
  private static final class Reader {
    private final ByteBuffer buf;
    int pos;
    private final int end;
    private final Path file;

    Reader(ByteBuffer buf, int pos, int end, Path file) {
      this.buf = buf;
      this.pos = pos;
      this.end = end;
      this.file = file;
    }

    boolean hasMore() {
      return pos < end;
    }

    int tag() {
      return (int) varint();
    }

    long varint() {
      long result = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        check(1);
        byte b = buf.get(pos++);
        result |= (long) (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
          return result;
        }
      }
      throw corrupt("malformed varint");
    }

    float fixed32() {
      check(4);
      float f = buf.getFloat(pos);
      pos += 4;
      return f;
    }

    Reader message() {
      int length = (int) varint();
      check(length);
      Reader r = new Reader(buf, pos, pos + length, file);
      pos += length;
      return r;
    }

    ByteBuffer bytes() {
      int length = (int) varint();
      check(length);
      ByteBuffer slice = buf.slice(pos, length);
      pos += length;
      return slice;
    }

    String string() {
      ByteBuffer b = bytes();
      byte[] a = new byte[b.remaining()];
      b.get(a);
      return new String(a, StandardCharsets.UTF_8);
    }

    void skip(int tag) {
      switch (tag & 7) {
        case 0 -> varint();
        case 1 -> advance(8);
        case 2 -> advance((int) varint());
        case 5 -> advance(4);
        default -> throw corrupt("unsupported wire type " + (tag & 7));
      }
    }

    private void advance(int n) {
      check(n);
      pos += n;
    }

    private void check(int n) {
      if (n < 0 || pos + n > end) {
        throw corrupt("truncated message");
      }
    }

    private InvalidInputException corrupt(String what) {
      return new InvalidInputException("ONNX model " + file + " is corrupt: " + what + " at byte " + pos);
    }
  }
}
