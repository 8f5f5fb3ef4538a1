package pipeline.json

import com.fasterxml.jackson.core.{JsonFactory, JsonParser}
import java.nio.charset.StandardCharsets
import org.apache.spark.sql.Column
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{BoundReference, Expression, JsonToStructs, TimeZoneAwareExpression}
import org.apache.spark.sql.catalyst.json.JacksonParser
import org.apache.spark.sql.types.{ArrayType, DataType, LongType, StringType, StructType, TimestampType}
import org.apache.spark.unsafe.Platform
import org.apache.spark.unsafe.types.UTF8String
import scala.util.control.NonFatal

/**
 * `from_json` (Spark's `JsonToStructs`, its `JacksonParser`) that hands Jackson the line's UTF-8 bytes, as Spark's
 * JSON reader does, instead of decoding them to characters through a reader first: on the benchmark batch that
 * decoding is about half of a line's parse. The record under the schema, or null when the parser refuses the line.
 *
 * Everything else is `JsonToStructs`': its type, its plan, its copies (a copy is a `ParseLine`). The line check
 * ([[CheckLine]]) has already decided which lines are rows; this only parses them.
 *
 * `JsonToStructs`, `JacksonParser` and `JSONOptions` are Spark internals (package `catalyst`), not public API, and
 * a Scala case class cannot be subclassed from Java: hence Scala, compiled by the Scala of the Spark it was built
 * for. A Spark that changes them breaks this class, which is why the job runs [[ParseLine.selfCheck]] before it reads
 * any data (docs/architecture.md, "The JVM helpers").
 */
final class ParseLine(dataSchema: DataType, parseOptions: Map[String, String], line: Expression,
    zone: Option[String]) extends JsonToStructs(dataSchema, parseOptions, line, zone) {

  @transient private lazy val jackson: JacksonParser =
    Jackson.parser(dataType.asInstanceOf[StructType], options, timeZoneId.get)

  override def nullSafeEval(input: Any): Any = {
    try {
      val rows = jackson.parse[UTF8String](input.asInstanceOf[UTF8String], ParseLine.open, identity).iterator
      if (rows.hasNext) rows.next() else null
    } catch {
      case NonFatal(_) => null // BadRecordException and the like: not a record of the schema
    }
  }

  override protected def withNewChildInternal(child: Expression): JsonToStructs =
    new ParseLine(schema, options, child, timeZoneId)

  override def withTimeZone(timeZone: String): TimeZoneAwareExpression =
    new ParseLine(schema, options, child, Option(timeZone))

  // A ParseLine is never equal to a JsonToStructs of the same arguments, so that no rule of the optimizer (common
  // subexpressions, deduplication) takes one for the other.
  override def canEqual(that: Any): Boolean = that.isInstanceOf[ParseLine]

  override def equals(that: Any): Boolean = that.isInstanceOf[ParseLine] && super.equals(that)

  override def hashCode(): Int = 31 * super.hashCode() + 1
}

object ParseLine {

  /** `line` (a string column) parsed with `schemaJson` (Spark's schema JSON) in the session time zone `timeZone`. */
  def column(line: Column, schemaJson: String, timeZone: String): Column =
    new Column(new ParseLine(DataType.fromJson(schemaJson), Map("mode" -> "PERMISSIVE"), line.expr, Option(timeZone)))

  /**
   * Whether this class still works on the Spark it runs on: null when it parses a few known lines as it does on the
   * Spark it was built for (Spark 3.5.6, Glue 5.1), else what differs. Evaluates the expression on the driver and
   * reads no data: a Spark whose `JsonToStructs`, `JacksonParser` or `JSONOptions` changed fails here (a linkage
   * error, another result), before the job reads anything.
   */
  def selfCheck(): String = {
    val schema = new StructType().add("id", LongType).add("name", StringType).add("at", TimestampType)
      .add("tags", ArrayType(StringType))
    def eval(line: String): InternalRow = {
      // The line as a slice of a larger array, as a row of Spark's scan holds it, so that the offset counts.
      val bytes = ("xx" + line).getBytes(StandardCharsets.UTF_8)
      val parse = new ParseLine(schema, Map("mode" -> "PERMISSIVE"), BoundReference(0, StringType, nullable = true),
        Some("UTC"))
      val copy = parse.withNewChildren(parse.children)
      if (!copy.isInstanceOf[ParseLine]) throw new IllegalStateException(s"a copy is a ${copy.getClass.getName}")
      copy.eval(InternalRow(UTF8String.fromBytes(bytes, 2, bytes.length - 2))).asInstanceOf[InternalRow]
    }
    try {
      val valid = "{\"id\":7,\"name\":\"é✓\",\"at\":\"2024-01-02T03:04:05Z\",\"tags\":[\"a\",null]}"
      val row = eval(valid)
      if (row == null) return s"the line $valid parsed to null"
      val tags = row.getArray(3)
      val got = (row.getLong(0), row.getUTF8String(1).toString, row.getLong(2), tags.numElements(),
        tags.getUTF8String(0).toString, tags.isNullAt(1))
      val micros = 1704164645000000L // 2024-01-02T03:04:05Z
      if (got != ((7L, "é✓", micros, 2, "a", true))) return s"the line $valid parsed to $got"
      for (refused <- Seq("{\"at\":\"not a time\"}", "{\"id\":", "[1]")) {
        val parsed = eval(refused)
        if (parsed != null) return s"the line $refused parsed to $parsed, not null"
      }
      null
    } catch {
      case error: LinkageError => s"${error.getClass.getName}: ${error.getMessage}"
      case NonFatal(error) => s"${error.getClass.getName}: ${error.getMessage}"
    }
  }

  private def open(factory: JsonFactory, text: UTF8String): JsonParser = text.getBaseObject match {
    case bytes: Array[Byte] =>
      factory.createParser(bytes, (text.getBaseOffset - Platform.BYTE_ARRAY_OFFSET).toInt, text.numBytes())
    case _ => factory.createParser(text.getBytes)
  }
}
