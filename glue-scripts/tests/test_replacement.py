"""A replay replaces a manifest's output in one step (I4): each run writes into its own directory, and the catalog
partition (or, without a catalog, the result file) is switched to it only after every check; a failed run leaves the
previous output named and readable. Against local Spark, moto's Glue, and moto's S3 with versions."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest

from conftest import CATALOG_DB
from ndjson_conversion import run as run_module
from ndjson_conversion.errors import (
    AccountingError,
    ExecutionEndedError,
    JobError,
    RowsWouldBeDroppedError,
    failure_line,
    failure_message,
)
from ndjson_conversion.outcome import failure_outcome
from ndjson_conversion.replacement import GRACE_SECONDS, SUPERSEDED_DIR, remove_superseded
from ndjson_conversion.run import run


def rows(spark, directory: Path | str) -> list[int]:
    return sorted(r["id"] for r in spark.read.parquet(str(directory)).collect())


def run_dirs(batch) -> list[Path]:
    """The run directories under the manifest's directory, as a reader listing the paths finds them."""
    return sorted(batch.manifest_dir.glob("run=*"))


def partition_location(glue, batch) -> str:
    return glue.get_partition(DatabaseName=CATALOG_DB, TableName=batch.dataset,
                              PartitionValues=["2026-11-23", batch.manifest_id])["Partition"]["StorageDescriptor"][
        "Location"]


def test_a_replay_that_fails_after_writing_leaves_the_previous_output_named_and_whole(spark, batch, glue,
                                                                                      monkeypatch):
    source = batch.add("a.ndjson", '{"id":1}\n{"id":2}\n')
    params = batch.params(catalog_database=CATALOG_DB)
    run(spark, params, glue_client_factory=lambda: glue)
    first = partition_location(glue, batch)
    assert rows(spark, first.removeprefix("file://")) == [1, 2]

    Path(source.removeprefix("file://")).write_text('{"id":7}\n{"id":8}\n{"id":9}\n')

    def fail(*_args, **_kwargs):
        raise AccountingError("forced after the run wrote its rows")

    monkeypatch.setattr(run_module, "check_accounting", fail)
    with pytest.raises(AccountingError):
        run(spark, params, glue_client_factory=lambda: glue)

    assert partition_location(glue, batch) == first  # the table still names the previous output
    assert rows(spark, first.removeprefix("file://")) == [1, 2]  # which is whole
    assert batch.result_file()["outputLocation"].rstrip("/") == first.rstrip("/")
    # The failed run's own directories, which nothing named, are gone: a reader listing the paths sees one run.
    assert run_dirs(batch) == [Path(first.removeprefix("file://"))]
    quarantine_runs = (batch.root / "quarantine" / "orders" / f"manifest_id={batch.manifest_id}").glob("run=*")
    assert {p.name for p in quarantine_runs} <= {Path(first.removeprefix("file://")).name}


def test_a_replay_switches_the_partition_and_removes_the_old_output_only_after_the_grace_period(spark, batch, glue):
    source = batch.add("a.ndjson", '{"id":1}\n')
    params = batch.params(catalog_database=CATALOG_DB)
    run(spark, params, glue_client_factory=lambda: glue)
    first = partition_location(glue, batch)
    Path(source.removeprefix("file://")).write_text('{"id":2}\nbad\n')

    stages: dict[str, float] = {}
    result = run(spark, params, glue_client_factory=lambda: glue, stages=stages)

    second = partition_location(glue, batch)
    assert second != first and second.rstrip("/") == result["outputLocation"].rstrip("/")
    # The switch's own time (result file, UpdatePartition, marker), the figure docs/architecture.md quotes.
    assert 0 <= stages["switch"] < 5, stages
    assert "/run=" in second and rows(spark, second.removeprefix("file://")) == [2]
    partition = glue.get_partition(DatabaseName=CATALOG_DB, TableName=batch.dataset,
                                   PartitionValues=["2026-11-23", batch.manifest_id])["Partition"]
    assert partition["Parameters"]["pipeline.quarantineLocation"].rstrip("/") == result["quarantineLocation"].rstrip(
        "/")
    assert len(batch.quarantined()) == 1
    markers = list((batch.root / "curated" / "orders" / SUPERSEDED_DIR).glob("*.json"))
    assert len(markers) == 1
    superseded_at = dt.datetime.fromisoformat(json.loads(markers[0].read_text())["supersededAt"])
    curated, quarantine = params.curated_path, params.quarantine_path

    soon = superseded_at + dt.timedelta(seconds=GRACE_SECONDS - 60)
    assert remove_superseded(spark, curated, quarantine, "orders", soon) == []
    assert rows(spark, first.removeprefix("file://")) == [1]  # a query that began before the switch still reads it

    later = superseded_at + dt.timedelta(seconds=GRACE_SECONDS)
    assert [p.rstrip("/") for p in remove_superseded(spark, curated, quarantine, "orders", later)][0] == \
        first.rstrip("/")
    assert not Path(first.removeprefix("file://")).exists()
    assert rows(spark, second.removeprefix("file://")) == [2] and not markers[0].exists()


