"""End-to-end runs of the job on local files: Parquet and quarantine output read back, counts, retries (I4, I5)."""
from __future__ import annotations

import json

import pytest

from ndjson_conversion import jvm
from ndjson_conversion.errors import ENGINE_INCOMPATIBLE, EngineIncompatibleError, JobError
from ndjson_conversion.lines import check_engine
from ndjson_conversion.run import run
from ndjson_to_parquet import main

MIXED_LINES = [
    '\ufeff{"id":1,"customer":{"name":"Zoë","tags":["a","b"]},"items":[{"sku":"X","qty":2},{"sku":"Y","qty":null}],'
    '"note":null}',
    r'{"id":2,"customer":{"name":"\u00e9\ud83d\ude00","tags":[]},"items":[],"note":"raw 😀 𝄞"}',
    "",
    "   \t ",
    "not json at all",
    '{"id":3,"customer":{"name":"trunc',
    '[{"id":4}]',
    "42",
    '"just a string"',
    '{"id":5}{"id":6}',
    '{"id":7},{"id":8}',
    "null",
    '{"id":9,"note":"last line, no newline"}',
]


def read_outputs(spark, *batches):
    """The rows of each batch's last successful run, where its result names them (a replaced run's directory stays
    until its grace ends: readers read the named run, docs/architecture.md, I4), with the table's partition columns."""
    base = str(batches[0].root / "curated" / batches[0].dataset)
    return spark.read.option("basePath", base).parquet(*[str(b.partition_dir) for b in batches]).collect()


def rows_by_id(spark, batch):
    return {r["id"]: r for r in read_outputs(spark, batch)}


def test_every_line_is_a_row_a_quarantined_line_or_blank(spark, batch):
    source = batch.add("mixed file+[1].ndjson", "\r\n".join(MIXED_LINES))  # CRLF, BOM, no final newline

    result = run(spark, batch.params())

    assert result | {"durationSeconds": 0} == {
        "manifestId": batch.manifest_id, "linesIn": 13, "rowsOut": 3, "rowsQuarantined": 8, "blankLines": 2,
        "outputFiles": 1, "outputBytes": result["outputBytes"], "quarantineFiles": 1,
        "filesRead": 1, "filesFailed": 0, "failedFiles": [], "durationSeconds": 0, "runId": result["runId"],
        "outputLocation": f"file://{batch.manifest_dir}/run={result['runId']}/",
        "quarantineLocation": f"file://{batch.root}/quarantine/{batch.dataset}/manifest_id={batch.manifest_id}/"
                              f"run={result['runId']}/",
        "quarantineReasons": {"invalid_json": 3, "multiple_values": 1, "not_an_object": 4},
        "schema": {"policy": "evolve", "columns": 4,
                   "added": ["customer", "customer.name", "customer.tags", "id", "items", "items[].qty",
                             "items[].sku", "note"]}}
    assert result["outputBytes"] == sum(p.stat().st_size for p in batch.partition_dir.glob("*.parquet"))
    assert batch.result_file() == result

    rows = rows_by_id(spark, batch)
    assert sorted(rows) == [1, 2, 9]
    assert rows[1]["customer"]["name"] == "Zoë" and rows[1]["customer"]["tags"] == ["a", "b"]
    assert [(i["sku"], i["qty"]) for i in rows[1]["items"]] == [("X", 2), ("Y", None)]
    assert rows[1]["note"] is None
    assert rows[2]["customer"]["name"] == "é😀" and rows[2]["customer"]["tags"] == []
    assert rows[2]["note"] == "raw 😀 𝄞" and rows[2]["items"] == []
    assert rows[9]["note"] == "last line, no newline"
    for row in rows.values():
        assert row["_source_file"] == source and row["_source_version"] is None  # file:// entries pin no version
        assert row["_ingested_at"] is not None
        assert str(row["ingest_date"]) == "2026-11-23" and row["manifest_id"] == batch.manifest_id

    assert [(q["line_number"], q["reason"], q["line"]) for q in batch.quarantined()] == [
        (5, "invalid_json", "not json at all"),
        (6, "invalid_json", '{"id":3,"customer":{"name":"trunc'),
        (7, "not_an_object", '[{"id":4}]'),
        (8, "not_an_object", "42"),
        (9, "not_an_object", '"just a string"'),
        (10, "invalid_json", '{"id":5}{"id":6}'),
        (11, "multiple_values", '{"id":7},{"id":8}'),
        (12, "not_an_object", "null"),
    ]
    assert {q["source_file"] for q in batch.quarantined()} == {source}


