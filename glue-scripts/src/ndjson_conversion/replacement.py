"""How a run replaces a manifest's output (I4): every run writes into a directory of its own, which no reader looks
at until the run has succeeded; then one write names it (the catalog partition's location, or, without a catalog,
the result file), so a reader sees the previous rows or the new ones, never neither nor both. A run that fails
leaves the previous output named and untouched. Superseded directories are removed by a later run of the dataset
once GRACE_SECONDS have passed since they were superseded, so queries that started on them finish first.
docs/architecture.md, "Replacing a manifest's output".
"""
from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from . import jvm
from .errors import ExecutionEndedError, JobError, RowsWouldBeDroppedError
from .failures import aws_error_code
from .manifest import FailedFile
from .output import join_path

RUN_PREFIX = "run="
# Markers of superseded output, one per switch, under the dataset's curated prefix; readers skip names with `_`.
SUPERSEDED_DIR = "_superseded"
# How long a superseded output stays after the switch: far beyond the longest query that may still read it (Athena's
# DML query timeout is 30 minutes by default and at most 240 on request, "Service Quotas - Amazon Athena").
GRACE_SECONDS = 24 * 3600
# The partition's parameters: the run whose output it names, and that run's quarantine.
RUN_PARAMETER = "pipeline.runId"
QUARANTINE_PARAMETER = "pipeline.quarantineLocation"
# The reason of a run that would drop rows of files the previous output holds (an outcome reason); the failure
# message begins with it.
ROWS_WOULD_BE_DROPPED = RowsWouldBeDroppedError.reason


def new_run_id(now: dt.datetime) -> str:
    """A run's id: its start (UTC, so ids sort by time) and 8 random hex digits."""
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)


def _norm(uri: str) -> str:
    for prefix in ("s3a://", "s3n://"):
        if uri.startswith(prefix):
            uri = "s3://" + uri[len(prefix):]
    return uri.rstrip("/")


def same_location(a: str, b: str) -> bool:
    """Two URIs of one directory (s3a:// and s3:// name the same objects; a trailing slash aside)."""
    return _norm(a) == _norm(b)


@dataclass(frozen=True)
class OutputLocations:
    """Where one run writes: its Parquet and quarantine directories, under the manifest's own directories."""

    manifest_dir: str  # curated/<dataset>/ingest_date=<d>/manifest_id=<id>/
    quarantine_manifest_dir: str  # quarantine/<dataset>/manifest_id=<id>/
    run_id: str

    @property
    def output(self) -> str:
        return join_path(self.manifest_dir, RUN_PREFIX + self.run_id)

    @property
    def quarantine(self) -> str:
        return join_path(self.quarantine_manifest_dir, RUN_PREFIX + self.run_id)


@dataclass(frozen=True)
class PreviousOutput:
    """The output a run would replace: what the catalog (or, without one, the last result file) names."""

    output: str
    quarantine: str


def previous_output(spark: SparkSession, glue: Any, database: str, dataset: str, ingest_date: str,
                    manifest_id: str, result_uri: str, locations: OutputLocations) -> PreviousOutput | None:
    """The output readers see now, which this run would replace; None for a manifest never converted. An output
    written before runs had their own directories is the manifest's directory itself (its files, not its
    subdirectories)."""
    if glue is not None:
        try:
            partition = glue.get_partition(DatabaseName=database, TableName=dataset,
                                           PartitionValues=[ingest_date, manifest_id])["Partition"]
        except Exception as error:
            if aws_error_code(error) == "EntityNotFoundException":
                return None
            raise
        parameters = partition.get("Parameters") or {}
        return PreviousOutput(partition["StorageDescriptor"]["Location"],
                              parameters.get(QUARANTINE_PARAMETER) or locations.quarantine_manifest_dir)
    if not jvm.path_exists(spark, result_uri):
        return None
    try:
        result = json.loads(jvm.read_small_file(spark, result_uri))
    except ValueError:
        result = {}
    return PreviousOutput(result.get("outputLocation") or locations.manifest_dir,
                          result.get("quarantineLocation") or locations.quarantine_manifest_dir)


def _is_run_dir(location: str) -> bool:
    return location.rstrip("/").rpartition("/")[2].startswith(RUN_PREFIX)


def _parquet_files(spark: SparkSession, location: str) -> list[str]:
    """The data files directly in an output directory (a run's, or the manifest's own from before run directories),
    never those of its subdirectories."""
    base = location.rstrip("/") + "/"
    return [base + name for name, is_dir in jvm.list_children(spark, location)
            if not is_dir and not name.startswith(("_", "."))]


def check_no_rows_dropped(spark: SparkSession, manifest_id: str, previous: PreviousOutput | None,
                          failed: Sequence[FailedFile], allow_missing_files: bool) -> None:
    """Refuses (not retryable) a run that could not read a file whose rows the output it would replace holds (its
    producer deleted that version, say): the previous output stays, and the failure names the files. An operator
    who accepts the loss replays with `--allow-missing-files`."""
    if previous is None or not failed or allow_missing_files:
        return
    files = _parquet_files(spark, previous.output)
    if not files:
        return
    held = {row[0] for row in spark.read.parquet(*files).select("_source_file").distinct().collect()}
    dropped = [f for f in failed if f.file.uri in held]
    if dropped:
        shown = ", ".join(f"{f.file.uri} ({f.reason})" for f in dropped[:3])
        more = f" and {len(dropped) - 3} more" if len(dropped) > 3 else ""
        raise RowsWouldBeDroppedError(
            f"{ROWS_WOULD_BE_DROPPED}: manifest {manifest_id}: the output in place holds rows of files this run could "
            f"not read: {shown}{more}; it is kept. To replace it without their rows: "
            f"npx pipeline replay {manifest_id} --allow-missing-files", dropped)


