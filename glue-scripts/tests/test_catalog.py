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