def test_a_retry_replaces_the_manifest_output_instead_of_adding_to_it(spark, batch):
    batch.add("a.ndjson", '{"id":1}\n{"id":2}\nbad\n')
    params = batch.params()

    first = run(spark, params)
    second = run(spark, params)

    assert (first["rowsOut"], first["rowsQuarantined"]) == (second["rowsOut"], second["rowsQuarantined"]) == (2, 1)
    assert sorted(rows_by_id(spark, batch)) == [1, 2]
    assert len(batch.quarantined()) == 1
    assert len(list(batch.partition_dir.glob("*.parquet"))) == second["outputFiles"] == 1


def test_a_retry_leaves_other_manifests_partitions_alone(spark, tmp_path):
    from conftest import Batch

    one, two = Batch(tmp_path, "orders-20261123-000001"), Batch(tmp_path, "orders-20261123-000002")
    one.add("one.ndjson", '{"id":1}\n')
    two.add("two.ndjson", '{"id":2}\n')

    run(spark, one.params())
    run(spark, two.params())
    run(spark, one.params())

    assert sorted(r["id"] for r in read_outputs(spark, one, two)) == [1, 2]

    one.add("three.ndjson", '{"id":3}\n')  # the replay of the first manifest lists one more object
    run(spark, one.params())

    table = read_outputs(spark, one, two)
    assert sorted((r["manifest_id"][-1], r["id"]) for r in table) == [("1", 1), ("1", 3), ("2", 2)]
    assert sorted(p.name for p in one.partition_dir.iterdir() if not p.name.startswith(".")) == [
        p.name for p in sorted(one.partition_dir.glob("part-*.parquet"))]  # data files only, no _SUCCESS marker


def test_very_long_lines_are_rows_up_to_the_cap_and_quarantined_above_it(spark, batch):
    long_text = "x" * (1024 * 1024)
    long_line = json.dumps({"id": 1, "blob": long_text, "list": list(range(1000))})
    batch.add("long.ndjson", long_line + "\n{\"id\":2}\n" + json.dumps({"id": 3, "blob": "y" * 100}) + "\n")

    result = run(spark, batch.params(max_line_bytes=len(long_line)))

    rows = rows_by_id(spark, batch)
    assert result["rowsOut"] == 3 and len(rows[1]["blob"]) == len(long_text) and rows[1]["list"][-1] == 999

    result = run(spark, batch.params(max_line_bytes=100))

    assert sorted(rows_by_id(spark, batch)) == [2]
    assert result["quarantineReasons"] == {"line_too_long": 2}
    assert [(q["line_number"], q["reason"]) for q in batch.quarantined()] == [(1, "line_too_long"),
                                                                               (3, "line_too_long")]


def test_a_field_with_different_types_in_different_files_widens(spark, batch):
    batch.add("a.ndjson", '{"id":1,"v":1,"o":{"x":1},"n":1}\n')
    batch.add("b.ndjson", '{"id":2,"v":"one","o":"flat","n":2.5}\n')

    result = run(spark, batch.params())

    rows = rows_by_id(spark, batch)
    assert result["rowsOut"] == 2 and result["rowsQuarantined"] == 0
    assert (rows[1]["v"], rows[2]["v"]) == ("1", "one")
    assert (json.loads(rows[1]["o"]), rows[2]["o"]) == ({"x": 1}, "flat")
    assert (rows[1]["n"], rows[2]["n"]) == (1.0, 2.5)


def test_empty_and_gzip_objects(spark, batch):
    batch.add("empty.ndjson", "")
    batch.add("only-newline.ndjson", "\n")
    batch.add("b.ndjson.gz", '{"id":1}\n\n{"id":2,"n":{}}\n', gzipped=True)

    result = run(spark, batch.params())

    assert (result["linesIn"], result["rowsOut"], result["blankLines"], result["rowsQuarantined"]) == (4, 2, 2, 0)
    assert sorted(rows_by_id(spark, batch)) == [1, 2]
    assert result["quarantineFiles"] == 0 and not batch.quarantine_dir.exists()


