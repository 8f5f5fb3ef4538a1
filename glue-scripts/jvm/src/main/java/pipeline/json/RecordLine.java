package pipeline.json;

import java.util.HashMap;
import org.apache.spark.rdd.InputFileBlockHolder;
import org.apache.spark.sql.api.java.UDF4;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * The Glue job's record of each line into a {@link Ledger}, in the same pass that writes the rows: {@code call(id,
 * reason, bytes, quarantinedText)} records the line of the file being read and returns its object's index in the
 * manifest (-1 for a path that is none of them), from which the job takes the row's source file and version.
 *
 * <p>The file is the one Spark's scan is reading in this task (what {@code input_file_name()} reports, without
 * converting its path for every line). Registered as a non-deterministic function, so that Spark evaluates it once
 * for every line, right after the scan and before the rows are filtered from the other lines.
 */
public final class RecordLine implements UDF4<Long, String, Integer, String, Integer> {
  private static final long serialVersionUID = 2L;

  private final Ledger ledger;
  private final String[] paths;
  private transient HashMap<UTF8String, Integer> index;
  private transient UTF8String lastPath;
  private transient int lastObject;

  /** `paths`: the path Spark reports for each of the manifest's objects, in the manifest's order. */
  public RecordLine(Ledger ledger, java.util.List<String> paths) {
    this.ledger = ledger;
    this.paths = paths.toArray(new String[0]);
  }

  /** The function to register: non-deterministic, returning the object's index. */
  public static UserDefinedFunction function(Ledger ledger, java.util.List<String> paths) {
    return functions.udf(new RecordLine(ledger, paths), DataTypes.IntegerType).asNondeterministic();
  }

  @Override
  public Integer call(Long row, String reason, Integer bytes, String line) {
    UTF8String path = InputFileBlockHolder.getInputFilePath();
    if (path != lastPath) {
      if (index == null) {
        index = new HashMap<>();
        for (int i = 0; i < paths.length; i++) {
          index.putIfAbsent(UTF8String.fromString(paths[i]), i);
        }
      }
      Integer found = path == null ? null : index.get(path);
      lastObject = found == null ? -1 : found;
      lastPath = path;
    }
    ledger.record(lastObject, lastObject >= 0 || path == null ? null : path.toString(),
        row == null ? -1 : row, reason, bytes == null ? 0 : bytes, line);
    return lastObject;
  }
}
