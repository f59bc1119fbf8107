package dev.itemsim.embed;

import java.nio.file.Path;

/** A model's files on local disk, ready to load. */
public record ModelFiles(Path onnx, Path tokenizer, Pooling pooling) {}
