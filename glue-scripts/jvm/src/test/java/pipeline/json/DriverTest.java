package pipeline.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;

class DriverTest {
  @Test
  void qualifiesPathsByTheirFileSystem() throws Exception {
    assertEquals(Arrays.asList("file:/tmp/a%20b.json", "file:/tmp/c"),
        Driver.qualified(Arrays.asList("/tmp/a b.json", "file:///tmp/c"), new Configuration()));
  }

  @Test
  void buildsArrayLiteralsKeepingNulls() {
    Row row = Spark.session().range(1)
        .select(Driver.strings(Arrays.asList("a", null, "c")), Driver.booleans(Arrays.asList(true, false)))
        .collectAsList().get(0);
    assertEquals(Arrays.asList("a", null, "c"), row.getList(0));
    List<Boolean> flags = row.getList(1);
    assertEquals(Arrays.asList(true, false), flags);
    var types = Spark.session().range(1)
        .select(Driver.strings(Arrays.asList("x")), Driver.booleans(Arrays.asList(true))).schema().fields();
    assertEquals(DataTypes.createArrayType(DataTypes.StringType, true), types[0].dataType());
    assertEquals(DataTypes.createArrayType(DataTypes.BooleanType, true), types[1].dataType());
  }
}
