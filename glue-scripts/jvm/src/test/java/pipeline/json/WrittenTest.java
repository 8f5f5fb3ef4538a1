package pipeline.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WrittenTest {
  @TempDir Path dir;

  @Test
  void countsTheRowsOfTheParquetFilesFromTheirFooters() throws Exception {
    SparkSession spark = Spark.session();
    Path out = dir.resolve("parquet");
    spark.range(0, 5, 1, 2).write().partitionBy().parquet(out.toString());
    long[] totals = Written.parquet(out.toUri().toString(), new Configuration());
    long bytes = 0;
    try (var files = Files.list(out)) {
      for (Path file : (Iterable<Path>) files.filter(p -> p.getFileName().toString().startsWith("part-"))::iterator) {
        bytes += Files.size(file);
      }
    }
    assertArrayEquals(new long[] {2, bytes, 5}, totals); // _SUCCESS and the .crc files left out
  }

  @Test
  void countsTheLinesOfTextFilesWithALastLineWithoutEnd() throws Exception {
    Path out = Files.createDirectories(dir.resolve("text/sub"));
    Files.writeString(out.resolve("a"), "1\n2\n", StandardCharsets.UTF_8);
    Files.writeString(out.resolve("b"), "1\n2", StandardCharsets.UTF_8);
    Files.writeString(out.resolve("_marker"), "x\n", StandardCharsets.UTF_8);
    Files.writeString(out.resolve(".hidden"), "x\n", StandardCharsets.UTF_8);
    assertArrayEquals(new long[] {2, 7, 4}, Written.text(dir.resolve("text").toUri().toString(), new Configuration()));
  }

  @Test
  void aDirectoryThatDoesNotExistHoldsNothing() throws Exception {
    assertArrayEquals(new long[] {0, 0, 0}, Written.text(dir.resolve("none").toUri().toString(), new Configuration()));
    assertArrayEquals(new long[] {0, 0, 0},
        Written.parquet(dir.resolve("none").toUri().toString(), new Configuration()));
  }
}
