package pipeline.json;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CommonConfigurationKeys;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.hadoop.io.compress.CompressionInputStream;
import org.apache.hadoop.io.compress.Decompressor;
import org.apache.hadoop.io.compress.GzipCodec;
import org.apache.spark.rdd.InputFileBlockHolder;

/**
 * Hadoop's gzip codec with a cap on the bytes one object decompresses to: its streams stop at the cap and throw
 * {@link DecompressedTooLargeException}, so a gzip object that would decompress past it (a "gzip bomb", 10 GB from
 * 10 MB) costs the job the cap's worth of inflating, never a pass over the whole text.
 *
 * <p>How Spark's line reader comes to use it (Spark 3.5.6, Hadoop 3.3.4, the versions Glue 5.1 and the local mode
 * run): the text source ({@code TextFileFormat}, through {@code HadoopFileLinesReader}) reads each file with
 * Hadoop's {@code LineRecordReader}, whose {@code initialize} takes the codec from
 * {@code new CompressionCodecFactory(conf).getCodec(file)} and reads {@code codec.createInputStream(fileIn,
 * decompressor)} (hadoop-mapreduce-client-core, {@code org/apache/hadoop/mapreduce/lib/input/LineRecordReader.java}).
 * The factory (hadoop-common, {@code org/apache/hadoop/io/compress/CompressionCodecFactory.java}) lists the codecs
 * the {@code ServiceLoader} finds first (Hadoop's own: {@code GzipCodec} for {@code .gz}, ...), then the classes
 * of {@code io.compression.codecs} in order, and maps each codec's default extension to it in a map whose later
 * entries replace earlier ones: listed last, this codec wins {@code .gz}; {@code getCodec} matches the file name's
 * suffix case-sensitively. The {@code conf} is the scan's: the session's Hadoop configuration with the session's
 * SQL settings and the reader's options laid over it ({@code SessionState.newHadoopConfWithOptions}, which
 * {@code FileSourceScanExec} broadcasts to the tasks); {@code ReflectionUtils.newInstance} hands it to this codec
 * ({@code Configurable}), which reads its cap from {@link #MAX_BYTES_KEY}. So the reader options of
 * {@link #readOptions} put every {@code .gz} object of that read under the cap and touch no other read. The codec is
 * not a {@code SplittableCompressionCodec}, so Spark's {@code TextBasedFileFormat.isSplitable} keeps a gzip object
 * in one task, as with Hadoop's own.
 *
 * <p>Decompression itself is Hadoop's: {@code GzipCodec.createDecompressor} gives the native zlib decompressor when
 * libhadoop with zlib is loaded ({@code ZlibFactory.isNativeZlibLoaded}), else {@code BuiltInGzipDecompressor}
 * (Java's {@code Inflater}); {@link #decompressorType} says which. Either way {@code DecompressorStream} reads a file
 * of concatenated gzip members as one stream (it resets the decompressor at each member's end and goes on:
 * HADOOP-6835), as gzip(1) does; the cap counts what that stream yields, whichever decompressor made it.
 */
public class CappedGzipCodec extends GzipCodec {
  /**
   * The Hadoop setting (a reader option) holding the most bytes one object may decompress to. Lower case: Spark
   * hands a read's options to Hadoop with their keys lower-cased ({@code HadoopFsRelation.options} is a
   * {@code CaseInsensitiveMap}, whose iterator gives the lower-cased keys).
   */
  public static final String MAX_BYTES_KEY = "pipeline.gzip.max.decompressed.bytes";

  /** A capped stream over Hadoop's gzip stream; without a cap set ({@link #MAX_BYTES_KEY}), Hadoop's stream. */
  @Override
  public CompressionInputStream createInputStream(InputStream in, Decompressor decompressor) throws IOException {
    CompressionInputStream stream = super.createInputStream(in, decompressor);
    long cap = cap();
    return cap < 0 ? stream : new CappedInputStream(stream, cap, currentFile());
  }

  /** The cap this codec's configuration sets, -1 for none. */
  long cap() {
    Configuration conf = getConf();
    return conf == null ? -1 : conf.getLong(MAX_BYTES_KEY, -1);
  }