def test_an_output_from_before_run_directories_is_replaced_and_its_files_alone_removed(spark, batch, glue):
    batch.add("a.ndjson", '{"id":1}\n')
    params = batch.params(catalog_database=CATALOG_DB)
    run(spark, params, glue_client_factory=lambda: glue)
    legacy = batch.manifest_dir  # the layout of earlier releases: Parquet straight in the manifest's directory
    for part in batch.partition_dir.glob("*.parquet"):
        part.rename(legacy / part.name)
    glue.update_partition(DatabaseName=CATALOG_DB, TableName="orders", PartitionValueList=["2026-11-23",
                          batch.manifest_id], PartitionInput={
        **{k: v for k, v in glue.get_partition(DatabaseName=CATALOG_DB, TableName="orders", PartitionValues=[
            "2026-11-23", batch.manifest_id])["Partition"].items() if k in ("Values", "StorageDescriptor")},
    } | {"StorageDescriptor": {**glue.get_partition(DatabaseName=CATALOG_DB, TableName="orders", PartitionValues=[
        "2026-11-23", batch.manifest_id])["Partition"]["StorageDescriptor"], "Location": f"file://{legacy}/"}})

    run(spark, params, glue_client_factory=lambda: glue)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=GRACE_SECONDS + 60)
    remove_superseded(spark, params.curated_path, params.quarantine_path, "orders", later)

    assert not list(legacy.glob("*.parquet"))  # the old files went
    assert rows(spark, batch.partition_dir) == [1]  # the new run, under the same directory, stayed