def discard_run_output(spark: SparkSession, locations: OutputLocations) -> None:
    """Deletes the directories of a run that failed before anything named them (no reader looks there). A run that
    dies without reaching this (killed for memory, its timeout) leaves them: unnamed, read by no reader through the
    catalog or the record; housekeeping only, so a failure to delete is logged and does not change the run's error."""
    for location in (locations.output, locations.quarantine):
        try:
            jvm.delete_path(spark, location)
        except Exception as error:  # noqa: BLE001 - the run's own error is what matters
            _log(f"could not remove the failed run's {location}: {jvm.java_message(error)}")


def sfn_client() -> Any:
    """A boto3 Step Functions client in the job's region (it honours AWS_ENDPOINT_URL in the local mode)."""
    import boto3  # imported here: the conversion itself does not need it

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return boto3.client("stepfunctions", region_name=region)


def check_execution_running(sfn_client_factory: Callable[[], Any], manifest_id: str, execution_arn: str) -> None:
    """Refuses (not retryable) the switch of a run whose execution has ended: an orphan (its execution aborted or
    timed out while the run went on; Step Functions' stop of a `.sync` task's job is not something to count on), whose
    outcome the sweeper records as that execution's failure, with the previous output, status and counts in place. A
    run with no execution named (by hand, the tests, the benchmark) is not checked. DescribeExecution's `status` is
    RUNNING until the execution ends ("DescribeExecution", AWS Step Functions API Reference: RUNNING, SUCCEEDED,
    FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE). An execution that cannot be asked about fails the run for this
    attempt: the output is never switched in on a guess."""
    if not execution_arn:
        return
    try:
        status = sfn_client_factory().describe_execution(executionArn=execution_arn)["status"]
    except Exception as error:  # noqa: BLE001 - any failure to ask keeps the output in place
        raise JobError(f"manifest {manifest_id}: cannot tell whether its execution still runs "
                       f"({aws_error_code(error) or type(error).__name__}); the output in place is kept") from None
    if status != "RUNNING":
        raise ExecutionEndedError(
            f"execution_ended: manifest {manifest_id}: the execution that started this run is {status}; its output is "
            "not switched in, the output in place is kept")


def mark_superseded(spark: SparkSession, curated_path: str, dataset: str, manifest_id: str,
                    previous: PreviousOutput | None, locations: OutputLocations, now: dt.datetime) -> None:
    """Records that the previous output was superseded now, for `remove_superseded`; a marker that cannot be written
    leaves that output in place (never removed too early), so it does not fail the run."""
    if previous is None or same_location(previous.output, locations.output):
        return
    marker = join_path(curated_path, dataset, SUPERSEDED_DIR) + f"{manifest_id}.{locations.run_id}.json"
    body = {"supersededAt": now.isoformat(), "manifestId": manifest_id, "output": previous.output,
            "quarantine": previous.quarantine, "by": locations.run_id}
    try:
        jvm.write_small_file(spark, marker, json.dumps(body))
    except Exception as error:  # noqa: BLE001 - the output stays; removing it is housekeeping
        _log(f"could not record {previous.output} as superseded: {jvm.java_message(error)}")


def _owned(location: str, roots: Sequence[str]) -> bool:
    """Whether a location lies strictly under one of the dataset's own prefixes (a marker never makes the job
    delete anything else)."""
    return any(_norm(location).startswith(_norm(r) + "/") for r in roots)


def _remove(spark: SparkSession, location: str) -> None:
    if _is_run_dir(location):
        jvm.delete_path(spark, location)
    else:  # the manifest's own directory, from before run directories: its files only, never the runs under it
        jvm.delete_files_in(spark, location)


def remove_superseded(spark: SparkSession, curated_path: str, quarantine_path: str, dataset: str,
                      now: dt.datetime, grace_seconds: int = GRACE_SECONDS) -> list[str]:
    """Removes the dataset's outputs superseded at least `grace_seconds` ago, then their markers; returns the
    locations removed. Housekeeping: a failure is logged and left for the next run."""
    directory = join_path(curated_path, dataset, SUPERSEDED_DIR)
    roots = [join_path(curated_path, dataset), join_path(quarantine_path, dataset)]
    removed: list[str] = []
    try:
        names = [name for name, is_dir in jvm.list_children(spark, directory) if not is_dir and name.endswith(".json")]
        for name in names:
            marker = directory + name
            body = json.loads(jvm.read_small_file(spark, marker))
            superseded_at = dt.datetime.fromisoformat(body["supersededAt"])
            if (now - superseded_at).total_seconds() < grace_seconds:
                continue
            for location in (body.get("output"), body.get("quarantine")):
                if isinstance(location, str) and _owned(location, roots):
                    _remove(spark, location)
                    removed.append(location)
            jvm.delete_path(spark, marker)
    except Exception as error:  # noqa: BLE001 - housekeeping never fails a conversion
        _log(f"superseded output not removed this run: {jvm.java_message(error)}")
    return removed


def _log(message: str) -> None:
    print(f"ndjson_to_parquet: {message}", file=sys.stderr, flush=True)
