package pipeline.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.sql.Timestamp;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.JsonToStructs;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class ParseLineTest {
  private static final StructType SCHEMA = new StructType()
      .add("id", DataTypes.LongType)
      .add("name", DataTypes.StringType)
      .add("at", DataTypes.TimestampType)
      .add("tags", DataTypes.createArrayType(DataTypes.StringType));

  private static List<Row> parse(String timeZone, String... lines) {
    SparkSession spark = Spark.session();
    Dataset<String> text = spark.createDataset(Arrays.asList(lines), Encoders.STRING());
    Column parsed = ParseLine.column(functions.col("value"), SCHEMA.json(), timeZone);
    return text.select(parsed.alias("r")).collectAsList();
  }

  @Test
  void parsesTheRecordAsFromJsonDoes() {
    List<Row> rows = parse("UTC", "{\"id\":7,\"name\":\"é✓\",\"at\":\"2024-01-02T03:04:05Z\",\"tags\":[\"a\",null]}",
        "{\"name\":{\"k\":[1,2]}}");
    Row first = rows.get(0).getStruct(0);
    assertEquals(7L, first.getLong(0));
    assertEquals("é✓", first.getString(1));
    assertEquals(Timestamp.from(java.time.Instant.parse("2024-01-02T03:04:05Z")), first.getTimestamp(2));
    assertEquals(Arrays.asList("a", null), first.getList(3));
    Row second = rows.get(1).getStruct(0);
    assertNull(second.get(0));
    assertEquals("{\"k\":[1,2]}", second.getString(1)); // a string field holds the value's JSON text
  }

  @Test
  void aTimestampWithoutAZoneIsReadInTheSessionZone() {
    Row row = parse("America/New_York", "{\"at\":\"2024-01-02T03:04:05\"}").get(0).getStruct(0);
    assertEquals(Timestamp.from(java.time.Instant.parse("2024-01-02T08:04:05Z")), row.getTimestamp(2));
  }

  @Test
  void aLineTheParserRefusesIsNull() {
    List<Row> rows = parse("UTC", "{\"at\":\"not a time\"}", "{\"id\":", "[1]");
    for (Row row : rows) {
      assertNull(row.get(0));
    }
  }

  @Test
  void copiesStayParseLinesAndAreNeverTakenForFromJson() {
    Expression child = functions.col("value").expr();
    ParseLine parse = new ParseLine(SCHEMA, scala.collection.immutable.Map$.MODULE$.empty(), child,
        scala.Option.apply("UTC"));
    assertInstanceOf(ParseLine.class, parse.withNewChildren(parse.children()));
    assertInstanceOf(ParseLine.class, parse.withTimeZone("Europe/Paris"));
    JsonToStructs plain = new JsonToStructs(SCHEMA, parse.options(), child, parse.timeZoneId());
    assertNotEquals(plain, parse);
    assertNotEquals(parse, plain);
    assertEquals(parse, parse.withNewChildren(parse.children()));
  }

  @Test
  void theSelfCheckPassesOnTheSparkItWasBuiltFor() {
    assertNull(ParseLine.selfCheck());
  }
}
