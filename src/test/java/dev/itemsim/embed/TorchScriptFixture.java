package dev.itemsim.embed;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a TorchScript archive without Python, as {@code torch.jit.save} lays it out: a zip with the module's
 * TorchScript source ({@code code/__torch__.py}), its attributes pickled in {@code data.pkl} (protocol 2,
 * tensors as persistent storage references) and the storage bytes under {@code data/}. The module is a
 * stand-in for a traced encoder: {@code forward(input_ids, attention_mask, token_type_ids)} returns the rows
 * of an embedding table for the ids, [batch, tokens, hidden], so the expected sentence vector is easy to
 * compute independently.
 */
final class TorchScriptFixture {
  private static final String CODE = """
      class Model(Module):
        __parameters__ = []
        __buffers__ = []
        training : bool
        table : Tensor
        def forward(self: __torch__.Model,
          input_ids: Tensor,
          attention_mask: Tensor,
          token_type_ids: Tensor) -> Tuple[Tensor, Tensor]:
          hidden = torch.embedding(self.table, input_ids)
          return (hidden, torch.select(hidden, 1, 0))
      """;

  private TorchScriptFixture() {}

  /** Writes {@code file}: a module whose token vectors are rows of {@code table} ([rows, cols], row-major). */
  static void write(Path file, float[] table, int rows, int cols) throws Exception {
    ByteBuffer storage = ByteBuffer.allocate(4 * table.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : table) {
      storage.putFloat(v);
    }
    try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
      stored(zip, "model/version", "3\n".getBytes(StandardCharsets.UTF_8));
      stored(zip, "model/code/__torch__.py", CODE.getBytes(StandardCharsets.UTF_8));
      stored(zip, "model/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
      stored(zip, "model/data.pkl", dataPickle(rows, cols));
      stored(zip, "model/data/0", storage.array());
    }
  }

  private static void stored(ZipOutputStream zip, String name, byte[] bytes) throws Exception {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(bytes.length);
    CRC32 crc = new CRC32();
    crc.update(bytes);
    e.setCrc(crc.getValue());
    zip.putNextEntry(e);
    zip.write(bytes);
    zip.closeEntry();
  }

  /** {@code __torch__.Model} with attributes training = False and table = a float tensor in storage "0". */
  private static byte[] dataPickle(int rows, int cols) {
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    p.writeBytes(new byte[] {(byte) 0x80, 2});
    global(p, "__torch__", "Model");
    p.write(')');            // EMPTY_TUPLE
    p.write(0x81);           // NEWOBJ
    p.write('}');            // EMPTY_DICT
    p.write('(');            // MARK
    string(p, "training");
    p.write(0x89);           // NEWFALSE
    string(p, "table");
    global(p, "torch._utils", "_rebuild_tensor_v2");
    p.write('(');
    p.write('(');
    string(p, "storage");
    global(p, "torch", "FloatStorage");
    string(p, "0");
    string(p, "cpu");
    integer(p, rows * cols);
    p.write('t');            // TUPLE
    p.write('Q');            // BINPERSID
    integer(p, 0);           // storage offset
    p.write('(');
    integer(p, rows);
    integer(p, cols);
    p.write('t');            // size
    p.write('(');
    integer(p, cols);
    integer(p, 1);
    p.write('t');            // stride
    p.write(0x89);           // requires_grad = False
    global(p, "collections", "OrderedDict");
    p.write(')');
    p.write('R');            // backward hooks = OrderedDict()
    p.write('t');
    p.write('R');            // _rebuild_tensor_v2(...)
    p.write('u');            // SETITEMS
    p.write('b');            // BUILD
    p.write('.');            // STOP
    return p.toByteArray();
  }

  private static void global(ByteArrayOutputStream p, String module, String name) {
    p.write('c');
    p.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
  }

  private static void string(ByteArrayOutputStream p, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    p.write('X');
    p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
    p.writeBytes(b);
  }

  private static void integer(ByteArrayOutputStream p, int v) {
    p.write('J');
    p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
  }
}
