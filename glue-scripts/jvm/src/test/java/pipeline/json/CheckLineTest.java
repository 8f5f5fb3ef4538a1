package pipeline.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CheckLineTest {
  private static final StructType INNER = new StructType().add("x", DataTypes.IntegerType);
  private static final StructType SCHEMA = new StructType()
      .add("id", DataTypes.LongType)
      .add("name", DataTypes.StringType)
      .add("ok", DataTypes.BooleanType)
      .add("price", DataTypes.DoubleType)
      .add("tags", DataTypes.createArrayType(DataTypes.StringType))
      .add("attrs", DataTypes.createMapType(DataTypes.StringType, DataTypes.IntegerType))
      .add("inner", INNER)
      .add("items", DataTypes.createArrayType(INNER));

  private static String check(String line) {
    return new CheckLine(SCHEMA.json()).call(line.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aLineThatFitsTheSchemaIsARow() {
    assertNull(check("{\"id\":1,\"name\":\"a\",\"ok\":true,\"price\":1.5,\"tags\":[\"x\",null],"
        + "\"attrs\":{\"k\":1},\"inner\":{\"x\":2},\"items\":[{\"x\":3}]}"));
    assertNull(check("{}"));
    assertNull(check("{\"id\":null,\"inner\":null}"));
    assertNull(check("{\"price\":3}")); // a double field holds any number
    assertNull(check("{\"name\":{\"a\":[1,2]}}")); // a string field holds any value, as its JSON text
    assertNull(check("{\"extra\":null,\"more\":{},\"empty\":[[],{}]}")); // unknown fields that carry no data
    assertNull(check("{\"attrs\":{\"\":1}}")); // an empty name inside a map is data
  }

  @Test
  void aNullLineIsBlank() {
    assertEquals("blank", new CheckLine(SCHEMA.json()).call(null));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "``|blank",
      "` \t `|blank",
      "{'id':1}|invalid_json",
      "{\"id\":NaN}|invalid_json",
      "{\"id\":01}|invalid_json",
      "{id:1}|invalid_json",
      "{\"id\":1} // note|invalid_json",
      "{\"id\":1|invalid_json",
      "{\"id\":1} x|invalid_json",
      "{\"id\":1},{\"id\":2}|multiple_values",
      "[1,2]|not_an_object",
      "\"text\"|not_an_object",
      "42|not_an_object",
      "{\"id\":1,\"id\":2}|duplicate_name",
      "{\"inner\":{\"x\":1,\"x\":1}}|duplicate_name",
      "{\"extra\":1,\"extra\":2}|duplicate_name",
      "{\"\":1}|empty_name",
      "{\"id\":\"1\"}|type_mismatch",
      "{\"id\":1.5}|type_mismatch",
      "{\"id\":99999999999999999999}|type_mismatch",
      "{\"inner\":{\"x\":3000000000}}|type_mismatch",
      "{\"ok\":\"true\"}|type_mismatch",
      "{\"tags\":\"x\"}|type_mismatch",
      "{\"attrs\":[1]}|type_mismatch",
      "{\"attrs\":{\"k\":\"v\"}}|type_mismatch",
      "{\"inner\":1}|type_mismatch",
      "{\"extra\":1}|unknown_field",
      "{\"inner\":{\"y\":\"z\"}}|unknown_field",
      "{\"items\":[{\"x\":1},{\"y\":[1]}]}|unknown_field",
  })
  void aLineThatIsNotARowGetsItsReason(String line, String reason) {
    assertEquals(reason, check(line));
  }

  @Test
  void theFirstReasonInTheDocumentedOrderWins() {
    assertEquals("duplicate_name", check("{\"id\":\"x\",\"id\":1,\"extra\":1}"));
    assertEquals("type_mismatch", check("{\"id\":\"x\",\"extra\":1}"));
  }
}
