"""UpdateTable with a VersionId: a stale one is refused with ConcurrentModificationException, as Glue does."""

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

import glue_catalog


@pytest.fixture
def glue(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    glue_catalog.install()
    glue_catalog.install()  # twice: no double wrapping
    with mock_aws():
        client = boto3.client("glue", region_name="us-east-1")
        client.create_database(DatabaseInput={"Name": "db"})
        client.create_table(DatabaseName="db", TableInput={"Name": "t", "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "bigint"}]}})
        yield client


def _with(columns):
    return {"Name": "t", "StorageDescriptor": {"Columns": [{"Name": c, "Type": "string"} for c in columns]}}


def test_an_update_at_the_current_version_is_written_and_a_stale_one_refused(glue):
    read = glue.get_table(DatabaseName="db", Name="t")["Table"]["VersionId"]

    glue.update_table(DatabaseName="db", TableInput=_with(["id", "a"]), VersionId=read)
    with pytest.raises(ClientError) as refused:
        glue.update_table(DatabaseName="db", TableInput=_with(["id", "b"]), VersionId=read)

    assert refused.value.response["Error"]["Code"] == "ConcurrentModificationException"
    assert isinstance(refused.value, glue.exceptions.ConcurrentModificationException)
    table = glue.get_table(DatabaseName="db", Name="t")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["id", "a"]
    assert table["VersionId"] != read


def test_an_update_without_a_version_is_written_as_before(glue):
    glue.update_table(DatabaseName="db", TableInput=_with(["id", "a"]))
    glue.update_table(DatabaseName="db", TableInput=_with(["id", "b"]))

    columns = glue.get_table(DatabaseName="db", Name="t")["Table"]["StorageDescriptor"]["Columns"]
    assert [c["Name"] for c in columns] == ["id", "b"]
