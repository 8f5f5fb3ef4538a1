"""The outcome document (docs/architecture.md, "Outcome document") and the reading of read errors: what the state
machine decides on is structured and small, and no producer's text decides anything. No Spark."""
from __future__ import annotations

import json
from pathlib import Path

from ndjson_conversion.errors import (
    AccountingError,
    EngineIncompatibleError,
    JobError,
    ManifestError,
    NoReadableFileError,
    NotRetryableError,
    RowsWouldBeDroppedError,
)
from ndjson_conversion.failures import MISSING, UNREADABLE, hadoop_failure_reason
from ndjson_conversion.manifest import FailedFile, ManifestFile
from ndjson_conversion.outcome import (
    FAILED_FILES_SHOWN,
    OUTCOME_REASONS,
    failure_outcome,
    job_run_id,
    outcome_uri,
    success_outcome,
)

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "glue-job.json"


def long_key(i: int) -> str:
    """A 1,024-byte key, S3's longest."""
    head, tail = f"incoming/orders/{i:04d}-", ".ndjson"
    return head + "k" * (1024 - len(head) - len(tail)) + tail


def test_the_reasons_are_the_contracts():
    assert list(OUTCOME_REASONS) == json.loads(CONTRACT.read_text())["outcomeReasons"]


def test_the_outcome_sits_beside_the_result_file_and_names_the_run():
    assert outcome_uri("s3://c/manifests/orders/orders-20261123-000001.result.json") == (
        "s3://c/manifests/orders/orders-20261123-000001.outcome.json")
    assert job_run_id(["x", "--JOB_NAME", "convert", "--JOB_RUN_ID", "jr_1", "--manifest_id", "m"]) == "jr_1"
    assert job_run_id(["x", "--manifest_id", "m"]) == ""


def test_each_failure_names_its_reason_and_whether_another_run_may_succeed():
    cases = [(JobError("x"), "transient_error", True), (RuntimeError("x"), "internal_error", True),
             (NotRetryableError("x"), "invalid_configuration", False),
             (EngineIncompatibleError("x"), "engine_incompatible", False),
             (ManifestError("x"), "manifest_invalid", False), (AccountingError("x"), "lines_unaccounted", False),
             (NoReadableFileError("x"), "no_readable_file", False),
             (RowsWouldBeDroppedError("x"), "rows_would_be_dropped", False)]

    for error, reason, retryable in cases:
        outcome = failure_outcome("m", "jr_1", error, "x")
        assert (outcome["status"], outcome["reason"], outcome["retryable"]) == ("FAILED", reason, retryable), error
        assert outcome["reason"] in OUTCOME_REASONS


def test_200_failed_files_with_1024_byte_keys_give_a_document_of_a_few_kilobytes():
    failed = [FailedFile(ManifestFile(f"s3://ingest/{long_key(i)}", version_id=f"v{i}"), MISSING,
                         f"{long_key(i)}: gone") for i in range(200)]
    error = NoReadableFileError("manifest m: no file could be read: " + " ".join(long_key(i) for i in range(200)),
                                failed)

    outcome = failure_outcome("m", "jr_1", error, str(error))
    size = len(json.dumps(outcome).encode())

    assert outcome["counts"]["filesFailed"] == 200
    assert [f["key"] for f in outcome["failedFiles"]] == [long_key(i) for i in range(FAILED_FILES_SHOWN)]
    assert all(set(f) == {"key", "versionId", "reason"} for f in outcome["failedFiles"])
    assert len(outcome["message"]) <= 1000
    # Step Functions' state limit is 256 KB; the document stays far below it whatever the keys.
    assert size < 8 * 1024, size


def test_a_partial_run_lists_the_first_failed_files_and_all_the_counts():
    failed = [FailedFile(ManifestFile(f"s3://ingest/{long_key(i)}", version_id="v"), MISSING, "gone")
              for i in range(200)]
    result = {"manifestId": "m", "linesIn": 10, "rowsOut": 8, "rowsQuarantined": 1, "blankLines": 1,
              "outputFiles": 1, "outputBytes": 99, "filesRead": 3, "filesFailed": 200,
              "failedFiles": [f.as_result() for f in failed], "runId": "20261123T000000Z-0a1b2c3d",
              "outputLocation": "s3://c/curated/orders/ingest_date=2026-11-23/manifest_id=m/run=20261123T000000Z-0a1b2c3d/",
              "quarantineLocation": "s3://c/quarantine/orders/manifest_id=m/run=20261123T000000Z-0a1b2c3d/"}

    outcome = success_outcome(result, "jr_1", failed)

    assert (outcome["status"], outcome["reason"], outcome["retryable"]) == ("PARTIAL", "files_unreadable", False)
    assert outcome["counts"]["filesFailed"] == 200 and len(outcome["failedFiles"]) == FAILED_FILES_SHOWN
    assert len(json.dumps(outcome).encode()) < 8 * 1024
    # the output the run switched the partition to, which the state machine copies to the record (I4)
    assert {k: outcome[k] for k in ("runId", "outputLocation", "quarantineLocation")} == {
        k: result[k] for k in ("runId", "outputLocation", "quarantineLocation")}


def test_a_key_holding_an_errors_wording_decides_nothing():
    key = "incoming/orders/NoSuchKey Access Denied.ndjson"
    path = f"s3a://ingest/{key}"
    transient = RuntimeError(f"java.io.IOException: connection reset while reading {path}")
    corrupt = RuntimeError(f"java.io.EOFException: Unexpected end of input stream in {path}")

    # Read as the wording of an error, the key would make a transient read "missing" and a corrupt file "missing".
    assert hadoop_failure_reason(transient) == MISSING
    assert hadoop_failure_reason(transient, [path, key]) is None
    assert hadoop_failure_reason(corrupt, [path, key]) == UNREADABLE
    timeout_key = "incoming/orders/timeout.ndjson"
    assert hadoop_failure_reason(RuntimeError(f"java.io.EOFException: cut short: s3a://i/{timeout_key}"),
                                 [timeout_key]) == UNREADABLE
