"""Glue Data Catalog registration against moto's in-process Glue."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from conftest import CATALOG_DB
from ndjson_conversion.catalog import CatalogSchemaStore, settle_schema
from ndjson_conversion.errors import NotRetryableError
from ndjson_conversion.run import run

DB = CATALOG_DB


def columns(glue, table="orders"):
    return [(c["Name"], c["Type"]) for c in glue.get_table(DatabaseName=DB, Name=table)["Table"]
            ["StorageDescriptor"]["Columns"]]


def test_first_run_creates_the_table_and_the_partition(spark, batch, glue):
    batch.add("a.ndjson", '{"id":1,"customer":{"name":"Zoë"},"tags":["x"]}\n')

    run(spark, batch.params(catalog_database=DB), glue_client_factory=lambda: glue)

    table = glue.get_table(DatabaseName=DB, Name="orders")["Table"]
    assert columns(glue) == [("customer", "struct<name:string>"), ("id", "bigint"), ("tags", "array<string>"),
                             ("_source_file", "string"), ("_source_version", "string"),
                             ("_ingested_at", "timestamp")]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["ingest_date", "manifest_id"]
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert table["StorageDescriptor"]["Location"] == batch.params().curated_path + "orders/"
    partition = glue.get_partition(DatabaseName=DB, TableName="orders",
                                   PartitionValues=["2026-11-23", batch.manifest_id])["Partition"]
    assert partition["StorageDescriptor"]["Location"] == f"file://{batch.partition_dir}/"


def test_a_later_manifest_adds_columns_and_each_partition_keeps_the_columns_it_was_written_with(spark, tmp_path,
                                                                                                   glue):
    from conftest import Batch

    first = Batch(tmp_path, "orders-20261123-000001")
    first.add("a.ndjson", '{"id":1,"note":"x"}\n')
    run(spark, first.params(catalog_database=DB), glue_client_factory=lambda: glue)
    later = Batch(tmp_path, "orders-20261123-000002")
    later.add("b.ndjson", '{"id":"two"}\n{"id":3,"extra":2.5}\n')

    result = run(spark, later.params(catalog_database=DB), glue_client_factory=lambda: glue)

    assert columns(glue) == [("id", "bigint"), ("note", "string"), ("extra", "double"), ("_source_file", "string"),
                             ("_source_version", "string"), ("_ingested_at", "timestamp")]
    assert result["schema"] == {"policy": "evolve", "columns": 3, "added": ["extra"]}
    assert result["quarantineReasons"] == {"type_mismatch": 1}  # the table's id is a bigint
    partitions = {p["Values"][1]: [c["Name"] for c in p["StorageDescriptor"]["Columns"]]
                  for p in glue.get_partitions(DatabaseName=DB, TableName="orders")["Partitions"]}
    assert partitions[first.manifest_id] == ["id", "note", "_source_file", "_source_version", "_ingested_at"]
    assert partitions[later.manifest_id] == [name for name, _ in columns(glue)]


class _Interleaved:
    """A Glue client whose first get_table in each of two threads waits for the other's: both runs read the same
    table version before either writes, the lost-update race."""

    def __init__(self, client, barrier):
        self._client, self._barrier, self._local = client, barrier, __import__("threading").local()

    def get_table(self, **kwargs):
        try:
            return self._client.get_table(**kwargs)
        finally:
            if not getattr(self._local, "waited", False):
                self._local.waited = True
                self._barrier.wait(timeout=30)

    def __getattr__(self, name):
        return getattr(self._client, name)


@pytest.mark.parametrize("table_exists", [True, False])
def test_concurrent_runs_adding_different_fields_keep_both(spark, monkeypatch, table_exists):
    import sys
    import threading
    from pathlib import Path

    from pyspark.sql import types as T

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "local" / "emulator"))
    import glue_catalog  # moto's UpdateTable honours VersionId as Glue does

    glue_catalog.install()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        glue = boto3.client("glue", region_name="us-east-1")
        glue.create_database(DatabaseInput={"Name": DB})
        location = "s3://c/curated/orders/"
        ids = T.StructType([T.StructField("id", T.LongType())])
        if table_exists:
            settle_schema(CatalogSchemaStore(glue, DB, "orders", location), ids)
        barrier = threading.Barrier(2)
        errors, settled, added = [], {}, {}

        def one_run(name):
            try:
                store = CatalogSchemaStore(_Interleaved(glue, barrier), DB, "orders", location)
                additions = T.StructType(ids.fields + [T.StructField(name, T.StringType())])
                added[name] = set()
                settled[name] = settle_schema(store, additions, backoff_seconds=0.01, added=added[name]).schema
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        runs = [threading.Thread(target=one_run, args=(name,)) for name in ("from_one", "from_two")]
        for thread in runs:
            thread.start()
        for thread in runs:
            thread.join()

        assert errors == []
        assert sorted(name for name, _ in columns(glue)) == ["_ingested_at", "_source_file", "_source_version",
                                                             "from_one", "from_two", "id"]
        # Each run parses with a record that holds its own field: what it writes, the table has.
        assert sorted(settled) == ["from_one", "from_two"]
        assert all({"id", name} <= set(schema.fieldNames()) for name, schema in settled.items())
        # Each run reports the fields it added, and not the other's.
        assert added["from_one"] - {"id"} == {"from_one"} and added["from_two"] - {"id"} == {"from_two"}
        recorded = CatalogSchemaStore(glue, DB, "orders", location).read()
        assert recorded is not None and sorted(recorded.schema.fieldNames()) == ["from_one", "from_two", "id"]


def test_a_table_of_the_datasets_name_that_another_tool_registered_fails_the_run_not_retryable(glue):
    glue.create_table(DatabaseName=DB, TableInput={"Name": "orders", "StorageDescriptor": {
        "Columns": [{"Name": "id", "Type": "bigint"}], "Location": "s3://c/curated/orders/"}})

    with pytest.raises(NotRetryableError, match=r"has no pipeline\.schema parameter"):
        CatalogSchemaStore(glue, DB, "orders", "s3://c/curated/orders/").read()
