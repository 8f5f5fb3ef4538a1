package pipeline.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.io.compress.BZip2Codec;
import org.apache.hadoop.io.compress.CodecPool;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.hadoop.io.compress.CompressionInputStream;
import org.apache.hadoop.io.compress.Decompressor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CappedGzipCodecTest {
  private static final byte[] LINE =
      "{\"id\":1,\"pad\":\"0123456789abcdef0123456789abcdef\"}\n".getBytes(StandardCharsets.UTF_8);
  private static final int MEMBER_LINES = 1311;
  /** The text of one member: whole lines, about 64 KB. */
  private static final int MEMBER_TEXT = LINE.length * MEMBER_LINES;

  /** One gzip member (a whole gzip file) of `text`. */
  private static byte[] member(byte[] text) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(text);
    }
    return out.toByteArray();
  }

  /** `count` copies of one member of MEMBER_LINES lines: a stream that gzip reads as their text. */
  private static byte[] members(int count) throws IOException {
    byte[] text = new byte[MEMBER_TEXT];
    for (int i = 0; i < text.length; i++) {
      text[i] = LINE[i % LINE.length];
    }
    byte[] one = member(text);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < count; i++) {
      out.write(one);
    }
    return out.toByteArray();
  }

  private static CappedGzipCodec codec(Long cap) {
    Configuration conf = new Configuration(false);
    if (cap != null) {
      conf.setLong(CappedGzipCodec.MAX_BYTES_KEY, cap);
    }
    CappedGzipCodec codec = new CappedGzipCodec();
    codec.setConf(conf);
    return codec;
  }

  /** The compressed bytes a stream has taken from its source. */
  private static final class Counting extends FilterInputStream {
    long taken;

    Counting(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      taken += b < 0 ? 0 : 1;
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      taken += Math.max(0, n);
      return n;
    }
  }

  /** Reads `stream` to its end in 64 KB reads (as Hadoop's line reader does); the bytes read, or the read's error. */
  private static long drain(InputStream stream, long[] read) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    for (int n; (n = stream.read(buffer, 0, buffer.length)) != -1; ) {
      read[0] += n;
    }
    return read[0];
  }

  @Test
  void readsConcatenatedMembersAsOneStream() throws IOException {
    byte[] a = "{\"id\":1}\n".getBytes(StandardCharsets.UTF_8);
    byte[] b = "{\"id\":2}\n{\"id\":3}\n".getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    file.write(member(a));
    file.write(member(b));
    file.write(member(a));
    CappedGzipCodec codec = codec(1000L);
    Decompressor decompressor = CodecPool.getDecompressor(codec);
    try (CompressionInputStream in = codec.createInputStream(new ByteArrayInputStream(file.toByteArray()),
        decompressor)) {
      assertArrayEquals("{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n{\"id\":1}\n".getBytes(StandardCharsets.UTF_8),
          in.readAllBytes());
    } finally {
      CodecPool.returnDecompressor(decompressor);
    }
  }

  @Test
  void stopsReadingAtTheCap() throws IOException {
    byte[] file = members(1024); // 64 MB of text
    long cap = 1024 * 1024;
    Counting source = new Counting(new ByteArrayInputStream(file));
    long[] read = new long[1];
    try (CompressionInputStream in = codec(cap).createInputStream(source)) {
      DecompressedTooLargeException error = assertThrows(DecompressedTooLargeException.class, () -> drain(in, read));
      assertEquals(cap, error.cap());
      assertEquals("decompresses to more than 1048576 bytes (the cap)", error.getMessage());
    }
    // The reader gets at most the cap's bytes (the call that passes it throws instead of returning its bytes).
    assertTrue(read[0] <= cap && read[0] > cap - 64 * 1024, "bytes read before the error: " + read[0]);
    // 16 members make the cap; Hadoop's stream reads its source in buffers of io.file.buffer.size (4 KB).
    long capMembers = (cap / MEMBER_TEXT + 1) * (file.length / 1024);
    assertTrue(source.taken <= capMembers + 64 * 1024,
        "compressed bytes taken: " + source.taken + " of " + file.length + ", the cap's members: " + capMembers);
    assertTrue(source.taken < file.length / 20);
  }

  @Test
  void anObjectOfExactlyTheCapReadsWholeAndOneByteMoreFails() throws IOException {
    byte[] file = members(3);
    long text = 3L * MEMBER_TEXT;
    long[] read = new long[1];
    try (CompressionInputStream in = codec(text).createInputStream(new ByteArrayInputStream(file))) {
      assertEquals(text, drain(in, read));
    }
    try (CompressionInputStream in = codec(text - 1).createInputStream(new ByteArrayInputStream(file))) {
      assertThrows(DecompressedTooLargeException.class, () -> in.readAllBytes());
    }
    byte[] one = members(1);
    try (CompressionInputStream in = codec(MEMBER_TEXT - 1L).createInputStream(new ByteArrayInputStream(one))) {
      long[] bytes = new long[1];
      assertThrows(DecompressedTooLargeException.class, () -> {
        while (in.read() != -1) { // byte by byte, through read()
          bytes[0]++;
        }
      });
      assertEquals(MEMBER_TEXT - 1, bytes[0]);
    }
  }

  @Test
  void withoutACapItIsHadoopsGzipCodec() throws IOException {
    byte[] file = members(2);
    try (CompressionInputStream in = codec(null).createInputStream(new ByteArrayInputStream(file))) {
      assertEquals(2 * MEMBER_TEXT, in.readAllBytes().length);
    }
  }

  @Test
  void readOptionsAddTheCodecLastSoThatItWinsGz() {
    Configuration session = new Configuration(false);
    session.set("io.compression.codecs", BZip2Codec.class.getName() + ", " + CappedGzipCodec.class.getName());
    Map<String, String> options = CappedGzipCodec.readOptions(session, 123);
    assertEquals(Map.of("io.compression.codecs", BZip2Codec.class.getName() + "," + CappedGzipCodec.class.getName(),
        CappedGzipCodec.MAX_BYTES_KEY, "123"), options);

    Configuration read = new Configuration(false);
    options.forEach(read::set);
    CompressionCodecFactory factory = new CompressionCodecFactory(read);
    CappedGzipCodec chosen = assertInstanceOf(CappedGzipCodec.class,
        factory.getCodec(new org.apache.hadoop.fs.Path("s3://b/k/a.ndjson.gz")));
    assertEquals(123, chosen.cap());
    assertInstanceOf(BZip2Codec.class, factory.getCodec(new org.apache.hadoop.fs.Path("s3://b/k/a.ndjson.bz2")));
    assertEquals(null, factory.getCodec(new org.apache.hadoop.fs.Path("s3://b/k/a.ndjson")));

    assertEquals(Map.of("io.compression.codecs", CappedGzipCodec.class.getName(), CappedGzipCodec.MAX_BYTES_KEY, "0"),
        CappedGzipCodec.readOptions(new Configuration(false), 0));
    assertThrows(IllegalArgumentException.class, () -> CappedGzipCodec.readOptions(new Configuration(false), -1));
    assertTrue(Arrays.asList("org.apache.hadoop.io.compress.zlib.BuiltInGzipDecompressor",
            "org.apache.hadoop.io.compress.GzipCodec$GzipZlibDecompressor")
        .contains(CappedGzipCodec.decompressorType(new Configuration(false))));
  }

  @Test
  void sparksLineReaderStopsAtTheCapAndTheErrorNamesTheFile(@TempDir Path dir) throws IOException {
    Path bomb = dir.resolve("a bomb.ndjson.gz");
    Files.write(bomb, members(64)); // 4 MB of text
    Path small = dir.resolve("small.ndjson.gz");
    Files.write(small, members(1));
    Configuration session = Spark.session().sessionState().newHadoopConf();
    Map<String, String> options = CappedGzipCodec.readOptions(session, 2 * MEMBER_TEXT);

    assertEquals(MEMBER_LINES, Spark.session().read().options(options).text(small.toString()).count());
    Exception error = assertThrows(Exception.class,
        () -> Spark.session().read().options(options).text(bomb.toString()).count());
    Throwable cause = error;
    while (cause != null && !(cause instanceof DecompressedTooLargeException)) {
      cause = cause.getCause();
    }
    assertInstanceOf(DecompressedTooLargeException.class, cause, "the job's error holds the cap's");
    String expected = "decompresses to more than " + 2 * MEMBER_TEXT + " bytes (the cap): file:";
    assertTrue(cause.getMessage().startsWith(expected), cause.getMessage());
    assertTrue(cause.getMessage().endsWith("/a%20bomb.ndjson.gz"), cause.getMessage());
  }
}