def test_large_objects_are_split_between_tasks_and_their_lines_not_numbered(spark, batch):
    batch.add("a.ndjson", '{"id":1}\r\n\r\nbad\r\n{"id":2}')

    result = run(spark, batch.params(), numbered_file_max_bytes=8)  # 25 bytes: read in 8-byte splits

    assert (result["linesIn"], result["rowsOut"], result["blankLines"], result["rowsQuarantined"]) == (4, 2, 1, 1)
    assert batch.quarantined() == [{"source_file": batch.params().manifest_uri.replace(
        f"manifests/{batch.manifest_id}.json", "incoming/a.ndjson"), "reason": "invalid_json", "line": "bad"}]


def test_line_numbers_count_from_each_objects_first_line(spark, batch):
    # Small objects are packed into the same read tasks; each one's lines still count from 1.
    first = batch.add("a.ndjson", '{"id":0}\nbad a2\n{"id":1}\n')
    second = batch.add("b.ndjson.gz", 'bad b1\n\n{"id":2}\nbad b4', gzipped=True)
    third = batch.add("c.ndjson", '{"id":3}\n' * 50 + "bad c51\n")

    spark.conf.set("spark.sql.files.openCostInBytes", "0")  # packs small objects into the same tasks
    try:
        result = run(spark, batch.params())
        assert spark.read.text([str(p) for p in batch.files]).rdd.getNumPartitions() < 3
    finally:
        spark.conf.unset("spark.sql.files.openCostInBytes")

    assert (result["linesIn"], result["rowsOut"], result["rowsQuarantined"], result["blankLines"]) == (58, 53, 4, 1)
    assert [(q["source_file"], q["line_number"], q["line"]) for q in batch.quarantined()] == [
        (first, 2, "bad a2"), (second, 1, "bad b1"), (second, 4, "bad b4"), (third, 51, "bad c51")]


def test_fields_named_like_added_columns_are_kept_under_another_name(spark, batch):
    batch.add("a.ndjson", '{"id":1,"manifest_id":"theirs","_source_file":"s","A":1,"a":2}\n')

    run(spark, batch.params())

    row = next(iter(rows_by_id(spark, batch).values()))
    assert (row["manifest_id_2"], row["_source_file_2"]) == ("theirs", "s")
    assert row["manifest_id"] == batch.manifest_id and (row["A"], row["a_2"]) == (1, 2)


def test_a_manifest_of_only_bad_lines_writes_no_parquet(spark, batch):
    batch.add("a.ndjson", "oops\n[1]\n")

    result = run(spark, batch.params())

    assert (result["rowsOut"], result["rowsQuarantined"], result["outputFiles"]) == (0, 2, 0)
    assert not batch.partition_dir.exists()


def test_main_fails_with_one_line_when_the_manifest_is_missing(spark, batch, capsys):
    params = batch.params()
    argv = ["ndjson_to_parquet.py", "--JOB_NAME", "convert", "--manifest_uri", params.manifest_uri + ".missing",
            "--manifest_id", params.manifest_id, "--dataset", params.dataset, "--ingest_date", params.ingest_date,
            "--curated_path", params.curated_path, "--quarantine_path", params.quarantine_path,
            "--result_uri", params.result_uri, "--catalog_database", ""]

    code = main(argv)

    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 1
    assert last.startswith("ndjson_to_parquet failed: [NotRetryable] cannot read manifest") and "missing" in last


def test_the_jvm_helpers_pass_their_engine_check_on_this_spark(spark):
    assert jvm.engine_self_check(spark) is None
    check_engine(spark)


def test_an_engine_the_jvm_helpers_do_not_work_on_fails_the_run_before_anything_is_read(spark, batch, capsys,
                                                                                          monkeypatch):
    # What ParseLine.selfCheck reports on a Spark whose internals changed; the manifest is missing, so a run that read
    # anything would fail on it instead.
    monkeypatch.setattr(jvm, "engine_self_check", lambda _spark: "java.lang.NoSuchMethodError: JsonToStructs.<init>")
    params = batch.params()
    argv = ["ndjson_to_parquet.py", "--JOB_NAME", "convert", "--manifest_uri", params.manifest_uri + ".missing",
            "--manifest_id", params.manifest_id, "--dataset", params.dataset, "--ingest_date", params.ingest_date,
            "--curated_path", params.curated_path, "--quarantine_path", params.quarantine_path,
            "--result_uri", params.result_uri, "--catalog_database", ""]

    code = main(argv)

    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 1
    assert last.startswith(f"ndjson_to_parquet failed: [NotRetryable] {ENGINE_INCOMPATIBLE}: ")
    assert "NoSuchMethodError" in last and "Spark 3.5.6" in last
    with pytest.raises(EngineIncompatibleError):
        run(spark, params, glue_client_factory=_no_catalog)


