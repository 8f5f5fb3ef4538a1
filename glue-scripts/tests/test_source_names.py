"""Every object a manifest lists is read exactly as named, or fails as a file (I5): Spark's file listing skips names
beginning with `_` or `.`, and globs paths with glob characters, which a name with `:` cannot survive."""
from __future__ import annotations

import uuid

import pytest
from test_conversion import rows_by_id
from test_versions import params_for, put

from ndjson_conversion import manifest
from ndjson_conversion.accounting import check_every_listed_object
from ndjson_conversion.errors import AccountingError
from ndjson_conversion.manifest import FailedFile, ManifestFile
from ndjson_conversion.run import run


def test_a_name_spark_would_skip_fails_as_a_file_and_a_folder_of_such_a_name_is_read(spark, batch):
    (batch.root / "incoming" / "_folder").mkdir(parents=True)
    (batch.root / "incoming" / ".folder").mkdir(parents=True)
    underscore = batch.add("_a.ndjson", '{"id":1}\n')
    dot = batch.add(".b.ndjson", '{"id":2}\n')
    batch.add("_folder/c.ndjson", '{"id":3}\n')
    batch.add(".folder/d.ndjson", '{"id":4}\n')
    batch.add("e.ndjson", '{"id":5}\n')

    result = run(spark, batch.params())

    assert sorted((f["uri"], f["reason"]) for f in result["failedFiles"]) == sorted(
        [(underscore, "unsafe_key"), (dot, "unsafe_key")])
    assert "skips" in result["failedFiles"][0]["message"]
    assert sorted(rows_by_id(spark, batch)) == [3, 4, 5]
    assert (result["linesIn"], result["rowsOut"], result["filesRead"], result["filesFailed"]) == (3, 3, 3, 2)


def test_names_with_glob_characters_are_read_as_named_once_each(spark, batch):
    # Globbed, `x[12].ndjson` would read x1 and x2; read as named, each object is read once.
    names = ["x[12].ndjson", "x1.ndjson", "x2.ndjson", "y{1,2}.ndjson", "z*.ndjson", "q?.ndjson", "b\\s.ndjson"]
    for n, name in enumerate(names, start=1):
        batch.add(name, f'{{"id":{n}}}\n')

    result = run(spark, batch.params())

    assert (result["linesIn"], result["rowsOut"], result["filesFailed"]) == (len(names), len(names), 0)
    rows = rows_by_id(spark, batch)
    assert sorted(rows) == list(range(1, len(names) + 1))
    assert [rows[n]["_source_file"].rsplit("/", 1)[1] for n in sorted(rows)] == names


def test_a_name_with_a_colon_and_a_glob_character_fails_as_a_file_not_the_manifest(spark, batch):
    # On file:// Hadoop's checksummed local file system cannot open `t:[1].ndjson` (it builds the path of a `.crc`
    # file beside it from the name); on S3 the same name is read (test below). Either way the manifest goes on.
    odd = batch.add("t:[1].ndjson", '{"id":1}\n')
    batch.add("plain.ndjson", '{"id":2}\n')

    result = run(spark, batch.params())

    assert [(f["uri"], f["reason"]) for f in result["failedFiles"]] == [(odd, "unreadable")]
    assert sorted(rows_by_id(spark, batch)) == [2]


def test_an_object_spark_left_out_without_a_word_fails_the_accounting_check(spark, batch, monkeypatch):
    # Were a name Spark's listing skips let through to the read, the run would convert the rest and add up: the check
    # of every object handed to the read against what Spark read catches it.
    monkeypatch.setattr(manifest, "hidden_name", lambda name: False)
    batch.add("_skipped.ndjson", '{"id":1}\n')
    batch.add("read.ndjson", '{"id":2}\n')

    with pytest.raises(AccountingError, match=r"1 file\(s\) handed to the read were not read: .*_skipped\.ndjson"):
        run(spark, batch.params())


def test_a_listed_object_neither_read_nor_failed_fails_the_accounting_check():
    a, b = ManifestFile("s3://i/incoming/orders/a.ndjson"), ManifestFile("s3://i/incoming/orders/b.ndjson")

    check_every_listed_object("m", [a, b], [a], [FailedFile(b, "missing", "gone")])
    with pytest.raises(AccountingError, match="b.ndjson"):
        check_every_listed_object("m", [a, b], [a], [])


@pytest.mark.s3
def test_on_s3_every_accepted_name_is_read_as_named(spark, batch, s3):
    ingest, curated = f"ingest-{uuid.uuid4().hex[:8]}", f"curated-{uuid.uuid4().hex[:8]}"
    for bucket in (ingest, curated):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=ingest, VersioningConfiguration={"Status": "Enabled"})
    keys = ["incoming/orders/t:[1].ndjson", "incoming/orders/_folder/a b+c.ndjson", "incoming/orders/x{1,2}.ndjson",
            "incoming/orders/x1.ndjson", "incoming/orders/p%41.ndjson"]
    entries = [put(s3, ingest, key, f'{{"id":{n}}}\n{{"id":{n + 10}}}\n'.encode()) for n, key in enumerate(keys, 1)]
    hidden = put(s3, ingest, "incoming/orders/_hidden.ndjson", b'{"id":99}\n')

    result = run(spark, params_for(batch, entries + [hidden], curated))

    assert [(f["key"], f["reason"]) for f in result["failedFiles"]] == [("incoming/orders/_hidden.ndjson",
                                                                          "unsafe_key")]
    assert (result["linesIn"], result["rowsOut"], result["filesRead"]) == (10, 10, 5)
    rows = rows_by_id(spark, batch)
    assert sorted(rows) == [1, 2, 3, 4, 5, 11, 12, 13, 14, 15]
    assert {rows[n]["_source_file"] for n in range(1, 6)} == {f"s3://{ingest}/{key}" for key in keys}
