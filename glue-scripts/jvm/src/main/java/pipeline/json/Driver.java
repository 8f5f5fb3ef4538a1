package pipeline.json;

import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.catalyst.expressions.Literal$;
import org.apache.spark.sql.types.DataTypes;

/**
 * What the Glue job's driver asks of the JVM for a whole manifest in one call rather than one call per object (each
 * call from Python is a round trip): the paths Spark will report for the objects, and the per-object values the
 * rows look up by index, as array literals.
 */
public final class Driver {
  private Driver() {}

  /** The path Spark reports from input_file_name() for each URI: the URI qualified by its file system. */
  public static List<String> qualified(List<String> uris, Configuration conf) throws java.io.IOException {
    List<String> out = new ArrayList<>(uris.size());
    for (String uri : uris) {
      Path path = new Path(uri);
      FileSystem fs = path.getFileSystem(conf);
      out.add(fs.makeQualified(path).toUri().toString());
    }
    return out;
  }

  /** An array&lt;string&gt; literal of `values` (nulls kept). */
  public static Column strings(List<String> values) {
    return new Column(Literal$.MODULE$.create(values.toArray(new String[0]),
        DataTypes.createArrayType(DataTypes.StringType, true)));
  }

  /** An array&lt;boolean&gt; literal of `values`. */
  public static Column booleans(List<Boolean> values) {
    return new Column(Literal$.MODULE$.create(values.toArray(new Boolean[0]),
        DataTypes.createArrayType(DataTypes.BooleanType, true)));
  }
}
