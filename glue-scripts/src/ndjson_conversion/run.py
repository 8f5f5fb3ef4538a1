"""One run of the job: reads the manifest, settles where the schema comes from, converts the readable files into the
run's own directory, checks the accounting (I5) and that no row of the output in place would be dropped, writes the
result file, switches the catalog partition to the run's directory (I4), then writes the outcome document;
docs/architecture.md, "Glue job", "Replacing a manifest's output", "Result file" and "Outcome document".
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import types as T

from . import jvm
from .accounting import check_accounting, check_every_listed_object, read_back
from .arguments import JobParams, default_staging_path
from .catalog import (
    SCHEMA_FILE,
    CatalogSchemaStore,
    FileSchemaStore,
    SchemaStore,
    catalog_columns,
    glue_client,
    register_partition,
)
from .conversion import RunContext, SchemaPlan, convert_readable_files
from .errors import JobError, ManifestError
from .failures import MISSING, hadoop_failure_reason
from .file_checks import check_files
from .lines import NUMBERED_FILE_MAX_BYTES, check_engine
from .manifest import ManifestFile, parse_manifest
from .outcome import outcome_uri, success_outcome, write_outcome
from .output import join_path
from .pinning import SharedClient, StagingArea, s3_client
from .replacement import (
    QUARANTINE_PARAMETER,
    RUN_PARAMETER,
    OutputLocations,
    check_execution_running,
    check_no_rows_dropped,
    discard_run_output,
    mark_superseded,
    new_run_id,
    previous_output,
    remove_superseded,
    sfn_client,
)
from .schema import EVOLVE, find_dataset_schema, read_pinned

# Session-wide settings of every run. JSON keys are case-sensitive; `a` and `A` would otherwise clash.
SESSION_SETTINGS = {"spark.sql.caseSensitive": "true"}


class StageTimer:
    """Seconds spent per stage of the run, into `stages` (the benchmark's figures; not part of the result)."""

    def __init__(self, stages: dict[str, float], started: float):
        self.stages = stages
        self._last = started

    def __call__(self, name: str) -> None:
        now = time.monotonic()
        self.stages[name] = round(now - self._last, 3)
        self._last = now


def read_manifest(spark: SparkSession, params: JobParams) -> list[ManifestFile]:
    """The manifest's files; a missing manifest fails the run for good, another read error for this attempt."""
    try:
        text = jvm.read_small_file(spark, params.manifest_uri)
    except Exception as error:  # py4j wraps FileNotFoundException, AccessDenied, ...
        message = f"cannot read manifest {params.manifest_uri}: {jvm.java_message(error)}"
        if hadoop_failure_reason(error, [params.manifest_uri]) == MISSING:
            raise ManifestError(message) from None
        raise JobError(message) from None
    return parse_manifest(text, params.manifest_id)


def pinned_schema(spark: SparkSession, params: JobParams) -> tuple[T.StructType | None, str]:
    """The dataset's pinned schema and policy (``--schema_uri``, else under ``--schema_prefix``); none: inferred,
    and the policy is evolve."""
    schema_uri = params.schema_uri or find_dataset_schema(spark, params.schema_prefix, params.dataset)
    return read_pinned(spark, schema_uri) if schema_uri else (None, EVOLVE)


def run(spark: SparkSession, params: JobParams, glue_client_factory: Callable[[], Any] = glue_client,
        numbered_file_max_bytes: int = NUMBERED_FILE_MAX_BYTES, stages: dict[str, float] | None = None,
        s3_client_factory: Callable[[], Any] = s3_client, job_run_id: str = "",
        sfn_client_factory: Callable[[], Any] = sfn_client) -> dict[str, Any]:
    """Converts the manifest, writes the result file, switches the partition to this run's output, then writes the
    outcome document (SUCCEEDED or PARTIAL, naming `job_run_id`, the run's own id, and the output it switched to),
    and returns the result (docs/architecture.md).

    `stages`, when given, receives the seconds spent per stage (for the benchmark; not part of the result)."""
    started = time.monotonic()
    stage = StageTimer({} if stages is None else stages, started)
    ingested_at = dt.datetime.now(dt.UTC)
    for key, value in SESSION_SETTINGS.items():
        spark.conf.set(key, value)
    check_engine(spark)  # before anything is read: the JVM helpers work on this Spark

    listed = read_manifest(spark, params)
    table_root = join_path(params.curated_path, params.dataset)
    # The run's own directories (I4): no reader looks there until the switch at the end names them.
    locations = OutputLocations(
        join_path(table_root, f"ingest_date={params.ingest_date}", f"manifest_id={params.manifest_id}"),
        join_path(params.quarantine_path, params.dataset, f"manifest_id={params.manifest_id}"),
        new_run_id(ingested_at))
    partition_dir, quarantine_dir = locations.output, locations.quarantine
    remove_superseded(spark, params.curated_path, params.quarantine_path, params.dataset, ingested_at)

    pinned, policy = pinned_schema(spark, params)
    if params.catalog_database:
        store: SchemaStore = CatalogSchemaStore(glue_client_factory(), params.catalog_database, params.dataset,
                                                table_root, params.manifest_id)
    else:
        store = FileSchemaStore(spark, table_root + SCHEMA_FILE)
    plan = SchemaPlan(store, pinned, policy)
    catalog = store.glue if isinstance(store, CatalogSchemaStore) else None
    previous = previous_output(spark, catalog, params.catalog_database, params.dataset, params.ingest_date,
                               params.manifest_id, params.result_uri, locations)

    s3 = SharedClient(s3_client_factory)
    context = RunContext(spark, params, plan, ingested_at, partition_dir, quarantine_dir, numbered_file_max_bytes,
                         stage, s3)
    staging = StagingArea(params.staging_path or default_staging_path(params.curated_path), params.dataset,
                          params.manifest_id, s3)
    try:
        try:
            files, failed = check_files(spark, listed, staging, s3)
            files, outcome = convert_readable_files(context, listed, files, failed)
        finally:
            staging.clean_up()
        check_every_listed_object(params.manifest_id, listed, files, failed)

        written = read_back(spark, partition_dir, quarantine_dir)  # the check covers the writes
        counts = check_accounting(params.manifest_id, outcome.lines_in, outcome.blank_lines, written)
        check_no_rows_dropped(spark, params.manifest_id, previous, failed, params.allow_missing_files)
        # Last check before anything names the run's output: an orphan of an ended execution switches nothing.
        check_execution_running(sfn_client_factory, params.manifest_id, params.execution_arn)
    except Exception:
        # Nothing names the run's directories yet, so no reader can be reading them: they go at once.
        discard_run_output(spark, locations)
        raise
    stage("check")

    result = {
        "manifestId": params.manifest_id,
        **counts,
        "outputFiles": written.parquet_files, "outputBytes": written.parquet_bytes,
        "quarantineFiles": written.quarantine_files,
        "filesRead": len(files), "filesFailed": len(failed), "failedFiles": [f.as_result() for f in failed],
        "quarantineReasons": outcome.quarantined_by_reason,
        "schema": {"policy": plan.policy, "columns": len(outcome.schema.fields), "added": sorted(plan.added)},
        "runId": locations.run_id, "outputLocation": partition_dir, "quarantineLocation": quarantine_dir,
        "durationSeconds": round(time.monotonic() - started, 3),
    }
    # The switch, after every check: without a catalog the result file names the output; with one, the partition's
    # one UpdatePartition (last, so a failed write of the result leaves the previous output in the table).
    jvm.write_small_file(spark, params.result_uri, json.dumps(result))
    if catalog is not None:
        register_partition(catalog, params.catalog_database, params.dataset, catalog_columns(outcome.schema),
                           params.ingest_date, params.manifest_id, partition_dir,
                           {RUN_PARAMETER: locations.run_id, QUARANTINE_PARAMETER: quarantine_dir})
    mark_superseded(spark, params.curated_path, params.dataset, params.manifest_id, previous, locations,
                    dt.datetime.now(dt.UTC))
    stage("switch")
    # Last, after the switch: the state machine records the counts and the output the document names; a run that
    # stops before this line has none and is retried (a retry after the switch replaces this output in turn).
    write_outcome(spark, outcome_uri(params.result_uri), success_outcome(result, job_run_id, failed))
    return result
