"""The cap on a gzip object's decompressed bytes (--max_decompressed_bytes) holds while the object is read: a gzip
bomb is refused as a file once its read reaches the cap, never inflated whole (lines.read_text, CappedGzipCodec)."""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from ndjson_conversion.run import run

MIB = 1024 * 1024
# 64 bytes: one line of the bomb's text.
BOMB_LINE = '{"id":7,"pad":"' + "x" * 46 + '"}\n'
BOMB_MEMBERS = 10 * 1024  # of 1 MiB of text each: 10 GiB
CAP = 4 * MIB


def local_bytes_read(spark: Any) -> int:
    """Bytes Hadoop's local file systems have read in this JVM so far (every file:// read of the job and of its
    tasks, which run in the driver's JVM in local mode): FileSystem.Statistics of the `file` scheme."""
    statistics = spark._jvm.org.apache.hadoop.fs.FileSystem.getAllStatistics()
    return sum(int(s.getBytesRead()) for s in statistics if str(s.getScheme()) == "file")


def write_bomb(path: Path) -> int:
    """Writes a gzip object of BOMB_MEMBERS gzip members, each the same 1 MiB of NDJSON text compressed once (about
    3 KB): gzip(1), Python's gzip and Hadoop's DecompressorStream read concatenated members as one stream, so the
    object decompresses to 10 GiB. Returns its size."""
    member = gzip.compress((BOMB_LINE * (MIB // len(BOMB_LINE))).encode("ascii"), mtime=0)
    with path.open("wb") as out:
        for _ in range(BOMB_MEMBERS):
            out.write(member)
    return path.stat().st_size


def test_the_bomb_is_concatenated_members_that_gzip_reads_as_one_stream():
    member = gzip.compress((BOMB_LINE * (MIB // len(BOMB_LINE))).encode("ascii"), mtime=0)
    assert len(BOMB_LINE) == 64 and len(member) < 4096
    assert gzip.decompress(member * 3) == (BOMB_LINE * (3 * MIB // 64)).encode("ascii")


def test_a_gzip_object_of_10_gib_is_refused_where_its_read_reaches_the_cap(spark, batch):
    bomb_path = batch.root / "incoming" / "bomb.ndjson.gz"
    bomb_size = write_bomb(bomb_path)
    batch.files.append(bomb_path)
    bomb = "file://" + str(bomb_path)
    members = batch.add("members.ndjson.gz", gzip.compress(b'{"id":1}\n') + gzip.compress(b'{"id":2}\n{"id":3}\n'))
    plain = batch.add("plain.ndjson", '{"id":4}\n')
    params = batch.params(max_decompressed_bytes=CAP)

    before = local_bytes_read(spark)
    result = run(spark, params)
    read = local_bytes_read(spark) - before

    # The bomb fails as a file, too_large, naming the cap; the others are converted: PARTIAL, I5 adding up.
    assert [(f["uri"], f["reason"]) for f in result["failedFiles"]] == [(bomb, "too_large")]
    assert f"more than {CAP} bytes" in result["failedFiles"][0]["message"]
    rows = spark.read.parquet(str(batch.partition_dir)).select("id", "_source_file").collect()
    assert sorted((r["id"], r["_source_file"]) for r in rows) == [(1, members), (2, members), (3, members),
                                                                    (4, plain)]
    assert (result["linesIn"], result["rowsOut"], result["rowsQuarantined"], result["blankLines"]) == (4, 4, 0, 0)
    assert (result["filesRead"], result["filesFailed"]) == (2, 1)
    outcome = json.loads(Path(params.result_uri.removeprefix("file://").replace(".result.json", ".outcome.json"))
                         .read_text())
    assert (outcome["status"], outcome["counts"]["filesFailed"]) == ("PARTIAL", 1)
    assert [f["reason"] for f in outcome["failedFiles"]] == ["too_large"]

    # The read stopped at the cap: the whole run read under 1 MiB from local files, where inflating the bomb to its
    # end takes its 30 MB of compressed members (each member of 1 MiB of text is about 3 KB: 4 MiB of text, 12 KB).
    assert bomb_size > 16 * MIB
    assert read < MIB, f"{read} bytes read from local files; the bomb is {bomb_size} bytes"