@pytest.fixture
def buckets(s3):
    suffix = uuid.uuid4().hex[:8]
    ingest, curated = f"ingest-{suffix}", f"curated-{suffix}"
    s3.create_bucket(Bucket=ingest)
    s3.put_bucket_versioning(Bucket=ingest, VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(Bucket=curated)
    s3.put_bucket_versioning(Bucket=curated, VersioningConfiguration={"Status": "Enabled"})
    return ingest, curated


@pytest.mark.s3
def test_a_replay_that_cannot_read_a_file_the_output_holds_keeps_it_unless_told(spark, batch, s3, buckets):
    ingest, curated = buckets
    entries = []
    for name, body in (("a.ndjson", b'{"id":1}\n'), ("b.ndjson", b'{"id":2}\n{"id":3}\n')):
        out = s3.put_object(Bucket=ingest, Key=f"incoming/orders/{name}", Body=body)
        entries.append({"uri": f"s3://{ingest}/incoming/orders/{name}", "bucket": ingest,
                        "key": f"incoming/orders/{name}", "size": len(body), "versionId": out["VersionId"],
                        "eTag": out["ETag"].strip('"')})
    manifest = f"s3://{curated}/manifests/orders/{batch.manifest_id}.json"
    s3.put_object(Bucket=curated, Key=f"manifests/orders/{batch.manifest_id}.json",
                  Body=json.dumps({"manifestId": batch.manifest_id, "files": entries}).encode())
    params = batch.params(manifest_uri=manifest, curated_path=f"s3://{curated}/curated/",
                          quarantine_path=f"s3://{curated}/quarantine/", staging_path=f"s3://{curated}/staging/",
                          result_uri=f"s3://{curated}/manifests/orders/{batch.manifest_id}.result.json")

    def result():
        return json.loads(s3.get_object(Bucket=curated, Key=f"manifests/orders/{batch.manifest_id}.result.json")
                          ["Body"].read())

    run(spark, params)
    first = result()
    assert rows(spark, first["outputLocation"]) == [1, 2, 3]

    # The producer deletes the pinned version of b: a replay can no longer read it.
    s3.delete_object(Bucket=ingest, Key=entries[1]["key"], VersionId=entries[1]["versionId"])
    with pytest.raises(RowsWouldBeDroppedError) as refused:
        run(spark, params)
    line = failure_line(refused.value)
    assert "[NotRetryable] rows_would_be_dropped" in line and entries[1]["uri"] in line
    # What the state machine decides on: the reason, not retryable, the file named.
    outcome = failure_outcome(batch.manifest_id, "jr_1", refused.value, failure_message(refused.value))
    assert (outcome["status"], outcome["reason"], outcome["retryable"]) == ("FAILED", "rows_would_be_dropped", False)
    assert [f["key"] for f in outcome["failedFiles"]] == [entries[1]["key"]]
    assert "--allow-missing-files" in outcome["message"]
    assert result() == first  # the result file still names the previous output
    assert rows(spark, first["outputLocation"]) == [1, 2, 3]

    dropped = run(spark, params.__class__(**{**params.__dict__, "allow_missing_files": True}))
    assert dropped["filesFailed"] == 1 and dropped["outputLocation"] != first["outputLocation"]
    assert rows(spark, dropped["outputLocation"]) == [1]
    assert rows(spark, first["outputLocation"]) == [1, 2, 3]  # superseded, kept through the grace period


def test_an_orphaned_run_of_an_aborted_execution_switches_nothing(spark, batch, glue):
    """The execution that started a replay is aborted while its Glue run goes on (Step Functions' stop of the job is
    not counted on): the run converts, then finds its execution ended and leaves the previous output named."""
    import boto3

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.create_state_machine(
        name="convert-manifest", roleArn="arn:aws:iam::123456789012:role/states",
        definition=json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}}))
    source = batch.add("a.ndjson", '{"id":1}\n{"id":2}\n')
    first_execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=batch.manifest_id)
    params = batch.params(catalog_database=CATALOG_DB, execution_arn=first_execution["executionArn"])
    run(spark, params, glue_client_factory=lambda: glue, sfn_client_factory=lambda: sfn)
    first = partition_location(glue, batch)  # a run of a running execution switches
    assert rows(spark, first.removeprefix("file://")) == [1, 2]

    Path(source.removeprefix("file://")).write_text('{"id":7}\n')
    replay = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=f"{batch.manifest_id}-r1")
    sfn.stop_execution(executionArn=replay["executionArn"], error="Operator", cause="stopped")
    orphan = batch.params(catalog_database=CATALOG_DB, execution_arn=replay["executionArn"])
    with pytest.raises(ExecutionEndedError) as refused:
        run(spark, orphan, glue_client_factory=lambda: glue, sfn_client_factory=lambda: sfn)

    assert "ABORTED" in str(refused.value) and refused.value.reason == "execution_ended"
    assert partition_location(glue, batch) == first  # the table still names the previous output, whole
    assert rows(spark, first.removeprefix("file://")) == [1, 2]
    assert batch.result_file()["outputLocation"].rstrip("/") == first.rstrip("/")
    assert not list((batch.root / "curated" / "orders" / SUPERSEDED_DIR).glob("*.json"))  # nothing superseded
    assert run_dirs(batch) == [Path(first.removeprefix("file://").rstrip("/"))]  # the orphan's output is gone


def test_a_run_that_cannot_ask_about_its_execution_switches_nothing(spark, batch, glue):
    batch.add("a.ndjson", '{"id":1}\n')
    run(spark, batch.params(catalog_database=CATALOG_DB), glue_client_factory=lambda: glue)
    first = partition_location(glue, batch)
    unknown = "arn:aws:states:us-east-1:123456789012:execution:convert-manifest:nowhere"
    import boto3

    with pytest.raises(JobError) as refused:
        run(spark, batch.params(catalog_database=CATALOG_DB, execution_arn=unknown), glue_client_factory=lambda: glue,
            sfn_client_factory=lambda: boto3.client("stepfunctions", region_name="us-east-1"))

    assert refused.value.retryable and "ExecutionDoesNotExist" in str(refused.value)
    assert partition_location(glue, batch) == first