def _no_catalog():
    raise AssertionError("no catalog in these runs")


def test_main_fails_not_retryable_when_no_listed_object_can_be_read(spark, batch, capsys):
    batch.add("a.ndjson", '{"id":1}\n')
    params = batch.params()
    batch.files[0].unlink()
    argv = ["x", "--manifest_uri", params.manifest_uri, "--manifest_id", params.manifest_id, "--dataset", "orders",
            "--ingest_date", params.ingest_date, "--curated_path", params.curated_path,
            "--quarantine_path", params.quarantine_path, "--result_uri", params.result_uri]

    code = main(argv)

    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 1 and last.startswith("ndjson_to_parquet failed: [NotRetryable] manifest ") and "a.ndjson" in last
    assert "no file could be read" in last and "(missing)" in last


def test_main_prints_the_result_on_success(spark, batch, capsys):
    batch.add("a.ndjson", '{"id":1}\n')
    params = batch.params()
    argv = ["x", "--manifest_uri", params.manifest_uri, "--manifest_id", params.manifest_id, "--dataset", "orders",
            "--ingest_date", params.ingest_date, "--curated_path", params.curated_path, "--target_file_mb", "64",
            "--quarantine_path", params.quarantine_path, "--result_uri", params.result_uri, "--extra", "ignored"]

    code = main(argv)

    assert code == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["rowsOut"] == 1


@pytest.mark.parametrize("manifest", ["not json", '{"manifestId": "other", "files": []}', '{"files": [{}]}'])
def test_malformed_manifests_are_refused(spark, batch, manifest):
    from ndjson_conversion.errors import ManifestError

    params = batch.params()
    (batch.root / "manifests" / f"{batch.manifest_id}.json").write_text(manifest)

    with pytest.raises(ManifestError):
        run(spark, params)


PINNED_DDL = "id bigint, customer struct<name: string>, n double"
PINNED_JSON = (
    '{"type": "struct", "fields": [{"name": "id", "type": "long", "nullable": true, "metadata": {}},'
    ' {"name": "customer", "type": {"type": "struct", "fields": [{"name": "name", "type": "string",'
    ' "nullable": true, "metadata": {}}]}, "nullable": true, "metadata": {}},'
    ' {"name": "n", "type": "double", "nullable": true, "metadata": {}}]')
PINNED_LINES = ('{"id":1,"customer":{"name":"Zoë"},"n":2}\n'
                '{"id":"two","n":1}\n'
                '{"id":3,"customer":"flat"}\n'
                '{"id":4},{"id":5}\n'
                '\n'
                '{"id":6,"unlisted":"x"}\n'
                '{"id":7,"customer":{"name":"A","extra":1}}\n'
                '{"id":8,"unlisted":null,"more":{}}\n')


@pytest.mark.parametrize("schema_text", [
    "-- the orders feed, pinned by its owner\n-- policy: strict\n" + PINNED_DDL,
    PINNED_JSON + ', "policy": "strict"}',
])
def test_a_strict_pinned_schema_quarantines_unknown_fields_and_values_of_another_type(spark, batch, schema_text):
    schema_file = batch.root / "orders.schema"
    schema_file.write_text(schema_text)
    batch.add("a.ndjson", PINNED_LINES)

    result = run(spark, batch.params(schema_uri="file://" + str(schema_file)))

    assert (result["linesIn"], result["rowsOut"], result["rowsQuarantined"], result["blankLines"]) == (8, 2, 5, 1)
    written = spark.read.parquet(str(batch.partition_dir))
    assert written.columns[:3] == ["id", "customer", "n"] and "unlisted" not in written.columns
    rows = {r["id"]: r for r in written.collect()}
    assert sorted(rows) == [1, 8]
    assert (rows[1]["customer"]["name"], rows[1]["n"], rows[8]["customer"]) == ("Zoë", 2.0, None)
    # A value that does not fit its field's type is quarantined, not written as null or as another type.
    assert [(q["line_number"], q["reason"]) for q in batch.quarantined()] == [
        (2, "type_mismatch"), (3, "type_mismatch"), (4, "multiple_values"), (6, "unknown_field"),
        (7, "unknown_field")]
    assert result["schema"] == {"policy": "strict", "columns": 3, "added": ["customer", "customer.name", "id", "n"]}


