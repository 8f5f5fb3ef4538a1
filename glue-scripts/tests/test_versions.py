"""Pinned object versions and file-level failures against moto's S3 (a versioned ingest bucket), read by Spark's
S3A connector as in the local mode."""
from __future__ import annotations

import gzip
import json
import uuid

import pytest

from ndjson_conversion.errors import JobError, NoReadableFileError, failure_line
from ndjson_conversion.run import run

pytestmark = pytest.mark.s3


class Recording:
    """The job's S3 client, with its server-side copies recorded."""

    def __init__(self, client):
        self._client = client
        self.copies: list[dict] = []

    def copy(self, **kwargs):
        self.copies.append(kwargs)
        return self._client.copy(**kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


@pytest.fixture
def buckets(s3):
    suffix = uuid.uuid4().hex[:8]
    ingest, curated = f"ingest-{suffix}", f"curated-{suffix}"
    s3.create_bucket(Bucket=ingest)
    s3.put_bucket_versioning(Bucket=ingest, VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(Bucket=curated)
    return ingest, curated


def put(s3, bucket, key, body: bytes) -> dict:
    """Uploads and returns the manifest entry that pins this version, as the manifest builder writes it."""
    out = s3.put_object(Bucket=bucket, Key=key, Body=body)
    return {"uri": f"s3://{bucket}/{key}", "bucket": bucket, "key": key, "size": len(body),
            "versionId": out["VersionId"], "eTag": out["ETag"].strip('"')}


def params_for(batch, entries, curated):
    params = batch.params(staging_path=f"s3://{curated}/staging/")
    manifest = batch.root / "manifests" / f"{batch.manifest_id}.json"
    manifest.write_text(json.dumps({"manifestId": batch.manifest_id, "files": entries}))
    return params


def test_a_key_overwritten_after_pinning_converts_the_pinned_version(spark, batch, s3, buckets):
    ingest, curated = buckets
    first = put(s3, ingest, "incoming/orders/a.ndjson", b'{"id":1}\n{"id":2}\nbad\n')
    put(s3, ingest, "incoming/orders/a.ndjson", b'{"id":99}\n')  # overwritten after the seal
    zipped = put(s3, ingest, "incoming/orders/b.ndjson.gz", gzip.compress(b'{"id":3}\n'))
    put(s3, ingest, "incoming/orders/b.ndjson.gz", gzip.compress(b'{"id":98}\n'))
    current = put(s3, ingest, "incoming/orders/c.ndjson", b'{"id":4}\n')  # still the current version
    unpinned = put(s3, ingest, "incoming/orders/d.ndjson", b'{"id":5}\n')
    del unpinned["versionId"]
    deleted = put(s3, ingest, "incoming/orders/e.ndjson", b'{"id":6}\n')
    s3.delete_object(Bucket=ingest, Key=deleted["key"])  # a delete marker hides the key, not the pinned version
    client = Recording(s3)

    result = run(spark, params_for(batch, [first, zipped, current, unpinned, deleted], curated),
                 s3_client_factory=lambda: client)

    rows = {r["id"]: r for r in spark.read.parquet(str(batch.partition_dir)).collect()}
    assert sorted(rows) == [1, 2, 3, 4, 5, 6]
    assert {(i, rows[i]["_source_file"], rows[i]["_source_version"]) for i in rows} == {
        (1, first["uri"], first["versionId"]), (2, first["uri"], first["versionId"]),
        (3, zipped["uri"], zipped["versionId"]), (4, current["uri"], current["versionId"]),
        (5, unpinned["uri"], None), (6, deleted["uri"], deleted["versionId"])}
    assert batch.quarantined() == [
        {"source_file": first["uri"], "source_version": first["versionId"], "line_number": 3,
         "reason": "invalid_json", "line": "bad"}]
    assert (result["filesRead"], result["filesFailed"], result["failedFiles"]) == (5, 0, [])
    # Only the overwritten keys were copied, each to its place under the manifest's staging prefix; none is left.
    assert sorted((c["CopySource"]["Key"], c["CopySource"]["VersionId"], c["Bucket"], c["Key"])
                  for c in client.copies) == [
        (first["key"], first["versionId"], curated, f"staging/orders/{batch.manifest_id}/0/a.ndjson"),
        (zipped["key"], zipped["versionId"], curated, f"staging/orders/{batch.manifest_id}/1/b.ndjson.gz"),
        (deleted["key"], deleted["versionId"], curated, f"staging/orders/{batch.manifest_id}/4/e.ndjson")]
    assert s3.list_objects_v2(Bucket=curated, Prefix="staging/").get("KeyCount") == 0


def test_a_missing_version_and_a_deleted_key_fail_as_files(spark, batch, s3, buckets):
    ingest, curated = buckets
    kept = put(s3, ingest, "incoming/orders/a.ndjson", b'{"id":1}\n')
    lost = put(s3, ingest, "incoming/orders/b.ndjson", b'{"id":2}\n')
    s3.put_object(Bucket=ingest, Key=lost["key"], Body=b'{"id":97}\n')
    s3.delete_object(Bucket=ingest, Key=lost["key"], VersionId=lost["versionId"])  # the pinned version is gone
    gone = put(s3, ingest, "incoming/orders/c.ndjson", b'{"id":3}\n')
    del gone["versionId"]
    s3.delete_object(Bucket=ingest, Key=gone["key"])  # a delete marker: no current object

    result = run(spark, params_for(batch, [kept, lost, gone], curated), s3_client_factory=lambda: s3)

    assert sorted(r["id"] for r in spark.read.parquet(str(batch.partition_dir)).collect()) == [1]
    assert [(f["uri"], f["key"], f["versionId"], f["reason"]) for f in result["failedFiles"]] == [
        (lost["uri"], lost["key"], lost["versionId"], "missing"), (gone["uri"], gone["key"], None, "missing")]
    assert (result["filesRead"], result["filesFailed"], result["linesIn"], result["rowsOut"]) == (1, 2, 1, 1)
    assert s3.list_objects_v2(Bucket=curated, Prefix="staging/").get("KeyCount") == 0


def test_no_readable_file_fails_not_retryable_and_leaves_no_staged_copy(spark, batch, s3, buckets):
    ingest, curated = buckets
    entry = put(s3, ingest, "incoming/orders/a.ndjson", b'{"id":1}\n')
    s3.delete_object(Bucket=ingest, Key=entry["key"], VersionId=entry["versionId"])

    with pytest.raises(NoReadableFileError) as raised:
        run(spark, params_for(batch, [entry], curated), s3_client_factory=lambda: s3)

    assert failure_line(raised.value).startswith("ndjson_to_parquet failed: [NotRetryable] manifest ")
    assert not batch.partition_dir.exists()
    assert s3.list_objects_v2(Bucket=curated, Prefix="staging/").get("KeyCount") == 0


def test_two_versions_of_one_key_in_one_manifest_are_two_objects(spark, batch, s3, buckets):
    ingest, curated = buckets
    older = put(s3, ingest, "incoming/orders/a.ndjson", b'{"id":1}\nbad old\n')
    newer = put(s3, ingest, "incoming/orders/a.ndjson", b'bad new\n{"id":2}\n')

    result = run(spark, params_for(batch, [older, newer], curated), s3_client_factory=lambda: s3)

    rows = spark.read.parquet(str(batch.partition_dir)).collect()
    assert sorted((r["id"], r["_source_version"]) for r in rows) == [(1, older["versionId"]), (2, newer["versionId"])]
    assert [(q["source_version"], q["line_number"], q["line"]) for q in batch.quarantined()] == sorted(
        [(older["versionId"], 2, "bad old"), (newer["versionId"], 1, "bad new")], key=lambda q: (q[1], q[2]))
    assert (result["filesRead"], result["linesIn"]) == (2, 4)


def test_a_deleted_version_whose_bytes_were_uploaded_again_is_read_from_that_version(spark, batch, s3, buckets):
    ingest, curated = buckets
    body = b'{"id":1}\n{"id":2}\n'
    pinned = put(s3, ingest, "incoming/orders/a.ndjson", body)
    s3.delete_object(Bucket=ingest, Key=pinned["key"], VersionId=pinned["versionId"])
    again = put(s3, ingest, "incoming/orders/a.ndjson", body)  # the same content: the same eTag
    s3.put_object(Bucket=ingest, Key=pinned["key"], Body=b'{"id":3}\n')  # and newer, other content on top

    result = run(spark, params_for(batch, [pinned], curated), s3_client_factory=lambda: s3)

    rows = spark.read.parquet(str(batch.partition_dir)).collect()
    assert sorted((r["id"], r["_source_version"]) for r in rows) == [(1, again["versionId"]), (2, again["versionId"])]
    assert (result["filesRead"], result["filesFailed"]) == (1, 0)


class OverwrittenDuringRead(Recording):
    """S3 as it looks when the pinned version is current at the check and overwritten right after it."""

    def __init__(self, client, pinned_version):
        super().__init__(client)
        self.pinned_version = pinned_version
        self.heads = 0

    def head_object(self, **kwargs):
        self.heads += 1
        head = self._client.head_object(**kwargs)
        return {**head, "VersionId": self.pinned_version} if self.heads == 1 else head


def test_a_key_overwritten_between_the_check_and_the_read_fails_the_run_for_another_try(spark, batch, s3, buckets):
    ingest, curated = buckets
    pinned = put(s3, ingest, "incoming/orders/a.ndjson", b'{"id":1}\n')
    put(s3, ingest, "incoming/orders/a.ndjson", b'{"id":2}\n')

    with pytest.raises(JobError) as raised:
        run(spark, params_for(batch, [pinned], curated),
            s3_client_factory=lambda: OverwrittenDuringRead(s3, pinned["versionId"]))

    assert not isinstance(raised.value, NoReadableFileError)
    assert "overwritten while being read" in failure_line(raised.value)
    assert "[NotRetryable]" not in failure_line(raised.value)


def test_a_key_whose_normalised_path_names_another_object_is_refused_as_a_file(spark, batch, s3, buckets):
    ingest, curated = buckets
    kept = put(s3, ingest, "incoming/orders/a.ndjson", b'{"id":1}\n')
    elsewhere = put(s3, ingest, "incoming/payments/x.ndjson", b'{"id":2}\n')
    traversal = {**elsewhere, "uri": f"s3://{ingest}/incoming/orders/../payments/x.ndjson",
                 "key": "incoming/orders/../payments/x.ndjson"}

    result = run(spark, params_for(batch, [kept, traversal], curated), s3_client_factory=lambda: s3)

    assert sorted(r["id"] for r in spark.read.parquet(str(batch.partition_dir)).collect()) == [1]
    assert [(f["key"], f["reason"]) for f in result["failedFiles"]] == [(traversal["key"], "unsafe_key")]
