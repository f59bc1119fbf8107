package dev.itemsim.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's headless Chromium driven over the DevTools protocol (a WebSocket on the loopback address, through
 * the JDK's own HTTP client): loads a page from disk and reports what a person's browser would show — console
 * errors, exceptions, dialogs (an {@code alert} that ran), the DOM's answers to a script, a screenshot.
 */
final class HeadlessChromium implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LISTENING = Pattern.compile("DevTools listening on ws://[^:]+:(\\d+)/");

  private final Process process;
  private final int port;
  private final List<String> log = Collections.synchronizedList(new ArrayList<>());

  private HeadlessChromium(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** The Chromium binary on the PATH, if any. */
  static Optional<Path> binary() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
        Path p = Path.of(dir, name);
        if (Files.isExecutable(p)) {
          return Optional.of(p);
        }
      }
    }
    return Optional.empty();
  }

  /** Starts Chromium headless with a fresh profile in {@code profile}, no network beyond the loopback. */
  static HeadlessChromium start(Path binary, Path profile) throws Exception {
    List<String> command = List.of(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--remote-debugging-port=0",
        "--remote-allow-origins=*", "--window-size=1200,1600", "about:blank");
    Process process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    CompletableFuture<Integer> port = new CompletableFuture<>();
    List<String> stderr = Collections.synchronizedList(new ArrayList<>());
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getErrorStream(),
          StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          stderr.add(line);
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            port.complete(Integer.parseInt(m.group(1)));
          }
        }
      } catch (IOException e) {
        port.completeExceptionally(e);
      }
      port.completeExceptionally(new IllegalStateException("Chromium exited: " + stderr));
    }, "chromium-stderr");
    reader.setDaemon(true);
    reader.start();
    try {
      HeadlessChromium chromium = new HeadlessChromium(process, port.get(60, TimeUnit.SECONDS));
      chromium.log.addAll(stderr);
      return chromium;
    } catch (Exception e) {
      process.destroyForcibly();
      throw new IllegalStateException("Chromium did not start: " + stderr, e);
    }
  }

  /** What loading a page showed. */
  record PageLoad(List<JsonNode> errors, List<JsonNode> dialogs, JsonNode evaluated, byte[] screenshot) {}

  /**
   * Loads {@code file}, waits for its load event, evaluates {@code expression} (which must return a JSON
   * string) and takes a screenshot of the full page.
   */
  PageLoad load(Path file, String expression) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
        + "/json/list")).build(), HttpResponse.BodyHandlers.ofString()).body());
    String socket = null;
    for (JsonNode t : targets) {
      if ("page".equals(t.path("type").asText())) {
        socket = t.path("webSocketDebuggerUrl").asText();
        break;
      }
    }
    if (socket == null) {
      throw new IllegalStateException("No page target in " + targets);
    }
    Session session = new Session();
    WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(socket), session).get(30, TimeUnit.SECONDS);
    session.socket = ws;
    try {
      session.call("Page.enable", Map.of());
      session.call("Runtime.enable", Map.of());
      session.call("Log.enable", Map.of());
      session.call("Page.navigate", Map.of("url", file.toUri().toString()));
      session.await("Page.loadEventFired", 60);
      JsonNode result = session.call("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true,
          "awaitPromise", true));
      JsonNode value = result.path("result").path("value");
      if (!value.isTextual()) {
        throw new IllegalStateException("The expression did not return a string: " + result);
      }
      JsonNode metrics = session.call("Page.getLayoutMetrics", Map.of());
      JsonNode size = metrics.path("cssContentSize");
      JsonNode shot = session.call("Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true,
          "clip", Map.of("x", 0, "y", 0, "width", size.path("width").asDouble(1200),
              "height", Math.min(6000, size.path("height").asDouble(1600)), "scale", 1)));
      Thread.sleep(200); // late console messages
      return new PageLoad(session.errors(), session.events("Page.javascriptDialogOpening"),
          JSON.readTree(value.asText()), java.util.Base64.getDecoder().decode(shot.path("data").asText()));
    } finally {
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "done");
    }
  }

  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }

  /** One DevTools connection: numbered calls and every event received. */
  private static final class Session implements WebSocket.Listener {
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<JsonNode> events = Collections.synchronizedList(new ArrayList<>());
    private final StringBuilder partial = new StringBuilder();
    private WebSocket socket;

    JsonNode call(String method, Map<String, Object> params) throws Exception {
      int id = ids.incrementAndGet();
      CompletableFuture<JsonNode> answer = new CompletableFuture<>();
      pending.put(id, answer);
      ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
      message.set("params", JSON.valueToTree(params));
      socket.sendText(JSON.writeValueAsString(message), true).get(30, TimeUnit.SECONDS);
      JsonNode reply = answer.get(60, TimeUnit.SECONDS);
      if (reply.has("error")) {
        throw new IllegalStateException(method + " failed: " + reply.get("error"));
      }
      return reply.path("result");
    }

    void await(String method, int seconds) throws InterruptedException {
      long end = System.nanoTime() + seconds * 1_000_000_000L;
      while (events(method).isEmpty()) {
        if (System.nanoTime() > end) {
          throw new IllegalStateException("No " + method + " within " + seconds + " s; events: " + events);
        }
        Thread.sleep(50);
      }
    }

    List<JsonNode> events(String method) {
      synchronized (events) {
        return events.stream().filter(e -> method.equals(e.path("method").asText())).toList();
      }
    }

    /** Console errors, uncaught exceptions and browser log entries at level error. */
    List<JsonNode> errors() {
      synchronized (events) {
        return events.stream().filter(e -> switch (e.path("method").asText()) {
          case "Runtime.exceptionThrown" -> true;
          case "Runtime.consoleAPICalled" -> "error".equals(e.path("params").path("type").asText());
          case "Log.entryAdded" -> "error".equals(e.path("params").path("entry").path("level").asText());
          default -> false;
        }).toList();
      }
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        try {
          JsonNode message = JSON.readTree(partial.toString());
          if (message.has("id")) {
            CompletableFuture<JsonNode> answer = pending.remove(message.get("id").asInt());
            if (answer != null) {
              answer.complete(message);
            }
          } else {
            events.add(message);
            if ("Page.javascriptDialogOpening".equals(message.path("method").asText())) {
              // close it, or the page would wait for a person forever
              ObjectNode close = JSON.createObjectNode().put("id", ids.incrementAndGet())
                  .put("method", "Page.handleJavaScriptDialog");
              close.set("params", JSON.createObjectNode().put("accept", true));
              webSocket.sendText(close.toString(), true);
            }
          }
        } catch (IOException e) {
          events.add(JSON.createObjectNode().put("method", "unreadable").put("text", partial.toString()));
        }
        partial.setLength(0);
      }
      webSocket.request(1);
      return null;
    }
  }
}
