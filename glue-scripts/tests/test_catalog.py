"""Glue Data Catalog registration against moto's in-process Glue."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ndjson_to_parquet import register_partition, run

DB = "ingest_pipeline"


@pytest.fixture
def glue(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("glue", region_name="us-east-1")
        client.create_database(DatabaseInput={"Name": DB})
        yield client


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


def test_new_columns_are_appended_and_the_partition_is_updated():
    with mock_aws():
        glue = boto3.client("glue", region_name="us-east-1")
        glue.create_database(DatabaseInput={"Name": DB})
        first = [{"Name": "id", "Type": "bigint"}, {"Name": "note", "Type": "string"}]
        later = [{"Name": "id", "Type": "string"}, {"Name": "extra", "Type": "double"}]

        register_partition(glue, DB, "orders", first, "s3a://c/curated/orders/", "2026-11-23", "m1",
                           "s3a://c/curated/orders/ingest_date=2026-11-23/manifest_id=m1/")
        register_partition(glue, DB, "orders", later, "s3a://c/curated/orders/", "2026-11-23", "m1",
                           "s3a://c/curated/orders/ingest_date=2026-11-23/manifest_id=m1/")

        assert columns(glue) == [("id", "bigint"), ("note", "string"), ("extra", "double")]
        table = glue.get_table(DatabaseName=DB, Name="orders")["Table"]
        assert table["StorageDescriptor"]["Location"] == "s3://c/curated/orders/"
        partitions = glue.get_partitions(DatabaseName=DB, TableName="orders")["Partitions"]
        assert len(partitions) == 1
        assert [c["Name"] for c in partitions[0]["StorageDescriptor"]["Columns"]] == ["id", "extra"]
        assert partitions[0]["StorageDescriptor"]["Location"].startswith("s3://c/curated/orders/ingest_date=")


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
def test_concurrent_runs_adding_different_columns_keep_both(monkeypatch, table_exists):
    import sys
    import threading
    from pathlib import Path

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
        if table_exists:
            register_partition(glue, DB, "orders", [{"Name": "id", "Type": "bigint"}], location, "2026-11-23", "m0",
                               location + "ingest_date=2026-11-23/manifest_id=m0/")
        barrier = threading.Barrier(2)
        errors = []

        def one_run(manifest_id, column):
            try:
                register_partition(_Interleaved(glue, barrier), DB, "orders",
                                   [{"Name": "id", "Type": "bigint"}, {"Name": column, "Type": "string"}], location,
                                   "2026-11-23", manifest_id, f"{location}ingest_date=2026-11-23/manifest_id={manifest_id}/",
                                   backoff_seconds=0.01)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        runs = [threading.Thread(target=one_run, args=("m1", "from_one")),
                threading.Thread(target=one_run, args=("m2", "from_two"))]
        for thread in runs:
            thread.start()
        for thread in runs:
            thread.join()

        assert errors == []
        assert sorted(name for name, _ in columns(glue)) == ["from_one", "from_two", "id"]
        partitions = glue.get_partitions(DatabaseName=DB, TableName="orders")["Partitions"]
        assert {p["Values"][1] for p in partitions} >= {"m1", "m2"}
