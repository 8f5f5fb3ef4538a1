package pipeline.json;

import org.apache.spark.sql.catalyst.json.JSONOptions;
import org.apache.spark.sql.catalyst.json.JacksonParser;
import org.apache.spark.sql.sources.Filter;
import org.apache.spark.sql.types.StructType;
import scala.collection.JavaConverters;
import scala.collection.immutable.Map;

/**
 * Spark's JSON parser for {@link ParseLine}, built the way {@code JsonToStructs} builds its own. In Java because
 * {@code JSONOptions} is {@code private[sql]} to Scala code (its bytecode is public, as all of Scala's qualified
 * access is): an internal of Spark, like {@code JsonToStructs} itself, which the job's start-of-run check covers.
 */
final class Jackson {
  private Jackson() {}

  /** The parser of records of `schema` with `options` (from_json's) in the time zone `timeZone`. */
  static JacksonParser parser(StructType schema, Map<String, String> options, String timeZone) {
    JSONOptions parsed = new JSONOptions(options, timeZone, "_corrupt_record");
    return new JacksonParser(
        schema, parsed, false, JavaConverters.asScalaBuffer(java.util.Collections.<Filter>emptyList()));
  }
}
