package pipeline.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ledger on the driver, outside any task (Spark's TaskContext.getPartitionId() is then 0). */
class LedgerTest {
  @TempDir Path dir;

  private static Ledger sample(long maxBadBytes) {
    Ledger ledger = new Ledger(2, maxBadBytes);
    ledger.record(0, null, 10, null, 5, null);
    ledger.record(0, null, 11, "blank", 0, null);
    ledger.record(0, null, 12, "invalid_json", 3, "{x}");
    ledger.record(1, null, 20, null, 7, null);
    ledger.record(1, null, 22, "type_mismatch", 8, "{\"a\":1}");
    ledger.record(-1, "file:/elsewhere", 30, "unknown_field", 6, "{\"b\":2}");
    return ledger;
  }

  @Test
  void countsLinesAndBytesPerOutcomeAndPerObject() throws Exception {
    assertEquals("{\"rows\":2,\"rowBytes\":12,\"reasons\":{\"blank\":[1,0],\"invalid_json\":[1,3],"
        + "\"type_mismatch\":[1,8],\"unknown_field\":[1,6]},\"objectLines\":[3,2],\"objectBytes\":[8,15]}",
        sample(1 << 20).counts());
  }

  @Test
  void writesTheQuarantinedLinesInOrderWithTheirNumbers() throws Exception {
    Ledger ledger = sample(1 << 20);
    String uri = dir.resolve("q.json").toUri().toString();
    long written = ledger.writeQuarantine(uri, new Configuration(), Arrays.asList("s3://b/a", "s3://b/b"),
        Arrays.asList("v1", null), Arrays.asList(true, false));
    assertEquals(3, written);
    List<String> lines = Files.readAllLines(dir.resolve("q.json"), StandardCharsets.UTF_8);
    assertEquals(Arrays.asList(
        "{\"source_file\":\"file:/elsewhere\",\"reason\":\"unknown_field\",\"line\":\"{\\\"b\\\":2}\"}",
        "{\"source_file\":\"s3://b/a\",\"source_version\":\"v1\",\"line_number\":3,\"reason\":\"invalid_json\","
            + "\"line\":\"{x}\"}",
        "{\"source_file\":\"s3://b/b\",\"reason\":\"type_mismatch\",\"line\":\"{\\\"a\\\":1}\"}"), lines);
  }

  @Test
  void keepsNoTextOfATaskPastItsBudgetButCountsOn() throws Exception {
    Ledger ledger = sample(10);
    assertTrue(ledger.overflowed());
    assertTrue(ledger.counts().contains("\"unknown_field\":[1,6]"));
    assertEquals(0, ledger.lines(Spark.session(), Collections.singletonList("unknown_field")).count());
    assertFalse(sample(1 << 20).overflowed());
    assertEquals(Collections.singletonList("{\"b\":2}"),
        sample(1 << 20).lines(Spark.session(), Collections.singletonList("unknown_field")).collectAsList());
  }

  @Test
  void aTaskMergedAgainReplacesItsEarlierShare() throws Exception {
    Ledger driver = new Ledger(2, 1 << 20);
    driver.merge(sample(1 << 20));
    driver.merge(sample(1 << 20)); // the same partition (0) again: a task run twice
    assertTrue(driver.counts().startsWith("{\"rows\":2,"));
    Ledger copy = driver.copy();
    driver.reset();
    assertTrue(driver.isZero());
    assertFalse(copy.isZero());
  }
}
