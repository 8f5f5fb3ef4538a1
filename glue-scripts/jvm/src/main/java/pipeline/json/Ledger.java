package pipeline.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.AccumulatorV2;

/**
 * What one pass of the Glue job over a manifest's lines saw, kept while the same pass writes the Parquet rows: the
 * lines and their UTF-8 bytes per outcome (row, blank, each quarantine reason) and per object, each object's first
 * line id (which numbers its lines), and the quarantined lines themselves, up to a cap per task.
 *
 * <p>Spark merges the accumulator of each task into the driver's when the task succeeds. A task's share is kept
 * under its partition, and a partition merged again (a task run again) replaces its earlier share: a line is counted
 * once however often Spark runs its task. A task whose quarantined lines pass {@code maxBadBytes} keeps counting them
 * but no longer keeps their text ({@link #overflowed()}): the job then reads them in a pass of their own.
 */
public final class Ledger extends AccumulatorV2<Ledger.Book, Map<Integer, Ledger.Book>> {
  private static final long serialVersionUID = 1L;
  private static final JsonFactory JSON = new JsonFactory();

  private final int objects;
  private final long maxBadBytes;
  private HashMap<Integer, Book> books = new HashMap<>();
  private transient Book current;

  public Ledger(int objects, long maxBadBytes) {
    this.objects = objects;
    this.maxBadBytes = maxBadBytes;
  }

  /** One task's share. */
  public static final class Book implements Serializable {
    private static final long serialVersionUID = 1L;
    final int partition;
    long rows;
    long rowBytes;
    final long[] objectLines;
    final long[] objectBytes;
    final long[] objectFirst;
    final HashMap<String, long[]> reasons = new HashMap<>();
    final ArrayList<Bad> bad = new ArrayList<>();
    long badBytes;
    boolean overflow;

    Book(int partition, int objects) {
      this.partition = partition;
      this.objectLines = new long[objects];
      this.objectBytes = new long[objects];
      this.objectFirst = new long[objects];
      java.util.Arrays.fill(objectFirst, -1L);
    }
  }

  /** A quarantined line: its object (-1 when its path is not one of the manifest's, then `path`), id and reason. */
  static final class Bad implements Serializable {
    private static final long serialVersionUID = 1L;
    final int object;
    final String path;
    final long row;
    final String reason;
    final String line;

    Bad(int object, String path, long row, String reason, String line) {
      this.object = object;
      this.path = path;
      this.row = row;
      this.reason = reason;
      this.line = line;
    }
  }

  /**
   * Records one line of the running task: its object's index (-1 for a path outside the manifest), its id, the reason
   * it is not a row (null for a row, "blank" for a blank line), its UTF-8 bytes, and its text when quarantined.
   */
  void record(int object, String path, long row, String reason, int bytes, String line) {
    int partition = TaskContext.getPartitionId();
    Book book = current;
    if (book == null || book.partition != partition) {
      book = books.computeIfAbsent(partition, p -> new Book(p, objects));
      current = book;
    }
    if (object >= 0) {
      book.objectLines[object]++;
      book.objectBytes[object] += bytes;
      if (book.objectFirst[object] < 0 || row < book.objectFirst[object]) {
        book.objectFirst[object] = row;
      }
    }
    if (reason == null) {
      book.rows++;
      book.rowBytes += bytes;
      return;
    }
    long[] tally = book.reasons.computeIfAbsent(reason, r -> new long[2]);
    tally[0]++;
    tally[1] += bytes;
    if (line == null || book.overflow) {
      return;
    }
    if (book.badBytes + bytes > maxBadBytes) {
      book.overflow = true;
      book.bad.clear();
      book.bad.trimToSize();
      return;
    }
    book.badBytes += bytes;
    book.bad.add(new Bad(object, object >= 0 ? null : path, row, reason, line));
  }

  @Override
  public boolean isZero() {
    return books.isEmpty();
  }

  @Override
  public Ledger copy() {
    Ledger copy = new Ledger(objects, maxBadBytes);
    copy.books = new HashMap<>(books);
    return copy;
  }

  @Override
  public void reset() {
    books = new HashMap<>();
    current = null;
  }

  @Override
  public void add(Book book) {
    books.put(book.partition, book);
  }

  @Override
  public void merge(AccumulatorV2<Book, Map<Integer, Book>> other) {
    books.putAll(other.value());
  }

  @Override
  public Map<Integer, Book> value() {
    return books;
  }

