package pipeline.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.JsonToStructs;
import org.apache.spark.sql.catalyst.expressions.TimeZoneAwareExpression;
import org.apache.spark.sql.catalyst.json.JSONOptions;
import org.apache.spark.sql.catalyst.json.JacksonParser;
import org.apache.spark.sql.sources.Filter;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.Platform;
import org.apache.spark.unsafe.types.UTF8String;
import scala.Option;
import scala.collection.Iterator;
import scala.collection.JavaConverters;
import scala.collection.immutable.Map;
import scala.collection.immutable.Map$;

/**
 * {@code from_json} (Spark's {@code JsonToStructs}, its {@code JacksonParser}) that hands Jackson the line's UTF-8
 * bytes, as Spark's JSON reader does, instead of decoding them to characters through a reader first: on the
 * benchmark batch that decoding is about half of a line's parse. The record under the schema, or null when the
 * parser refuses the line.
 *
 * <p>Everything else is {@code JsonToStructs}': its type, its plan, its copies (a copy is a {@code ParseLine}). The
 * line check ({@link CheckLine}) has already decided which lines are rows; this only parses them.
 */
public final class ParseLine extends JsonToStructs {
  private static final long serialVersionUID = 1L;

  private transient JacksonParser parser;

  public ParseLine(DataType schema, Map<String, String> options, Expression child, Option<String> timeZoneId) {
    super(schema, options, child, timeZoneId);
  }

  /** `line` (a string column) parsed with `schemaJson` (Spark's schema JSON) in the session time zone `timeZone`. */
  public static Column column(Column line, String schemaJson, String timeZone) {
    Map<String, String> options = Map$.MODULE$.<String, String>empty().updated("mode", "PERMISSIVE");
    Object parse = new ParseLine(DataType.fromJson(schemaJson), options, line.expr(), Option.apply(timeZone));
    return new Column((Expression) parse); // an Expression at run time (see the stand-in JsonToStructs)
  }

  @Override
  public Object nullSafeEval(Object input) {
    if (parser == null) {
      JSONOptions parsed = new JSONOptions(options(), timeZoneId().get(), "_corrupt_record");
      parser = new JacksonParser((StructType) dataType(), parsed, false,
          JavaConverters.asScalaBuffer(java.util.Collections.<Filter>emptyList()));
    }
    try {
      Iterator<InternalRow> rows =
          parser.parse((UTF8String) input, (JsonFactory factory, UTF8String text) -> open(factory, text), t -> t)
              .iterator();
      return rows.hasNext() ? rows.next() : null;
    } catch (Exception refused) { // BadRecordException and the like: not a record of the schema
      return null;
    }
  }

  private static JsonParser open(JsonFactory factory, UTF8String text) {
    try {
      Object base = text.getBaseObject();
      if (base instanceof byte[]) {
        int offset = (int) (text.getBaseOffset() - Platform.BYTE_ARRAY_OFFSET);
        return factory.createParser((byte[]) base, offset, text.numBytes());
      }
      return factory.createParser(text.getBytes());
    } catch (IOException error) {
      throw new IllegalStateException(error);
    }
  }

  @Override
  public JsonToStructs withNewChildInternal(Expression child) {
    return new ParseLine(schema(), options(), child, timeZoneId());
  }

  @Override
  public TimeZoneAwareExpression withTimeZone(String timeZone) {
    Object copy = new ParseLine(schema(), options(), child(), Option.apply(timeZone));
    return (TimeZoneAwareExpression) copy;
  }
}