def test_a_value_that_spark_s_parser_refuses_for_a_pinned_type_is_a_type_mismatch(spark, batch):
    # The line check leaves dates and timestamps to Spark's parser; what it refuses is quarantined, not a null.
    schema_file = batch.root / "events.ddl"
    schema_file.write_text("id bigint, day date, at timestamp")
    batch.add("a.ndjson", '{"id":1,"day":"2026-11-23","at":"2026-11-23T10:00:00Z"}\n'
                          '{"id":2,"day":"the 23rd"}\n'
                          '{"id":3,"at":"later"}\n'
                          '{"id":4,"day":null}\n')

    result = run(spark, batch.params(schema_uri="file://" + str(schema_file)))

    rows = rows_by_id(spark, batch)
    assert sorted(rows) == [1, 4] and str(rows[1]["day"]) == "2026-11-23" and rows[4]["day"] is None
    assert rows[1]["at"] is not None
    assert [(q["line_number"], q["reason"]) for q in batch.quarantined()] == [(2, "type_mismatch"),
                                                                               (3, "type_mismatch")]
    assert result["quarantineReasons"] == {"type_mismatch": 2}


@pytest.mark.parametrize("schema_text", [PINNED_DDL, PINNED_JSON + "}"])
def test_a_pinned_schema_evolves_by_default(spark, batch, schema_text):
    schema_file = batch.root / "orders.schema"
    schema_file.write_text(schema_text)
    batch.add("a.ndjson", PINNED_LINES)

    result = run(spark, batch.params(schema_uri="file://" + str(schema_file)))

    written = spark.read.parquet(str(batch.partition_dir))
    assert written.columns[:4] == ["id", "customer", "n", "unlisted"]  # the pinned order, then the additions
    rows = {r["id"]: r for r in written.collect()}
    assert sorted(rows) == [1, 6, 7, 8]
    assert (rows[6]["unlisted"], rows[7]["customer"]["extra"], rows[8]["unlisted"]) == ("x", 1, None)
    assert [(q["line_number"], q["reason"]) for q in batch.quarantined()] == [
        (2, "type_mismatch"), (3, "type_mismatch"), (4, "multiple_values")]
    assert result["schema"]["added"] == ["customer", "customer.extra", "customer.name", "id", "n", "unlisted"]


def test_a_datasets_schema_under_the_schema_prefix_is_pinned_and_its_absence_means_inference(spark, tmp_path):
    from conftest import Batch

    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "clicks.ddl").write_text("-- policy: strict\nid bigint")  # another dataset's schema does not apply
    prefix = "file://" + str(schemas) + "/"
    line = '{"id":1,"extra":"x"}\n'

    orders = Batch(tmp_path / "orders", dataset="orders")
    orders.add("a.ndjson", line)
    run(spark, orders.params(schema_prefix=prefix))
    assert spark.read.parquet(str(orders.partition_dir)).columns[:2] == ["extra", "id"]  # inferred

    (schemas / "payments.ddl").write_text("-- policy: strict\nid bigint")
    payments = Batch(tmp_path / "payments", dataset="payments")
    payments.add("a.ndjson", line)
    run(spark, payments.params(schema_prefix=prefix))
    assert [q["reason"] for q in payments.quarantined()] == ["unknown_field"]  # pinned, DDL

    (schemas / "refunds.json").write_text('{"policy": "strict", "type":"struct","fields":[{"name":"extra",'
                                          '"type":"string","nullable":true,"metadata":{}}]}')
    refunds = Batch(tmp_path / "refunds", dataset="refunds")
    refunds.add("a.ndjson", line + '{"extra":"y"}\n')
    run(spark, refunds.params(schema_prefix=prefix))
    assert spark.read.parquet(str(refunds.partition_dir)).columns[:1] == ["extra"]  # pinned, Spark's schema JSON
    assert [q["reason"] for q in refunds.quarantined()] == ["unknown_field"]