  /**
   * The file the calling Spark task reads, or "" outside one: Spark's scan sets it per file before it opens the
   * file's reader ({@code FileScanRDD}: {@code InputFileBlockHolder.set(currentFile.urlEncodedPath, ...)}, then
   * {@code readCurrentFile()}), in the thread that then reads it; {@code input_file_name()} reads the same holder.
   * Spark attaches the path to an error of a file's first read only, so the cap's error names the file itself.
   */
  static String currentFile() {
    try {
      return InputFileBlockHolder.getInputFilePath().toString();
    } catch (RuntimeException | LinkageError error) {
      return "";
    }
  }

  /**
   * The reader options that decompress a read's {@code .gz} objects with this codec, capped at {@code maxBytes}:
   * {@code io.compression.codecs} = the codecs {@code session} (the session's Hadoop configuration) lists, then this
   * one, so that it wins {@code .gz} and every other codec stays as configured; and the cap. Throws
   * IllegalStateException when a codec factory made from them, as Spark passes them (keys lower-cased), would not
   * choose this codec with this cap for a {@code .gz} object (the cap would not hold).
   */
  public static Map<String, String> readOptions(Configuration session, long maxBytes) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("the cap on decompressed bytes is negative: " + maxBytes);
    }
    String key = CommonConfigurationKeys.IO_COMPRESSION_CODECS_KEY;
    List<String> codecs = new ArrayList<>();
    String listed = session.get(key);
    for (String name : listed == null ? new String[0] : listed.split(",")) {
      String trimmed = name.trim();
      if (!trimmed.isEmpty() && !trimmed.equals(CappedGzipCodec.class.getName())) {
        codecs.add(trimmed);
      }
    }
    codecs.add(CappedGzipCodec.class.getName());
    Map<String, String> options = new LinkedHashMap<>();
    options.put(key, String.join(",", codecs));
    options.put(MAX_BYTES_KEY, Long.toString(maxBytes));

    Configuration read = new Configuration(session);
    options.forEach((name, value) -> read.set(name.toLowerCase(Locale.ROOT), value));
    CompressionCodec chosen = new CompressionCodecFactory(read).getCodec(new Path("object.ndjson.gz"));
    if (!(chosen instanceof CappedGzipCodec) || ((CappedGzipCodec) chosen).cap() != maxBytes) {
      throw new IllegalStateException("Hadoop's codec factory chooses "
          + (chosen == null ? "no codec" : chosen.getClass().getName()) + " for .gz under " + key + "="
          + options.get(key) + ", not " + CappedGzipCodec.class.getName() + " capped at " + maxBytes);
    }
    return options;
  }

  /** The class of the gzip decompressor Hadoop gives under {@code conf}: native zlib or the built-in Java one. */
  public static String decompressorType(Configuration conf) {
    GzipCodec codec = new GzipCodec();
    codec.setConf(conf);
    return codec.getDecompressorType().getName();
  }

  /** Hadoop's gzip stream, yielding at most {@code cap} bytes and throwing once the object holds more. */
  static final class CappedInputStream extends CompressionInputStream {
    private final CompressionInputStream inner;
    private final long cap;
    private final String source;
    private final byte[] one = new byte[1];
    private long delivered;

    CappedInputStream(CompressionInputStream inner, long cap, String source) throws IOException {
      super(inner);
      this.inner = inner;
      this.cap = cap;
      this.source = source;
    }

    /**
     * Asks the inner stream for at most one byte past the cap, so that no more than {@code cap + 1} bytes are ever
     * inflated for the reader (plus what Hadoop's stream buffers: its input buffer of compressed bytes), and throws
     * once that byte arrives.
     */
    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      long room = cap - delivered; // >= 0: past the cap the stream has thrown
      int ask = room >= len ? len : (int) room + 1;
      int n = inner.read(b, off, ask);
      if (n > 0) {
        delivered += n;
        if (delivered > cap) {
          throw new DecompressedTooLargeException(cap, source);
        }
      }
      return n;
    }

    @Override
    public int read() throws IOException {
      return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
    }

    /** Bytes yielded so far. */
    long delivered() {
      return delivered;
    }

    @Override
    public void resetState() throws IOException {
      inner.resetState();
    }

    @Override
    public int available() throws IOException {
      return inner.available();
    }

    @Override
    public long getPos() throws IOException {
      return inner.getPos();
    }
  }
}
