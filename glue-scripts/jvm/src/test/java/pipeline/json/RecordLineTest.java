package pipeline.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RecordLine in a real scan: each line recorded once into the ledger, under the file Spark read it from
 * (_metadata.file_path), which Driver.qualified names as the scan does, a name with a space among them.
 */
class RecordLineTest {
  @TempDir Path dir;

  @Test
  void recordsEveryLineUnderItsFile() throws Exception {
    SparkSession spark = Spark.session();
    Path a = Files.writeString(dir.resolve("a b.json"), "{\"x\":1}\nbad\n{\"x\":2}\n", StandardCharsets.UTF_8);
    Path b = Files.writeString(dir.resolve("b.json"), "\n{\"x\":3}", StandardCharsets.UTF_8);
    Path other = Files.writeString(dir.resolve("other.json"), "zzz\n", StandardCharsets.UTF_8);
    List<String> paths = Driver.qualified(Arrays.asList(a.toString(), b.toString()),
        spark.sparkContext().hadoopConfiguration());

    Ledger ledger = new Ledger(2, 1 << 20);
    spark.sparkContext().register(ledger, "test.ledger");
    spark.udf().register("record_line_test", RecordLine.function(ledger, paths));

    Column line = functions.col("value");
    Column reason = functions.when(line.equalTo(""), "blank").when(line.startsWith("{"), functions.lit(null))
        .otherwise("invalid_json");
    Dataset<Row> lines = spark.read().text(a.toString(), b.toString(), other.toString())
        .select(functions.col("_metadata.file_path").alias("path"),
            functions.monotonically_increasing_id().alias("row"), line, reason.alias("reason"));
    List<Row> objects = lines.select(functions.col("value"), functions.call_udf("record_line_test",
        functions.col("path"), functions.col("row"), functions.col("reason"), functions.octet_length(line),
        functions.when(functions.col("reason").isNotNull().and(line.notEqual("")), line)).alias("object"))
        .collectAsList();

    assertEquals(6, objects.size());
    for (Row row : objects) {
      String value = row.getString(0);
      int expected = value.equals("zzz") ? -1 : value.equals("{\"x\":3}") || value.isEmpty() ? 1 : 0;
      assertEquals(expected, row.getInt(1), value);
    }
    assertEquals("{\"rows\":3,\"rowBytes\":21,\"reasons\":{\"blank\":[1,0],\"invalid_json\":[2,6]},"
        + "\"objectLines\":[3,2],\"objectBytes\":[17,7]}", ledger.counts());
    assertEquals(Arrays.asList("bad", "zzz"), ledger.lines(spark, Arrays.asList("invalid_json")).sort("value")
        .collectAsList());
  }
}