def test_an_unreadable_pinned_schema_fails_the_run(spark, batch, tmp_path):
    batch.add("a.ndjson", '{"id":1}\n')
    bad = tmp_path / "bad.schema"
    bad.write_text("id bigint, broken struct<")

    with pytest.raises(JobError, match="pinned schema"):
        run(spark, batch.params(schema_uri="file://" + str(bad)))
    with pytest.raises(JobError, match="cannot read schema"):
        run(spark, batch.params(schema_uri="file://" + str(tmp_path / "missing.schema")))


def test_a_missing_and_a_corrupt_file_fail_as_files_and_the_others_are_converted(spark, batch):
    good = batch.add("a good.ndjson", '{"id":1}\n\nbad\n')
    missing = batch.add("b.ndjson", '{"id":2}\n')
    whole = __import__("gzip").compress(b'{"id":3}\n' * 5000)
    corrupt = batch.add("c [x].ndjson.gz", whole[: len(whole) // 2])  # a truncated gzip stream
    also_good = batch.add("d.ndjson.gz", '{"id":4}\n{"id":5}', gzipped=True)
    params = batch.params()
    batch.files[1].unlink()

    result = run(spark, params)

    assert (result["filesRead"], result["filesFailed"]) == (2, 2)
    failed = {f["uri"]: f for f in result["failedFiles"]}
    assert set(failed) == {missing, corrupt}
    assert (failed[missing]["reason"], failed[corrupt]["reason"]) == ("missing", "unreadable")
    assert failed[corrupt]["key"].endswith("/incoming/c [x].ndjson.gz") and failed[corrupt]["versionId"] is None
    assert all(0 < len(f["message"]) <= 300 and '{"id"' not in f["message"] for f in failed.values())
    assert sorted(rows_by_id(spark, batch)) == [1, 4, 5]
    assert {r["_source_file"] for r in rows_by_id(spark, batch).values()} == {good, also_good}
    # I5 over the files read: 3 lines + 2 lines.
    assert (result["linesIn"], result["rowsOut"], result["rowsQuarantined"], result["blankLines"]) == (5, 3, 1, 1)
    assert batch.result_file() == result


def test_a_gzip_file_that_decompresses_past_the_cap_fails_as_a_file_and_the_others_are_converted(spark, batch):
    small = batch.add("small.ndjson.gz", '{"id":1}\n', gzipped=True)
    bomb = batch.add("bomb.ndjson.gz", '{"id":2}\n' + " " * 100_000 + "\n", gzipped=True)  # 100 kB from ~200 bytes
    plain = batch.add("plain.ndjson", '{"id":3}\n' + " " * 2000 + "\n")  # the cap is for decompressed text only

    result = run(spark, batch.params(max_decompressed_bytes=1000))

    assert [(f["uri"], f["reason"]) for f in result["failedFiles"]] == [(bomb, "too_large")]
    assert "1000 bytes" in result["failedFiles"][0]["message"]
    assert sorted(rows_by_id(spark, batch)) == [1, 3]
    assert {r["_source_file"] for r in rows_by_id(spark, batch).values()} == {small, plain}
    assert (result["linesIn"], result["filesRead"], result["filesFailed"]) == (3, 2, 1)


def test_a_manifest_whose_files_are_all_unreadable_fails_not_retryable(spark, batch):
    from ndjson_conversion.errors import NoReadableFileError, failure_line

    batch.add("a.ndjson.gz", b"\x1f\x8b\x08\x00garbage")
    params = batch.params()

    with pytest.raises(NoReadableFileError) as raised:
        run(spark, params)

    assert failure_line(raised.value).startswith("ndjson_to_parquet failed: [NotRetryable] manifest ")
    assert "a.ndjson.gz (unreadable)" in failure_line(raised.value)
    assert not batch.partition_dir.exists()


def test_transient_failures_carry_no_marker():
    from ndjson_conversion.errors import AccountingError, failure_line

    assert failure_line(RuntimeError("SlowDown")) == "ndjson_to_parquet failed: RuntimeError: SlowDown"
    assert failure_line(JobError("cannot read schema s3://x")) == "ndjson_to_parquet failed: cannot read schema s3://x"
    assert failure_line(AccountingError("lines do not add up")) == (
        "ndjson_to_parquet failed: [NotRetryable] lines do not add up")


def test_a_failed_run_writes_its_outcome_document_for_the_state_machine(spark, batch, capsys):
    import json
    from pathlib import Path

    from ndjson_to_parquet import main

    batch.add("a.ndjson", '{"id":1}\n')
    params = batch.params()
    batch.files[0].unlink()
    argv = ["x", "--JOB_NAME", "convert", "--JOB_RUN_ID", "jr_test_1", "--manifest_uri", params.manifest_uri,
            "--manifest_id", params.manifest_id, "--dataset", "orders", "--ingest_date", params.ingest_date,
            "--curated_path", params.curated_path, "--quarantine_path", params.quarantine_path,
            "--result_uri", params.result_uri]

    assert main(argv) == 1
    outcome = json.loads(Path(params.result_uri.removeprefix("file://").replace(".result.json", ".outcome.json"))
                         .read_text())

    assert capsys.readouterr().err.splitlines()[-1].startswith("ndjson_to_parquet failed: [NotRetryable] manifest ")
    assert (outcome["jobRunId"], outcome["status"], outcome["reason"], outcome["retryable"]) == (
        "jr_test_1", "FAILED", "no_readable_file", False)
    assert outcome["counts"]["filesFailed"] == 1
    assert [(f["key"], f["reason"]) for f in outcome["failedFiles"]] == [(outcome["failedFiles"][0]["key"], "missing")]
    assert outcome["failedFiles"][0]["key"].endswith("a.ndjson")
    assert "no file could be read" in outcome["message"]


def test_a_converted_run_writes_its_outcome_after_the_result(spark, batch):
    import json
    from pathlib import Path

    batch.add("a.ndjson", '{"id":1}\nbad\n\n')
    params = batch.params()

    result = run(spark, params, job_run_id="jr_test_2")
    outcome = json.loads(Path(params.result_uri.removeprefix("file://").replace(".result.json", ".outcome.json"))
                         .read_text())

    assert (outcome["jobRunId"], outcome["status"], outcome["reason"], outcome["retryable"]) == (
        "jr_test_2", "SUCCEEDED", "none", False)
    assert outcome["counts"] == {name: result[name] for name in outcome["counts"]}
    assert (outcome["counts"]["linesIn"], outcome["counts"]["rowsOut"]) == (3, 1)


@pytest.mark.parametrize("kept_bytes", [64 * 1024 * 1024, 1])
def test_quarantined_lines_kept_in_the_pass_or_read_in_a_pass_of_their_own_give_the_same_output(
        spark, batch, monkeypatch, kept_bytes):
    # The pass keeps the quarantined lines up to a budget per task; past it, they are read again on their own, and
    # so are the lines whose fields evolve the schema.
    from conftest import Batch
    from ndjson_conversion import accounting

    monkeypatch.setattr(accounting, "QUARANTINE_KEPT_BYTES", kept_bytes)
    monkeypatch.setattr(accounting, "QUARANTINE_TASK_MIN_BYTES", kept_bytes)
    first = batch.add("a.ndjson", '{"id":1}\nbad a2\n{"id":2,"added":"x"}\n[3]\n')
    batch.add("b.ndjson.gz", '{"id":4,"nested":{"k":1}}\n\n{"id":5}\n', gzipped=True)

    result = run(spark, batch.params())

    assert (result["linesIn"], result["rowsOut"], result["rowsQuarantined"], result["blankLines"]) == (7, 4, 2, 1)
    assert [(q["source_file"], q["line_number"], q["reason"], q["line"]) for q in batch.quarantined()] == [
        (first, 2, "invalid_json", "bad a2"), (first, 4, "not_an_object", "[3]")]

    later = Batch(batch.root, "orders-20261123-000002", batch.dataset)
    later.add("c.ndjson", '{"id":6,"nested":{"k":2,"more":true}}\n{"id":"seven"}\n')
    result = run(spark, later.params())

    assert (result["rowsOut"], result["quarantineReasons"]) == (1, {"type_mismatch": 1})
    assert result["schema"]["added"] == ["nested.more"]
    table = spark.read.option("mergeSchema", "true").parquet(str(batch.root / "curated" / batch.dataset))
    rows = {r["id"]: r for r in table.collect()}
    assert sorted(rows) == [1, 2, 4, 5, 6]
    assert (rows[2]["added"], rows[4]["nested"]["k"], rows[6]["nested"]["more"]) == ("x", 1, True)
