package pipeline.json;

import java.util.HashMap;
import org.apache.spark.sql.api.java.UDF5;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * The Glue job's record of each line into a {@link Ledger}, in the same pass that writes the rows: {@code call(path,
 * id, reason, bytes, quarantinedText)} records the line of the file at {@code path} and returns its object's index in
 * the manifest (-1 for a path that is none of them), from which the job takes the row's source file and version.
 *
 * <p>{@code path} is the scan's {@code _metadata.file_path}, Spark's public file source metadata column (SPARK-37273,
 * Spark 3.3; in Spark 3.5 {@code FileFormat.BASE_METADATA_EXTRACTORS} gives it as {@code new
 * Path(file.toPath.toString).toUri.toString}, the URI form {@code input_file_name()} reports and
 * {@link Driver#qualified} builds). A task reads its files one after the other, so the index is looked up once per
 * file, not per line. Registered as a non-deterministic function, so that Spark evaluates it once for every line,
 * right after the scan and before the rows are filtered from the other lines.
 */
public final class RecordLine implements UDF5<String, Long, String, Integer, String, Integer> {
  private static final long serialVersionUID = 3L;

  private final Ledger ledger;
  private final String[] paths;
  private transient HashMap<String, Integer> index;
  private transient String lastPath;
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
  public Integer call(String path, Long row, String reason, Integer bytes, String line) {
    if (lastPath == null || !lastPath.equals(path)) {
      if (index == null) {
        index = new HashMap<>();
        for (int i = 0; i < paths.length; i++) {
          index.putIfAbsent(paths[i], i);
        }
      }
      Integer found = path == null ? null : index.get(path);
      lastObject = found == null ? -1 : found;
      lastPath = path;
    }
    ledger.record(lastObject, lastObject >= 0 ? null : path, row == null ? -1 : row, reason,
        bytes == null ? 0 : bytes, line);
    return lastObject;
  }
}