  /** Whether some task kept no text of its quarantined lines. */
  public boolean overflowed() {
    for (Book book : books.values()) {
      if (book.overflow) {
        return true;
      }
    }
    return false;
  }

  /**
   * The counts as JSON: {@code rows} and {@code rowBytes}; {@code reasons}, reason to [lines, bytes] (blank among
   * them); {@code objectLines} and {@code objectBytes} per object (bytes without line ends).
   */
  public String counts() throws IOException {
    long rows = 0;
    long rowBytes = 0;
    long[] lines = new long[objects];
    long[] bytes = new long[objects];
    TreeMap<String, long[]> reasons = new TreeMap<>();
    for (Book book : books.values()) {
      rows += book.rows;
      rowBytes += book.rowBytes;
      for (int i = 0; i < objects; i++) {
        lines[i] += book.objectLines[i];
        bytes[i] += book.objectBytes[i];
      }
      for (Map.Entry<String, long[]> e : book.reasons.entrySet()) {
        long[] sum = reasons.computeIfAbsent(e.getKey(), r -> new long[2]);
        sum[0] += e.getValue()[0];
        sum[1] += e.getValue()[1];
      }
    }
    java.io.StringWriter out = new java.io.StringWriter();
    try (JsonGenerator json = JSON.createGenerator(out)) {
      json.writeStartObject();
      json.writeNumberField("rows", rows);
      json.writeNumberField("rowBytes", rowBytes);
      json.writeObjectFieldStart("reasons");
      for (Map.Entry<String, long[]> e : reasons.entrySet()) {
        json.writeArrayFieldStart(e.getKey());
        json.writeNumber(e.getValue()[0]);
        json.writeNumber(e.getValue()[1]);
        json.writeEndArray();
      }
      json.writeEndObject();
      json.writeArrayFieldStart("objectLines");
      for (long n : lines) {
        json.writeNumber(n);
      }
      json.writeEndArray();
      json.writeArrayFieldStart("objectBytes");
      for (long n : bytes) {
        json.writeNumber(n);
      }
      json.writeEndArray();
      json.writeEndObject();
    }
    return out.toString();
  }

  /** The kept text of the quarantined lines with one of the `wanted` reasons, as a dataset (for schema inference). */
  public Dataset<String> lines(SparkSession spark, List<String> wanted) {
    List<String> out = new ArrayList<>();
    for (Book book : books.values()) {
      for (Bad bad : book.bad) {
        if (wanted.contains(bad.reason)) {
          out.add(bad.line);
        }
      }
    }
    return spark.createDataset(out, Encoders.STRING());
  }

  /**
   * Writes the kept quarantined lines as one file of JSON lines at `uri`, in the layout of Spark's JSON writer
   * (fields source_file, source_version, line_number, reason, line; nulls left out), ordered by object and line;
   * returns the lines written. {@code uris} and {@code versions} (null when not pinned) name the objects, and a line
   * of an object not {@code numbered} (read by several tasks) has no line number.
   */
  public long writeQuarantine(
      String uri, Configuration conf, List<String> uris, List<String> versions, List<Boolean> numbered)
      throws IOException {
    List<Object[]> all = new ArrayList<>();
    for (Book book : books.values()) {
      for (Bad bad : book.bad) {
        Long number = null;
        if (bad.object >= 0 && numbered.get(bad.object) && book.objectFirst[bad.object] >= 0) {
          number = bad.row - book.objectFirst[bad.object] + 1;
        }
        all.add(new Object[] {bad, number});
      }
    }
    all.sort(
        Comparator.comparing((Object[] a) -> ((Bad) a[0]).object).thenComparing(a -> ((Bad) a[0]).row));
    Path path = new Path(uri);
    FileSystem fs = path.getFileSystem(conf);
    try (OutputStream stream = fs.create(path, true);
        JsonGenerator json = JSON.createGenerator(stream)) {
      json.setRootValueSeparator(null);
      for (Object[] a : all) {
        Bad bad = (Bad) a[0];
        json.writeStartObject();
        json.writeStringField("source_file", bad.object >= 0 ? uris.get(bad.object) : bad.path);
        String version = bad.object >= 0 ? versions.get(bad.object) : null;
        if (version != null) {
          json.writeStringField("source_version", version);
        }
        if (a[1] != null) {
          json.writeNumberField("line_number", (Long) a[1]);
        }
        json.writeStringField("reason", bad.reason);
        json.writeStringField("line", bad.line);
        json.writeEndObject();
        json.writeRaw('\n');
      }
    }
    return all.size();
  }
}
