"""The job's arguments (`JobParams`), by one parser on Glue and everywhere else; docs/architecture.md, "Glue job
arguments".
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import NotRetryableError
from .lines import DEFAULT_MAX_LINE_BYTES
from .output import DEFAULT_TARGET_FILE_MB, PARQUET_COMPRESSION
from .schema import DEFAULT_MAX_SCHEMA_FIELDS

DEFAULT_MAX_DECOMPRESSED_BYTES = 2048 * 1024 * 1024
# The job's arguments as contracts/glue-job.json lists them (tests/test_contracts.py holds the two to it).
REQUIRED_ARGS = ("manifest_uri", "manifest_id", "dataset", "ingest_date", "curated_path", "quarantine_path",
                 "result_uri")
OPTIONAL_ARGS = ("catalog_database", "target_file_mb", "schema_uri", "schema_prefix", "staging_path", "max_line_bytes",
                 "max_decompressed_bytes", "max_schema_fields", "allow_missing_files", "execution_arn")



@dataclass(frozen=True)
class JobParams:
    """The job's arguments (docs/architecture.md, "Glue job arguments")."""

    manifest_uri: str
    manifest_id: str
    dataset: str
    ingest_date: str
    curated_path: str
    quarantine_path: str
    result_uri: str
    catalog_database: str = ""
    target_file_mb: int = DEFAULT_TARGET_FILE_MB
    compression: str = PARQUET_COMPRESSION
    schema_uri: str = ""  # a pinned schema for the dataset (see schema.load_pinned); empty: see schema_prefix
    schema_prefix: str = ""  # where datasets' pinned schemas live: <prefix><dataset>.ddl or .json; none: inferred
    staging_path: str = ""  # copies of pinned versions overwritten since; empty: default_staging_path(curated_path)
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES  # a longer line is quarantined as line_too_long
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES  # a gzip file with more text fails as too_large
    max_schema_fields: int = DEFAULT_MAX_SCHEMA_FIELDS  # leaf fields the data may grow the schema to: schema_limit
    # a replay may replace an output holding rows of files it cannot read (the operator accepts their loss)
    allow_missing_files: bool = False
    # the Step Functions execution that started the run: its output is switched in only while it still runs (I4)
    execution_arn: str = ""


def parse_args(argv: Sequence[str]) -> JobParams:
    """The job's arguments from `argv` (``sys.argv``: the script, then ``--name value`` pairs).

    Glue passes the job's default arguments, the run's arguments and its own: ``--JOB_NAME``, ``--JOB_ID``,
    ``--JOB_RUN_ID``, ``--SECURITY_CONFIGURATION``, ``--encryption-type``, ``--job-bookmark-option``, ``--TempDir``,
    and the job's ``--enable-...`` and ``--custom-logGroup-prefix`` settings ("Using job parameters in AWS Glue jobs",
    https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-glue-arguments.html). Glue's own
    ``getResolvedOptions`` reads them with argparse's ``parse_known_args`` over ``argv[1:]`` (aws-glue-libs,
    awsglue/utils.py); so does this, leaving every argument it does not know to Glue. Abbreviations are off, so that
    no argument of Glue's is taken for a prefix of one of the job's. A required argument missing, or one without a
    value, fails the run, not to be retried."""
    parser = _ArgumentParser(prog="ndjson_to_parquet", allow_abbrev=False, add_help=False)
    for name in REQUIRED_ARGS + OPTIONAL_ARGS:
        parser.add_argument(f"--{name}", default=None)
    known, _glue_arguments = parser.parse_known_args(list(argv[1:]))
    values = vars(known)
    missing = [f"--{name}" for name in REQUIRED_ARGS if values.get(name) in (None, "")]
    if missing:
        raise NotRetryableError(f"missing job argument(s): {', '.join(missing)}")
    return JobParams(
        manifest_uri=values["manifest_uri"], manifest_id=values["manifest_id"], dataset=values["dataset"],
        ingest_date=values["ingest_date"], curated_path=values["curated_path"],
        quarantine_path=values["quarantine_path"], result_uri=values["result_uri"],
        catalog_database=values.get("catalog_database") or "",
        target_file_mb=positive_whole_number(values, "target_file_mb", DEFAULT_TARGET_FILE_MB),
        schema_uri=values.get("schema_uri") or "", schema_prefix=values.get("schema_prefix") or "",
        staging_path=values.get("staging_path") or "",
        max_line_bytes=positive_whole_number(values, "max_line_bytes", DEFAULT_MAX_LINE_BYTES),
        max_decompressed_bytes=positive_whole_number(values, "max_decompressed_bytes",
                                                     DEFAULT_MAX_DECOMPRESSED_BYTES),
        max_schema_fields=positive_whole_number(values, "max_schema_fields", DEFAULT_MAX_SCHEMA_FIELDS),
        allow_missing_files=true_or_false(values, "allow_missing_files"),
        execution_arn=values.get("execution_arn") or "",
    )


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that raises (as Glue's GlueArgumentParser does) instead of printing usage and exiting."""

    def error(self, message: str) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        raise NotRetryableError(f"job arguments: {message}")


def true_or_false(values: dict[str, Any], name: str) -> bool:
    """The argument `name` as `true` or `false` (false when absent or empty); else the run fails."""
    value = str(values.get(name) or "false").strip().lower()
    if value not in ("true", "false"):
        raise NotRetryableError(f"--{name} must be true or false, got {values.get(name)!r}")
    return value == "true"


def positive_whole_number(values: dict[str, Any], name: str, default: int) -> int:
    """The argument `name` as a whole number of at least 1 (`default` when absent or empty); else the run fails."""
    value = values.get(name)
    try:
        number = int(value) if value not in (None, "") else default
    except ValueError:
        raise NotRetryableError(f"--{name} must be a whole number, got {value!r}") from None
    if number < 1:
        raise NotRetryableError(f"--{name} must be at least 1, got {number}")
    return number


def default_staging_path(curated_path: str) -> str:
    """The staging location when ``--staging_path`` is absent: ``staging/`` next to the curated prefix, in its
    bucket (``s3://c/curated/`` gives ``s3://c/staging/``; a bucket's root gives ``<root>/staging/``)."""
    scheme, sep, rest = curated_path.partition("://")
    bucket, _, prefix = rest.partition("/")
    parent = prefix.strip("/").rpartition("/")[0]
    return f"{scheme}{sep}{bucket}/" + (parent + "/" if parent else "") + "staging/"
