package dev.itemsim.embed;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Local folder where built-in models are extracted from the classpath. An extracted file is accompanied by
 * {@code NAME.sha256}; a file is reused only when its size and digest match, otherwise it is extracted
 * again. Extraction writes to a temporary file and renames it, so concurrent JVMs on one machine never see
 * a half-written model.
 *
 * <p>Location: {@code $ITEMSIM_CACHE_DIR}, else {@code ~/.cache/itemsim/models}, else
 * {@code $java.io.tmpdir/itemsim-models} when the home folder is not writable (common on executors).
 */
public final class ModelCache {
  private ModelCache() {}

  public static Path defaultDir() {
    String env = System.getenv("ITEMSIM_CACHE_DIR");
    if (env != null && !env.isBlank()) {
      return Path.of(env).resolve("models");
    }
    Path home = Path.of(System.getProperty("user.home", "/nonexistent"));
    if (Files.isWritable(home)) {
      return home.resolve(".cache/itemsim/models");
    }
    return Path.of(System.getProperty("java.io.tmpdir"), "itemsim-models");
  }

  static synchronized Path extractVerified(String resource, Path dir) {
    Path target = dir.resolve(resource);
    Path digestFile = dir.resolve(resource + ".sha256");
    try {
      if (Files.isRegularFile(target) && Files.isRegularFile(digestFile)) {
        String expected = Files.readString(digestFile, StandardCharsets.UTF_8).trim();
        if (expected.equals(sha256(target))) {
          return target;
        }
      }
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, resource, ".part");
      String digest;
      try (InputStream in = open(resource);
          DigestInputStream din = new DigestInputStream(in, MessageDigest.getInstance("SHA-256"));
          OutputStream out = Files.newOutputStream(tmp)) {
        din.transferTo(out);
        digest = HexFormat.of().formatHex(din.getMessageDigest().digest());
      }
      move(tmp, target);
      Path tmpDigest = Files.createTempFile(dir, resource, ".sha256.part");
      Files.writeString(tmpDigest, digest + "\n", StandardCharsets.UTF_8);
      move(tmpDigest, digestFile);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot extract built-in model file " + resource + " into " + dir, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static InputStream open(String resource) {
    InputStream in = ModelCache.class.getClassLoader().getResourceAsStream(resource);
    if (in == null) {
      throw new IllegalStateException("Built-in model file " + resource + " is not on the classpath: the "
          + "langchain4j-embeddings-* model jar is missing from the application jar");
    }
    return in;
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * The SHA-256 of a file {@link #extractVerified} returned: the digest recorded beside it, which extraction
   * has just checked against the file's content; computed from the content when there is no record.
   */
  static String verifiedDigest(Path file) {
    Path digestFile = file.resolveSibling(file.getFileName() + ".sha256");
    try {
      if (Files.isRegularFile(digestFile)) {
        String recorded = Files.readString(digestFile, StandardCharsets.UTF_8).trim();
        if (recorded.matches("[0-9a-f]{64}")) {
          return recorded;
        }
      }
      return sha256(file);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the digest of model file " + file, e);
    }
  }

  static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int r; (r = in.read(buf)) > 0; ) {
        md.update(buf, 0, r);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
