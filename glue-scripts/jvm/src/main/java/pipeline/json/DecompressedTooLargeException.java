package pipeline.json;

import java.io.IOException;

/**
 * A gzip object decompresses to more than the cap ({@link CappedGzipCodec}): the read stops there. The Glue job
 * recognises it by its class name in the failed Spark job's causes and sets the file aside as {@code too_large}.
 * The message names the file Spark was reading (URL-encoded, as Spark reports paths), or none outside a Spark task.
 */
public final class DecompressedTooLargeException extends IOException {
  private final long cap;

  public DecompressedTooLargeException(long cap, String source) {
    super("decompresses to more than " + cap + " bytes (the cap)" + (source.isEmpty() ? "" : ": " + source));
    this.cap = cap;
  }

  /** The cap the object went past. */
  public long cap() {
    return cap;
  }
}
