package pipeline.json;

import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.functions;

/**
 * What the Glue job's driver asks of the JVM for a whole manifest in one call rather than one call per object (each
 * call from Python is a round trip): the paths Spark will report for the objects, and the per-object values the
 * rows look up by index, as array literals.
 *
 * <p>The literals are {@code functions.lit} of a Java array, public API: Spark 3.5's {@code lit} makes an array of
 * the array's element type (containsNull true) from it, as PySpark's {@code lit} does from a list.
 */
public final class Driver {
  private Driver() {}

  /**
   * The path Spark's scan reports as {@code _metadata.file_path} for each URI: the URI qualified by its file system,
   * then put through {@code new Path(path.toString).toUri.toString} as Spark 3.5 does for that column
   * ({@code FileFormat.BASE_METADATA_EXTRACTORS}, "Use `new Path(Path.toString)` as a form of canonicalization"):
   * {@code file:/tmp/a%20b} for a local file, {@code s3://bucket/key} unchanged.
   */
  public static List<String> qualified(List<String> uris, Configuration conf) throws java.io.IOException {
    List<String> out = new ArrayList<>(uris.size());
    for (String uri : uris) {
      Path path = new Path(uri);
      FileSystem fs = path.getFileSystem(conf);
      out.add(new Path(fs.makeQualified(path).toString()).toUri().toString());
    }
    return out;
  }

  /** An array&lt;string&gt; literal of `values` (nulls kept). */
  public static Column strings(List<String> values) {
    return functions.lit(values.toArray(new String[0]));
  }

  /** An array&lt;boolean&gt; literal of `values`. */
  public static Column booleans(List<Boolean> values) {
    return functions.lit(values.toArray(new Boolean[0]));
  }
}
