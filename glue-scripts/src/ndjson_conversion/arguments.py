"""The job's arguments (`JobParams`): resolved by Glue's getResolvedOptions on Glue, by argparse elsewhere;
docs/architecture.md, "Glue job arguments".
"""
from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import NotRetryableError
from .lines import DEFAULT_MAX_LINE_BYTES
from .output import DEFAULT_TARGET_FILE_MB, PARQUET_COMPRESSION

DEFAULT_MAX_DECOMPRESSED_BYTES = 2048 * 1024 * 1024
# The job's arguments as contracts/glue-job.json lists them (tests/test_contracts.py holds the two to it).
REQUIRED_ARGS = ("manifest_uri", "manifest_id", "dataset", "ingest_date", "curated_path", "quarantine_path",
                 "result_uri")
OPTIONAL_ARGS = ("catalog_database", "target_file_mb", "schema_uri", "schema_prefix", "staging_path", "max_line_bytes",
                 "max_decompressed_bytes")

#: Glue's awsglue.utils.getResolvedOptions: (argv, names) -> {name: value}.
ResolveOptions = Callable[[list[str], list[str]], dict[str, Any]]


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


def parse_args(argv: Sequence[str], resolve_options: ResolveOptions | None = None) -> JobParams:
    """Resolves the job's arguments with Glue's getResolvedOptions (`resolve_options`, on Glue), or argparse."""
    if resolve_options is not None:
        present = [name for name in OPTIONAL_ARGS if f"--{name}" in argv]
        values = resolve_options(list(argv), list(REQUIRED_ARGS) + present)
    else:
        parser = argparse.ArgumentParser(description="Converts one manifest's NDJSON objects to Parquet.")
        for name in REQUIRED_ARGS:
            parser.add_argument(f"--{name}", required=True)
        for name in OPTIONAL_ARGS:
            parser.add_argument(f"--{name}", default=None)
        known, _unknown = parser.parse_known_args(list(argv[1:]))  # Glue-style extras such as --JOB_NAME
        values = vars(known)
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
    )


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
