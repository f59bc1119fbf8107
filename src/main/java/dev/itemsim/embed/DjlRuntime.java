package dev.itemsim.embed;

/**
 * System properties DJL reads once, set before any DJL class initialises: never download anything, and do
 * not load PyTorch as ONNX Runtime's "alternative engine" (seconds per load and hundreds of MB).
 */
final class DjlRuntime {
  private DjlRuntime() {}

  static void configureOffline() {
    System.setProperty("ai.djl.offline", "true");
    if (System.getProperty("ai.djl.onnx.disable_alternative") == null) {
      System.setProperty("ai.djl.onnx.disable_alternative", "true");
    }
  }
}
