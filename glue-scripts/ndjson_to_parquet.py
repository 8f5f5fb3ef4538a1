"""Glue job: converts one manifest's NDJSON objects to Parquet, accounting for every line (I4, I5).

Runs on Glue 5.1 (Spark 3.5.6, Python 3.11) and, unchanged, on plain ``pyspark==3.5.6`` (local mode, tests,
benchmark). Arguments: see ``JobParams`` and docs/architecture.md.

How the lines are accounted for (I5). The listed objects are read with Spark's line reader (lines end at
``\\n``), each object up to ``NUMBERED_FILE_MAX_BYTES`` by a single task, which numbers its lines from Spark's row
ids (an object's first id, recorded by the ledger below, or ``number_lines``). A line is then exactly one of:
blank (only whitespace), counted in ``blankLines``; a row; or quarantined with a reason (``invalid_json``,
``multiple_values``, ``not_an_object``, ``duplicate_name``,
``empty_name``, ``type_mismatch``, ``unknown_field``, ``line_too_long``: docs/architecture.md, "Quarantine
reasons"), given by the JVM line check (glue-scripts/jvm, ``CheckLine``), which reads each line once with RFC 8259's
grammar against the dataset's schema. A UTF-8 BOM at the start of a line and a trailing ``\\r`` (CRLF files) are
removed first; a last line without a newline is a line; an empty file has no lines. Plain objects larger than
``NUMBERED_FILE_MAX_BYTES`` are split between tasks, so their lines carry no number.

Schema (I8). A dataset's schema is recorded once and only grows (``settle_schema``): in its catalog table, or a
file without a catalog. The first manifest infers it from its first lines, widened from every line the conversion
then finds outside it, before recording it; every later one is parsed with the record, and a line with a field
the record lacks makes the record gain that field (``evolve``, the default) and the conversion run again, or is
quarantined (``strict``). A value of another type than the record's is
quarantined as ``type_mismatch``. Output names follow one rule (``column_name``). docs/architecture.md, "Dataset
schema", says it all once.

Pinned versions. An s3:// entry with ``versionId`` is converted as that version: read at its key when it is still
the current version (HeadObject), else from a server-side copy of it under the staging location (``Staging``),
deleted at the end of the run, failed or not. Other entries (file://, or no ``versionId``) are read as they are.

File-level failures. A file that is missing (no such key or version), denied, or that Spark cannot read (a corrupt
gzip) is left out and listed in the result's ``failedFiles``; the others are converted and I5 holds over them.
Missing and denied files are found before the read (``check_files``); an unreadable one from the failed Spark job,
which names it or else is found by halving the files (``file_named_in``), after which the read runs again without
it. With no file readable the run fails. Failures that another run would repeat (``NotRetryableError``: the
manifest missing or invalid, no file readable, I5) carry ``[NotRetryable]`` in the failure line (``failure_line``).

Pinned schema: ``--schema_uri``, or else ``<--schema_prefix><dataset>.ddl`` (or ``.json``) when that object
exists; Spark's schema JSON or a DDL string, with the policy (``load_pinned``). It is merged into the record.

Output (I4). Rows go to ``<curated_path>/<dataset>/ingest_date=<d>/manifest_id=<id>/`` with
``_source_file`` (the manifest's URI of the object, never a staged copy's), ``_source_version`` (the pinned version
or null) and ``_ingested_at`` (the run's start time) added, written
straight into that directory with overwrite, which replaces the manifest's partition and no other, as dynamic
partition overwrite would, without the sort Spark adds before a partitioned write (``write_partition``). Bad lines go
to ``<quarantine_path>/<dataset>/manifest_id=<id>/`` as NDJSON, replaced on every run. The number of Parquet
files comes from the text bytes listed in the manifest (``plan_output_files``, ``estimated_text_bytes``): none above
``target_file_mb``, and up to one per
core while each stays a quarter of the target, since each file is encoded by one core.

Passes and counts. One pass over the text checks every line (``CheckLine``), parses the rows from the line's bytes
(``ParseLine``: Spark's ``from_json`` without decoding the text first) and writes them, and records every line on
the way into a ledger (``pipeline.json.Ledger``, a Spark accumulator fed by ``RecordLine``): lines and bytes per
reason and per object, each object's first row id, and the quarantined lines themselves up to a budget
(``QUARANTINE_KEPT_BYTES``), from which the quarantine file is written; past the budget the quarantined lines are
read in a pass of their own. The pass runs again only when the schema changes (a first manifest's widening, new
fields under ``evolve``). ``linesIn`` and ``blankLines`` come from the ledger; ``rowsOut`` is read back from the
written Parquet footers and ``rowsQuarantined`` from the quarantine files, and the run fails (AccountingError)
unless ``linesIn = rowsOut + rowsQuarantined + blankLines``. A gzip object whose text passes
``--max_decompressed_bytes`` fails as a file (``too_large``) and the rest is converted again without it.

Compression: zstd. On the benchmark batch (glue-scripts/bench) zstd output is about 30% smaller than snappy
for the same write time, which also cuts what Athena scans; see glue-scripts/README.md for the figures.

The transforms are pure functions of DataFrames (the SparkSession is passed in); ``run`` wires them and
``main`` is the thin entry point, which exits non-zero with a one-line message on stderr when the run fails.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import math
import os
import posixpath
import random
import re
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

try:  # present on Glue only
    from awsglue.context import GlueContext  # pyright: ignore[reportMissingImports]
    from awsglue.job import Job  # pyright: ignore[reportMissingImports]
    from awsglue.utils import getResolvedOptions  # pyright: ignore[reportMissingImports]
except ImportError:  # plain pyspark: local mode, tests, benchmark
    GlueContext = None
    Job = None
    getResolvedOptions = None

PARQUET_COMPRESSION = "zstd"
# Parquet bytes per byte of NDJSON text, measured on the benchmark batch (zstd 0.093, snappy 0.135), rounded up
# so that files land at or below the target rather than above it.
PARQUET_BYTES_PER_TEXT_BYTE = {"zstd": 0.10, "snappy": 0.14}
# Plain objects up to this size are read by one task each, which numbers their lines; larger ones are split.
NUMBERED_FILE_MAX_BYTES = 128 * 1024 * 1024
DEFAULT_TARGET_FILE_MB = 128
# Files are split further, up to one per core, only while each stays at least this fraction of the target.
MIN_FILE_FRACTION = 0.25
# zstd level 1 against the codec's default level 3, measured on the benchmark batch: the same output size to the
# MB, and about 30% less time in the Parquet write (glue-scripts/README.md).
PARQUET_WRITE_OPTIONS = {"zstd": {"parquet.compression.codec.zstd.level": "1"}}

ADDED_COLUMNS = ("_source_file", "_source_version", "_ingested_at")
# The JVM check of each line (glue-scripts/jvm, CheckLine.java), on the job's classpath through --extra-jars.
LINE_CHECK_CLASS = "pipeline.json.CheckLine"
LINE_CHECK_FUNCTION = "pipeline_check_line"
# Where the dataset's recorded schema lives: a parameter of its catalog table, or, without a catalog, a file.
SCHEMA_PARAMETER = "pipeline.schema"
# The manifest whose run last changed the recorded schema: with Glue's table versions, the schema's history.
CHANGED_BY_PARAMETER = "pipeline.schemaChangedBy"
SCHEMA_FILE = "_schema.json"
EVOLVE, STRICT = "evolve", "strict"
POLICIES = (EVOLVE, STRICT)
# Longest output name: Glue's limit on a column name.
MAX_COLUMN_NAME = 255
_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DEFAULT_MAX_LINE_BYTES = 1024 * 1024
DEFAULT_MAX_DECOMPRESSED_BYTES = 2048 * 1024 * 1024
# Runs of the conversion with an evolved schema before the remaining unknown fields are quarantined.
EVOLUTION_PASSES = 3
# The dataset's first manifest: its schema is inferred from its first INFERENCE_SAMPLE_LINES lines; the lines that
# schema cannot hold are found by the conversion itself, and the schema is widened from them and the sample
# (Spark's inference rules, at most WIDENING_PASSES times) before it is recorded (see `_convert`).
INFERENCE_SAMPLE_LINES = 10_000
WIDENING_PASSES = 2
# Text of quarantined lines the conversion pass keeps for the quarantine file (pipeline.json.Ledger), shared out
# between its read tasks, at least QUARANTINE_TASK_MIN_BYTES each; past its share, the job reads the quarantined lines
# in a pass of their own. It bounds what the tasks send to the driver.
QUARANTINE_KEPT_BYTES = 64 * 1024 * 1024
QUARANTINE_TASK_MIN_BYTES = 1024 * 1024
# NDJSON text bytes per byte of a gzip object, to plan the Parquet files before the text is read (about 1:5 to 1:10
# for JSON; the lower figure keeps files at or below the target).
GZIP_TEXT_PER_BYTE = 5
PARTITION_COLUMNS = ("ingest_date", "manifest_id")
# Parser options of the inference; the parse (ParseLine) uses the same mode, so that both see the same JSON dialect.
JSON_OPTIONS = {"mode": "PERMISSIVE"}
# The inference skips fields that are only ever null, {} or []: they carry no type, as the line check reports no
# such field as unknown; the field is recorded when a value arrives.
INFER_OPTIONS = {**JSON_OPTIONS, "dropFieldIfAllNull": "true"}
_CORRUPT = "_corrupt_record"

REQUIRED_ARGS = ("manifest_uri", "manifest_id", "dataset", "ingest_date", "curated_path", "quarantine_path",
                 "result_uri")
OPTIONAL_ARGS = ("catalog_database", "target_file_mb", "schema_uri", "schema_prefix", "staging_path", "max_line_bytes",
                 "max_decompressed_bytes")
# Under --schema_prefix, a dataset's pinned schema is the first of these that exists.
SCHEMA_FILE_SUFFIXES = (".ddl", ".json")
# The prefix of the job's failure line for a failure that another run of the same manifest would repeat; the state
# machine matches it in the job run's ErrorMessage and does not retry such a run.
NOT_RETRYABLE_MARKER = "[NotRetryable]"
# Reasons a file of the manifest is not converted (result file, "failedFiles").
MISSING, ACCESS_DENIED, UNREADABLE, UNSAFE_KEY, TOO_LARGE = "missing", "access_denied", "unreadable", "unsafe_key", \
    "too_large"
FAILED_FILE_MESSAGE_MAX_CHARS = 300
S3_SCHEMES = ("s3", "s3a", "s3n")
# Objects checked (and pinned versions copied) at the same time.
CHECK_THREADS = 16
# Catalog: attempts of the read-merge-update of a table against concurrent runs, and the base backoff in seconds.
CATALOG_ATTEMPTS = 8
CATALOG_BACKOFF_SECONDS = 0.2
# Root causes of a read failure that are transient: the run fails (and is retried) instead of the file.
_TRANSIENT = re.compile(r"throttl|slow ?down|503|500 |internal ?error|timed? ?out|timeout|connection (reset|refused)|"
                        r"unable to execute http request|service ?unavailable|too many requests", re.IGNORECASE)


class JobError(Exception):
    """A failure of the job with a message fit for the job run's ErrorMessage; another run may succeed."""

    retryable = True


class NotRetryableError(JobError):
    """A deterministic failure: another run of the same manifest would fail the same way (NOT_RETRYABLE_MARKER)."""

    retryable = False


class ManifestError(NotRetryableError):
    """The manifest file is missing or malformed."""


class AccountingError(NotRetryableError):
    """The counts do not add up (I5); the run fails rather than record wrong figures."""


class NoReadableFileError(NotRetryableError):
    """Not one file of the manifest could be read."""


class FilesTooLargeError(JobError):
    """Gzip files of the manifest decompress to more than the cap: the run sets them aside and reads the rest."""

    def __init__(self, failed: list[FailedFile]):
        super().__init__(f"{len(failed)} file(s) over the decompressed size cap")
        self.failed = failed


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
    schema_uri: str = ""  # a pinned schema for the dataset (see load_schema); empty: see schema_prefix
    schema_prefix: str = ""  # where datasets' pinned schemas live: <prefix><dataset>.ddl or .json; none: inferred
    staging_path: str = ""  # copies of pinned versions overwritten since; empty: default_staging_path(curated_path)
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES  # a longer line is quarantined as line_too_long
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES  # a gzip file with more text fails as too_large


@dataclass(frozen=True)
class ManifestFile:
    """One object listed by the manifest: size in bytes when the manifest gives it, the pinned S3 version, and
    where the job reads it from when that is not `uri` (a staged copy of the pinned version)."""

    uri: str
    size: int | None = None
    version_id: str | None = None
    bucket: str | None = None
    key: str | None = None
    read_uri: str | None = None
    #: The content's identity (the manifest's eTag): another version with it holds the same bytes.
    etag: str | None = None

    @property
    def source(self) -> str:
        """The path Spark reads."""
        return self.read_uri or self.uri

    def s3_location(self) -> tuple[str, str] | None:
        """(bucket, key) of an s3:// (s3a://, s3n://) entry, from the manifest's fields when given; else None."""
        scheme, sep, rest = self.uri.partition("://")
        if not sep or scheme.lower() not in S3_SCHEMES:
            return None
        bucket, _, key = rest.partition("/")
        return self.bucket or bucket, self.key or key


@dataclass(frozen=True)
class FailedFile:
    """A file of the manifest that was not converted, and why (result file, "failedFiles")."""

    file: ManifestFile
    reason: str  # MISSING, ACCESS_DENIED, UNREADABLE, UNSAFE_KEY or TOO_LARGE
    message: str

    def as_result(self) -> dict[str, Any]:
        location = self.file.s3_location()
        key = location[1] if location else self.file.key or urllib.parse.urlparse(self.file.uri).path
        return {"uri": self.file.uri, "key": key, "versionId": self.file.version_id, "reason": self.reason,
                "message": _short(self.message)}


# ---------------------------------------------------------------------------------------------------- arguments

def parse_args(argv: Sequence[str]) -> JobParams:
    """Resolves the job's arguments with Glue's getResolvedOptions, or argparse outside Glue."""
    if getResolvedOptions is not None:
        present = [name for name in OPTIONAL_ARGS if f"--{name}" in argv]
        values = getResolvedOptions(list(argv), list(REQUIRED_ARGS) + present)
    else:
        parser = argparse.ArgumentParser(description="Converts one manifest's NDJSON objects to Parquet.")
        for name in REQUIRED_ARGS:
            parser.add_argument(f"--{name}", required=True)
        for name in OPTIONAL_ARGS:
            parser.add_argument(f"--{name}", default=None)
        known, _unknown = parser.parse_known_args(list(argv[1:]))  # Glue-style extras such as --JOB_NAME
        values = vars(known)
    target_mb = _whole(values, "target_file_mb", DEFAULT_TARGET_FILE_MB)
    max_line_bytes = _whole(values, "max_line_bytes", DEFAULT_MAX_LINE_BYTES)
    max_decompressed_bytes = _whole(values, "max_decompressed_bytes", DEFAULT_MAX_DECOMPRESSED_BYTES)
    return JobParams(
        manifest_uri=values["manifest_uri"], manifest_id=values["manifest_id"], dataset=values["dataset"],
        ingest_date=values["ingest_date"], curated_path=values["curated_path"],
        quarantine_path=values["quarantine_path"], result_uri=values["result_uri"],
        catalog_database=values.get("catalog_database") or "", target_file_mb=target_mb,
        schema_uri=values.get("schema_uri") or "", schema_prefix=values.get("schema_prefix") or "",
        staging_path=values.get("staging_path") or "", max_line_bytes=max_line_bytes,
        max_decompressed_bytes=max_decompressed_bytes,
    )


def _whole(values: dict[str, Any], name: str, default: int) -> int:
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


# ------------------------------------------------------------------------------------ small files (Hadoop FS)
# Through Hadoop's FileSystem so one code path serves s3:// on Glue (EMRFS), s3a locally and file:// in tests.

def _java(spark: SparkSession) -> Any:
    """The session as py4j exposes it (`_jsc`, `_jsparkSession`): dynamic, so untyped."""
    return spark


def _jvm(spark: SparkSession) -> Any:
    """The JVM's classes through py4j: dynamic, so untyped."""
    return _java(spark)._jvm


def _fs_path(spark: SparkSession, uri: str):
    path = _jvm(spark).org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(_java(spark)._jsc.hadoopConfiguration()), path


def _java_message(error: BaseException) -> str:
    java = getattr(error, "java_exception", None)
    text = java.toString() if java is not None else str(error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def read_small_file(spark: SparkSession, uri: str) -> str:
    """Reads a small UTF-8 object (the manifest) whole."""
    fs, path = _fs_path(spark, uri)
    stream = fs.open(path)
    try:
        data = _jvm(spark).org.apache.commons.io.IOUtils.toByteArray(stream)
    finally:
        stream.close()
    return bytes(data).decode("utf-8")


def write_small_file(spark: SparkSession, uri: str, text: str) -> None:
    """Writes (replaces) a small UTF-8 object (the result file)."""
    fs, path = _fs_path(spark, uri)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def find_dataset_schema(spark: SparkSession, prefix: str, dataset: str) -> str:
    """The URI of the dataset's pinned schema under `prefix` (``<prefix><dataset>.ddl``, else ``.json``), or ""
    when there is none, and the schema is inferred. An error other than absence fails the run: a schema that
    cannot be checked is not silently replaced by inference."""
    if not prefix:
        return ""
    for suffix in SCHEMA_FILE_SUFFIXES:
        uri = prefix.rstrip("/") + "/" + dataset + suffix
        try:
            fs, path = _fs_path(spark, uri)
            if fs.isFile(path):
                return uri
        except Exception as error:
            raise JobError(f"cannot look for the schema {uri}: {_java_message(error)}") from None
    return ""


def delete_path(spark: SparkSession, uri: str) -> None:
    """Deletes a directory and its content, if present."""
    fs, path = _fs_path(spark, uri)
    if fs.exists(path):
        fs.delete(path, True)


def _qualified(spark: SparkSession, uris: Sequence[str]) -> list[str]:
    """The path strings Spark reports from input_file_name() for objects read from these URIs (pipeline.json.Driver,
    one JVM call)."""
    return [str(p) for p in _jvm(spark).pipeline.json.Driver.qualified(list(uris),
                                                                       _java(spark)._jsc.hadoopConfiguration())]


# ------------------------------------------------------------------------------------------- the manifest's files
# Missing and denied files are found before Spark reads anything: a pinned version by S3's HeadObject (and its copy
# when the key was overwritten since), any other entry by Hadoop's getFileStatus. Files that Spark then fails to read
# are found from the error of the Spark job, which names the file (`file_named_in`).

def _short(text: str) -> str:
    return " ".join(str(text).split())[:FAILED_FILE_MESSAGE_MAX_CHARS]


def _java_chain(error: BaseException) -> list[tuple[str, str]]:
    """(class name, message) of a Java exception and its causes, outermost first; empty for a Python error."""
    java = getattr(error, "java_exception", None)
    out = []
    while java is not None and len(out) < 20:
        out.append((str(java.getClass().getName()), str(java.getMessage() or "")))
        java = java.getCause()
    return out


def _root_message(error: BaseException) -> str:
    chain = _java_chain(error)
    if chain:
        name, message = chain[-1]
        first = message.strip().splitlines()[0] if message.strip() else ""
        return f"{name}: {first}" if first else name
    return f"{type(error).__name__}: {_java_message(error)}"


def _hadoop_failure_reason(error: BaseException) -> str | None:
    """MISSING or ACCESS_DENIED for an error of Hadoop's FileSystem or Spark's read naming a file, UNREADABLE for
    another deterministic read error, None for a transient one (the run fails and is retried)."""
    chain = _java_chain(error)
    names = " ".join(name for name, _ in chain)
    text = " ".join(message for _, message in chain) or str(error)
    if "FileNotFoundException" in names or "NoSuchKey" in text or "Path does not exist" in text:
        return MISSING
    root = " ".join(chain[-1]) if chain else str(error)
    if "AccessDenied" in names or "AccessControlException" in names or re.search(
            r"Status Code: 403|\bForbidden\b|Access Denied", root):
        return ACCESS_DENIED
    return None if _TRANSIENT.search(root) else UNREADABLE


def _aws_error_code(error: BaseException) -> str:
    """The error code of a boto3 ClientError (else ""). Matched by code, not by the client's exception classes: a
    client first used from two threads at once can build two sets of those classes, and one thread's `except` then
    misses the other's error."""
    response = getattr(error, "response", None)
    return str(((response or {}).get("Error") or {}).get("Code") or "") if isinstance(response, dict) else ""


def _s3_failure_reason(error: BaseException) -> str | None:
    """MISSING (no such key or version) or ACCESS_DENIED for a boto3 error, None for any other (transient)."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return None
    code = _aws_error_code(error)
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in ("NoSuchKey", "NoSuchVersion", "NotFound", "404") or status == 404:
        return MISSING
    if code in ("InvalidArgument",) and "version" in str(response.get("Error", {}).get("Message", "")).lower():
        return MISSING  # a version id S3 does not know the form of: no such version
    if code in ("AccessDenied", "Forbidden", "403") or status == 403:
        return ACCESS_DENIED
    return None


def _s3_message(error: BaseException) -> str:
    response = getattr(error, "response", {}) or {}
    detail = response.get("Error", {})
    return f"{detail.get('Code', type(error).__name__)}: {detail.get('Message') or error}"


class Staging:
    """Where pinned versions whose key was overwritten since are copied for the run:
    ``<staging_path><dataset>/<manifest_id>/<n>/<basename>``, n the file's position in the manifest (so that two
    versions of one key do not meet), the basename kept for its suffix (``.gz``). Removed by `clean_up`."""

    def __init__(self, staging_path: str, dataset: str, manifest_id: str, s3: Callable[[], Any]):
        self.staging_path = staging_path
        self.prefix_uri = _join(staging_path, dataset, manifest_id)
        self._s3 = s3
        self.used = False

    def target(self, n: int, key: str) -> tuple[str, str, str]:
        """(bucket, key, uri) of the copy of the manifest's n-th file."""
        scheme, _, rest = self.prefix_uri.partition("://")
        if scheme.lower() not in S3_SCHEMES:
            raise JobError(f"--staging_path must be an s3:// location to copy pinned versions to, got "
                           f"{self.staging_path!r}")
        bucket, _, prefix = rest.partition("/")
        staged_key = f"{prefix}{n}/{key.rsplit('/', 1)[-1] or 'object'}"
        self.used = True
        return bucket, staged_key, f"{scheme}://{bucket}/{staged_key}"

    def clean_up(self) -> None:
        """Deletes everything under the manifest's staging prefix (this run's copies and any an interrupted run
        left). Best effort: a failure is printed, never raised; the copies are not part of any output."""
        if not self.used:
            return
        try:
            client = self._s3()
            bucket, _, prefix = self.prefix_uri.partition("://")[2].partition("/")
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        except Exception as error:  # noqa: BLE001 - the run's outcome does not depend on it
            print(f"ndjson_to_parquet: staged copies under {self.prefix_uri} not removed: {_short(str(error))}",
                  file=sys.stderr, flush=True)


def _pin_version(s3: Any, f: ManifestFile, n: int, staging: Staging) -> ManifestFile | FailedFile:
    """The entry to read for a pinned version: the key itself when its current version is the pinned one, else a
    server-side copy of that version in `staging`; or why it cannot be read."""
    bucket, key = f.s3_location()  # type: ignore[misc]
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except Exception as error:
        if _s3_failure_reason(error) is None:
            raise
        head = None  # deleted or hidden since: the pinned version may still be there
    if head is not None and head.get("VersionId") == f.version_id:
        return replace(f, size=f.size if f.size is not None else int(head.get("ContentLength") or 0))
    staged_bucket, staged_key, staged_uri = staging.target(n, key)
    try:
        s3.copy(CopySource={"Bucket": bucket, "Key": key, "VersionId": f.version_id}, Bucket=staged_bucket,
                Key=staged_key)
    except Exception as error:
        reason = _s3_failure_reason(error)
        if reason is None:
            raise
        same = _same_content_version(s3, bucket, key, f) if reason == MISSING else None
        if same is None:
            return FailedFile(f, reason, f"version {f.version_id}: {_s3_message(error)}")
        # The pinned version is gone, but the producer uploaded the same bytes again (the same eTag): that version
        # is the same content, and its rows say which version they were read from.
        print(f"ndjson_to_parquet: {f.uri} version {f.version_id} is gone; reading version {same}, the same content",
              file=sys.stderr, flush=True)
        return _pin_version(s3, replace(f, version_id=same), n, staging)
    return replace(f, read_uri=staged_uri)


def _same_content_version(s3: Any, bucket: str, key: str, f: ManifestFile) -> str | None:
    """The newest other version of the key with the manifest's eTag (the same bytes uploaded again), if any."""
    if not f.etag:
        return None
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
            for version in page.get("Versions", []):
                if (version.get("Key") == key and version.get("VersionId") != f.version_id
                        and str(version.get("ETag", "")).strip('"') == f.etag):
                    return str(version["VersionId"])
    except Exception as error:
        if _s3_failure_reason(error) is None:
            raise
    return None


def verify_pins(s3_factory: Callable[[], Any], files: Sequence[ManifestFile]) -> None:
    """Fails the run (retryable) when a key read in place, because its current version was the pinned one, was
    overwritten before the read ended: the read may have seen the new bytes. The next run copies the pinned version."""
    def moved(f: ManifestFile) -> bool:
        bucket, key = f.s3_location()  # type: ignore[misc]
        try:
            return s3_factory().head_object(Bucket=bucket, Key=key).get("VersionId") != f.version_id
        except Exception as error:
            if _s3_failure_reason(error) is None:
                raise
            return True
    in_place = [f for f in files if f.version_id and f.read_uri is None and f.s3_location() is not None]
    with ThreadPoolExecutor(max_workers=CHECK_THREADS) as pool:
        overwritten = [f.uri for f, m in zip(in_place, pool.map(moved, in_place), strict=True) if m]
    if overwritten:
        raise JobError(f"{len(overwritten)} key(s) overwritten while being read, e.g. {overwritten[0]}: "
                       "run again to convert the pinned versions")


def _check_file(spark: SparkSession, f: ManifestFile) -> ManifestFile | FailedFile:
    try:
        fs, path = _fs_path(spark, f.source)
        status = fs.getFileStatus(path)
    except Exception as error:  # py4j wraps FileNotFoundException, AccessDeniedException, ...
        reason = _hadoop_failure_reason(error)
        if reason in (MISSING, ACCESS_DENIED):
            return FailedFile(f, reason, _root_message(error))
        raise JobError(f"cannot check {f.uri}: {_java_message(error)}") from None
    return replace(f, size=f.size if f.size is not None else int(status.getLen()))


def unsafe_key_reason(f: ManifestFile) -> str | None:
    """Why an s3:// entry's key would be read as another object (Hadoop's Path resolves `.` and `..` and folds `//`),
    or None. Such a key is refused, never read: it could name another dataset's object."""
    location = f.s3_location()
    if location is None:
        return None
    key = location[1]
    segments = key.split("/")
    if any(segment in ("", ".", "..") for segment in segments) or posixpath.normpath(key) != key:
        return "the key has an empty, '.' or '..' path segment: its normalised path names another object"
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in key):
        return "the key has a control character"
    return None


def check_files(spark: SparkSession, files: Sequence[ManifestFile], staging: Staging, s3: Callable[[], Any]
                ) -> tuple[list[ManifestFile], list[FailedFile]]:
    """The manifest's files to read (with their sizes, and a staged copy where a pinned version needs one) and
    those found missing or denied. A pinned version (``versionId``) counts for s3:// entries only; others are read
    as they are. An error that is neither missing nor denied (throttling, network) fails the run."""
    def one(item: tuple[int, ManifestFile]) -> ManifestFile | FailedFile:
        n, f = item
        unsafe = unsafe_key_reason(f)
        if unsafe is not None:
            return FailedFile(f, UNSAFE_KEY, unsafe)
        if f.s3_location() is None:
            f = replace(f, version_id=None)
        elif f.version_id:
            return _pin_version(s3(), f, n, staging)
        return _check_file(spark, f)

    with ThreadPoolExecutor(max_workers=CHECK_THREADS) as pool:
        outcomes = list(pool.map(one, enumerate(files)))
    return ([o for o in outcomes if isinstance(o, ManifestFile)], [o for o in outcomes if isinstance(o, FailedFile)])


def file_named_in(spark: SparkSession, error: BaseException, files: Sequence[ManifestFile]
                  ) -> FailedFile | None:
    """The file a failed Spark read names (Spark's messages carry the path, URL-encoded) and why it failed, when
    that is a property of the file; None when the error names none of them or is transient."""
    if isinstance(error, JobError):
        return None
    text = " ".join([str(error)] + [message for _, message in _java_chain(error)])
    texts = (text, urllib.parse.unquote(text))
    found: list[tuple[ManifestFile, set[str]]] = []
    for f, qualified in zip(files, _qualified(spark, [f.source for f in files]), strict=True):
        names = {f.source, qualified}
        names |= {urllib.parse.unquote(n) for n in list(names)}
        matched = {name for name in names if name and any(name in t for t in texts)}
        if matched:
            found.append((f, matched))
    # `.../a.ndjson.gz` in the message also contains `.../a.ndjson`: a name inside another file's name is no match.
    named = [f for f, matched in found
             if not any(m != o and m in o for m in matched for g, others in found if g is not f for o in others)]
    reason = _hadoop_failure_reason(error)
    if reason is None:
        return None
    if named:
        return FailedFile(named[0], reason, _root_message(error))
    if any(name == "org.apache.spark.SparkException" for name, _ in _java_chain(error)):
        # A read error past an object's first bytes (a gzip stream cut short) reaches the driver without the path.
        return find_unreadable(spark, files)
    return None


def _read_error(spark: SparkSession, files: Sequence[ManifestFile]) -> BaseException | None:
    """The error of reading every line of `files` (and decompressing them), or None when they read."""
    try:
        spark.read.option("lineSep", "\n").text([_glob_escaped(f.source) for f in files]).count()
    except Exception as error:  # noqa: BLE001 - the caller decides what the error means
        return error
    return None


def find_unreadable(spark: SparkSession, files: Sequence[ManifestFile]) -> FailedFile | None:
    """A file of `files` that Spark fails to read, by halving: about 2 log2(n) reads of ever smaller subsets. None
    when all of them read (the failure was not the files')."""
    error = None
    candidates = list(files)
    while len(candidates) > 1:
        half = len(candidates) // 2
        for part in (candidates[:half], candidates[half:]):
            error = _read_error(spark, part)
            if error is not None:
                candidates = part
                break
        else:
            return None
    error = error if error is not None and len(files) > 1 else _read_error(spark, candidates)
    if error is None:
        return None
    reason = _hadoop_failure_reason(error)
    return FailedFile(candidates[0], reason, _root_message(error)) if reason is not None else None


# ----------------------------------------------------------------------------------------------------- manifest

def parse_manifest(text: str, manifest_id: str) -> list[ManifestFile]:
    """Parses the manifest file's JSON; returns its objects once each, in the manifest's order."""
    try:
        doc = json.loads(text)
    except ValueError as error:
        raise ManifestError(f"manifest {manifest_id} is not valid JSON: {error}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise ManifestError(f"manifest {manifest_id} has no files list")
    if doc.get("manifestId") not in (None, manifest_id):
        raise ManifestError(f"manifest file is for {doc.get('manifestId')}, not {manifest_id}")
    seen: dict[tuple[str, str | None], ManifestFile] = {}
    for entry in doc["files"]:
        uri = entry.get("uri") if isinstance(entry, dict) else None
        if not isinstance(uri, str) or not uri:
            raise ManifestError(f"manifest {manifest_id} lists a file without a uri")
        size = entry.get("size")
        version = entry.get("versionId")
        if version is not None and not isinstance(version, str):
            raise ManifestError(f"manifest {manifest_id} lists {uri} with a versionId that is not a string")
        fields: dict[str, str | None] = {name: value if isinstance(value := entry.get(name), str) and value else None
                                             for name in ("bucket", "key", "eTag")}
        # Two versions of one key are two objects; the same version listed twice is one.
        seen.setdefault((uri, version or None), ManifestFile(
            uri, int(size) if isinstance(size, (int, float)) else None, version or None, fields["bucket"],
            fields["key"],
            etag=(fields["eTag"] or "").strip('"') or None))
    return list(seen.values())


# --------------------------------------------------------------------------------------------------- transforms

def _glob_escaped(uri: str) -> str:
    # Spark expands glob characters in paths; an object key may contain them literally.
    return "".join("\\" + c if c in "\\*?[]{}" else c for c in uri)


def _is_gzip(uri: str) -> bool:
    return uri.lower().endswith(".gz")


def plan_read_split_bytes(files: Sequence[ManifestFile], parallelism: int,
                          numbered_file_max_bytes: int = NUMBERED_FILE_MAX_BYTES) -> int:
    """The most bytes of text Spark reads in one task (``spark.sql.files.maxPartitionBytes``): at least the
    largest object up to ``numbered_file_max_bytes``, so that no such object is split between tasks (which is
    what lets its lines be numbered), and otherwise small enough for about two tasks per core."""
    sizes = [f.size or 0 for f in files]
    largest = max([s for s in sizes if s <= numbered_file_max_bytes], default=0)
    per_task = math.ceil(sum(sizes) / max(1, 2 * parallelism))
    return max(1, min(numbered_file_max_bytes, max(largest, per_task)))


@dataclass(frozen=True)
class Objects:
    """The objects one read covers, by index: the manifest's URI, the pinned version (None when not pinned), the path
    Spark reports for it (input_file_name), and whether its lines are numbered (it is read by a single task)."""

    uris: list[str]
    versions: list[str | None]
    paths: list[str]
    numbered: list[bool]


def read_lines(spark: SparkSession, files: Sequence[ManifestFile],
               numbered_file_max_bytes: int = NUMBERED_FILE_MAX_BYTES) -> tuple[DataFrame, Objects]:
    """Reads the objects with Spark's line reader (lines end at ``\n``; gzip is decompressed by extension): `_path`
    (the path Spark reads), `_row` (see `number_lines`) and `line`, cleaned of a leading BOM and a trailing CR; and
    the `Objects` read.

    A plain object above ``numbered_file_max_bytes`` is split between tasks and its lines are not numbered; a gzip
    object is never split. Sets the session's read split size for the run (`plan_read_split_bytes`).
    """
    split_bytes = plan_read_split_bytes(files, spark.sparkContext.defaultParallelism, numbered_file_max_bytes)
    objects = Objects([f.uri for f in files], [f.version_id for f in files],
                      _qualified(spark, [f.source for f in files]),
                      [(f.size or 0) <= split_bytes or _is_gzip(f.source) for f in files])
    if not files:
        return spark.createDataFrame([], "_path string, _row bigint, line string"), objects
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(split_bytes))
    spark.conf.set("spark.sql.files.minPartitionNum", "1")  # else Spark may split below maxPartitionBytes
    raw = (spark.read.option("lineSep", "\n").text([_glob_escaped(f.source) for f in files])
           .select(F.input_file_name().alias("_path"), F.monotonically_increasing_id().alias("_row"),
                   F.col("value").alias("line")))
    line = F.col("line")
    no_cr = F.when(line.endswith("\r"), F.expr("substring(line, 1, length(line) - 1)")).otherwise(line)
    no_bom = F.when(no_cr.startswith("\ufeff"), no_cr.substr(F.lit(2), F.lit(2**31 - 1))).otherwise(no_cr)
    return raw.select("_path", "_row", no_bom.alias("line")), objects


def number_lines(rows: DataFrame, lines: DataFrame) -> DataFrame:
    """Adds `line_number` (from 1) to `rows`, a subset of `lines` (both with `_object`, `_row`, `_numbered`). Spark's
    row ids increase by one from line to line within a task, and an object read by a single task has its lines in one
    run of ids: a line's number is its id minus the object's first id, plus one. Null for the lines of an object
    split between tasks. (The conversion pass numbers the quarantined lines it keeps the same way, in
    pipeline.json.Ledger; this is for the quarantine read in a pass of its own.)"""
    firsts = lines.filter("_numbered").groupBy("_object").agg(F.min("_row").alias("_first"))
    return (rows.join(F.broadcast(firsts), "_object", "left")
            .withColumn("line_number", F.when(F.col("_numbered"), F.col("_row") - F.col("_first") + 1)))


_LEDGERS = itertools.count(1)


def register_ledger(spark: SparkSession, objects: Objects, task_bytes: int) -> tuple[Any, str]:
    """A new ledger (pipeline.json.Ledger) for one pass over `objects`, keeping up to `task_bytes` of quarantined text
    per task, and the name of the function that records each line into it (pipeline.json.RecordLine), registered as
    non-deterministic so that Spark calls it once for every line, before the rows are filtered."""
    jvm = _jvm(spark)
    ledger = jvm.pipeline.json.Ledger(len(objects.paths), task_bytes)
    _java(spark)._jsc.sc().register(ledger, "pipeline.ledger")
    function = jvm.pipeline.json.RecordLine.function(ledger, list(objects.paths))
    name = f"pipeline_record_line_{next(_LEDGERS)}"
    _java(spark)._jsparkSession.udf().register(name, function)
    return ledger, name


def register_line_check(spark: SparkSession, schema: T.StructType) -> str:
    """Registers the JVM line check (``CheckLine``) made with `schema` for this session; returns its name, one per
    schema, so that no call of it compares or parses the schema again."""
    text = schema.json()
    name = f"{LINE_CHECK_FUNCTION}_{hashlib.sha1(text.encode('utf-8')).hexdigest()[:16]}"
    try:
        check = _jvm(spark).pipeline.json.CheckLine(text)
        string = _jvm(spark).org.apache.spark.sql.types.DataTypes.StringType
        _java(spark)._jsparkSession.udf().register(name, check, string)
    except Exception as error:  # py4j: the class is a JavaPackage (not callable) when it is not on the classpath
        raise NotRetryableError(f"the line check {LINE_CHECK_CLASS} is not on the job's classpath (the job's "
                                f"--extra-jars names pipeline-json.jar): {_java_message(error)}") from None
    return name


def check_line(spark: SparkSession, schema: T.StructType, max_line_bytes: int) -> Any:
    """The reason a line is not a row under `schema` (see ``CheckLine``: blank, invalid_json, multiple_values,
    not_an_object, duplicate_name, empty_name, type_mismatch, unknown_field), ``line_too_long`` above
    `max_line_bytes`, or null for a row."""
    name = register_line_check(spark, schema)
    return (F.when(F.octet_length("line") > max_line_bytes, F.lit("line_too_long"))
            .otherwise(F.call_udf(name, F.col("line").cast("binary"))))


def _drop_empty_structs(dtype: T.DataType) -> T.DataType | None:
    # Parquet cannot store a struct without fields.
    if isinstance(dtype, T.StructType):
        fields = []
        for f in dtype.fields:
            child = _drop_empty_structs(f.dataType)
            if child is not None:
                fields.append(T.StructField(f.name, child, True, f.metadata))
        return T.StructType(fields) if fields else None
    if isinstance(dtype, T.ArrayType):
        child = _drop_empty_structs(dtype.elementType)
        return T.ArrayType(child if child is not None else T.StringType(), True)
    if isinstance(dtype, T.MapType):
        child = _drop_empty_structs(dtype.valueType)
        return T.MapType(dtype.keyType, child if child is not None else T.StringType(), True)
    if isinstance(dtype, T.NullType):
        return T.StringType()
    return dtype


def infer_schema(spark: SparkSession, lines: DataFrame) -> T.StructType:
    """Spark's JSON inference over every line of `lines` (column `line`; no sampling), which the caller has
    checked to be objects that the schema does not hold yet. Fields only ever null, ``{}`` or ``[]`` are left out."""
    as_strings = getattr(lines.select("line")._jdf, "as")(_jvm(spark).org.apache.spark.sql.Encoders.STRING())
    reader = _java(spark)._jsparkSession.read()
    for key, value in INFER_OPTIONS.items():
        reader = reader.option(key, value)
    inferred = T.StructType.fromJson(json.loads(reader.json(as_strings).schema().json()))
    fields = [f for f in inferred.fields if f.name != _CORRUPT]
    kept = _drop_empty_structs(T.StructType(fields))
    return kept if isinstance(kept, T.StructType) else T.StructType([])


def load_schema(spark: SparkSession, text: str) -> T.StructType:
    """A pinned record schema: Spark's schema JSON (``StructType.json()``) or a DDL string such as
    ``id bigint, order struct<total: double, items: array<struct<sku: string>>>`` (see `load_pinned`)."""
    schema, _ = load_pinned(spark, text)
    if schema is None or not schema.fields:
        raise NotRetryableError("the pinned schema has no fields")
    return schema


def load_pinned(spark: SparkSession, text: str) -> tuple[T.StructType | None, str]:
    """A dataset's pinned schema file: the schema (None when the file only sets the policy) and the policy.

    JSON: Spark's schema JSON, optionally with ``"policy": "strict"`` beside ``"fields"`` (``{"policy": "strict"}``
    alone sets the policy of an inferred schema). DDL: the fields, after optional comment lines, among them
    ``-- policy: strict``. The policy is ``evolve`` unless the file says otherwise."""
    stripped = text.strip()
    policy = EVOLVE
    try:
        if stripped.startswith("{"):
            doc = json.loads(stripped)
            policy = str(doc.get("policy") or EVOLVE)
            schema = T.StructType.fromJson(doc) if "fields" in doc else None
        else:
            body = []
            for line in stripped.splitlines():
                comment = re.match(r"\s*--\s*(.*)$", line)
                if comment is None:
                    body.append(line)
                elif re.match(r"policy\s*:", comment.group(1)):
                    policy = comment.group(1).split(":", 1)[1].strip()
            ddl = "\n".join(body).strip()
            schema = None
            if ddl:
                jvm_schema = _jvm(spark).org.apache.spark.sql.types.StructType.fromDDL(ddl)
                schema = T.StructType.fromJson(json.loads(jvm_schema.json()))
    except Exception as error:  # ValueError, KeyError, py4j's ParseException
        raise NotRetryableError(f"the pinned schema is not a Spark schema: {_java_message(error)}") from None
    if policy not in POLICIES:
        raise NotRetryableError(f"the pinned schema's policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    return schema, policy


def parse_line(spark: SparkSession, line: Column, schema: T.StructType) -> Column:
    """`line` parsed by Spark's JSON parser with `schema`, as ``from_json`` in PERMISSIVE mode does, but from the line's
    UTF-8 bytes (``ParseLine``): the record, or null when the parser refuses the line."""
    time_zone = spark.conf.get("spark.sql.session.timeZone") or "UTC"
    java_line: Any = line  # its py4j side (`_jc`) is untyped
    return Column(_jvm(spark).pipeline.json.ParseLine.column(java_line._jc, schema.json(), time_zone))


def parse_records(spark: SparkSession, lines: DataFrame, objects: Objects, schema: T.StructType, record: str,
                  max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> DataFrame:
    """Checks and parses the lines of `read_lines` with the recorded schema, one row per line: `_object` (the index in
    `objects`, -1 for a path that is none of them), `_source_file`, `_source_version`, `_numbered`, `_row`, `_status`
    (row, blank, quarantine), `_reason` (null for a row or a blank line; ``unknown_field`` also under the evolve
    policy, for the caller to evolve the schema), `_record` (rows only) and `line` (quarantined lines only). Each line
    is recorded by the function `record` (`register_ledger`) as it goes by.

    Only lines the check passes are parsed, by Spark's parser with the same schema; a value that parser still
    refuses (a date that is not one) makes the line ``type_mismatch``."""
    reason = check_line(spark, schema, max_line_bytes)
    checked = lines.withColumn("_check", reason)
    checked = checked.withColumn("_parsed", F.when(F.col("_check").isNull(), parse_line(spark, F.col("line"), schema)))
    check, value = F.col("_check"), F.col("_parsed")
    is_row = check.isNull() & value.isNotNull()
    blank = F.coalesce(check == "blank", F.lit(False))  # not null: a line the parser refuses has no check reason
    status = F.when(is_row, F.lit("row")).when(blank, F.lit("blank")).otherwise(F.lit("quarantine"))
    why = F.when(is_row | blank, F.lit(None).cast("string")).otherwise(F.coalesce(check, F.lit("type_mismatch")))
    ledger_reason = F.when(blank, F.lit("blank")).otherwise(why)
    text = F.when(~is_row & ~blank, F.col("line"))
    recorded = checked.select(
        "_path", "_row", status.alias("_status"), why.alias("_reason"), F.when(is_row, value).alias("_record"),
        text.alias("line"),
        F.call_udf(record, F.col("_row"), ledger_reason, F.octet_length("line"), text).alias("_object"))
    known = F.col("_object") >= 0
    index = F.col("_object") + 1

    driver = _jvm(spark).pipeline.json.Driver

    def pick(values: Any, otherwise: Any) -> Any:  # one array literal, built in one JVM call
        return F.when(known, F.element_at(Column(values), index)).otherwise(otherwise)

    return recorded.select(
        "_object", pick(driver.strings(objects.uris), F.col("_path")).alias("_source_file"),
        pick(driver.strings(objects.versions), F.lit(None).cast("string")).alias("_source_version"),
        pick(driver.booleans(objects.numbered), F.lit(False)).alias("_numbered"),
        "_row", "_status", "_reason", "_record", "line")


# ---------------------------------------------------------------------------------------------- schema and names
# The recorded schema is a Spark StructType whose fields carry the names of the JSON (so that the check and the
# parser find them) and, in each field's metadata, "column": the name of that field in the Parquet files and the
# catalog (`name_columns`). It only grows (`merge_schemas`).

def column_name(source: str, taken: set[str]) -> str:
    """The output name of a JSON field: the name itself when it is an identifier (``[A-Za-z_][A-Za-z0-9_]*``) of at
    most MAX_COLUMN_NAME characters whose lower case no sibling has taken; else every other character replaced by
    ``_``, a leading digit prefixed with ``_``, cut to the limit, and ``_2``, ``_3``... appended until no sibling
    has it, ignoring case (Hive, Athena and Glue fold case)."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", source) or "_"
    if base[0].isdigit():
        base = "_" + base
    base = base[:MAX_COLUMN_NAME]
    name, n = base, 2
    while name.lower() in taken:
        suffix = f"_{n}"
        name, n = base[:MAX_COLUMN_NAME - len(suffix)] + suffix, n + 1
    return name


def name_columns(dtype: T.DataType, reserved: Iterable[str] = ()) -> Any:
    """`dtype` with an output name in the metadata of every struct field at every depth: a field keeps the name it
    was recorded with; a new one gets `column_name` among its siblings (and `reserved`, at the top level)."""
    if isinstance(dtype, T.StructType):
        taken = {n.lower() for n in reserved} | {f.metadata["column"].lower() for f in dtype.fields
                                                 if f.metadata.get("column")}
        fields = []
        for f in dtype.fields:
            column = f.metadata.get("column") or column_name(f.name, taken)
            taken.add(column.lower())
            fields.append(T.StructField(f.name, name_columns(f.dataType), True, {**f.metadata, "column": column}))
        return T.StructType(fields)
    if isinstance(dtype, T.ArrayType):
        return T.ArrayType(name_columns(dtype.elementType), True)
    if isinstance(dtype, T.MapType):
        return T.MapType(dtype.keyType, name_columns(dtype.valueType), True)
    return dtype


def merge_schemas(recorded: T.DataType, additions: T.DataType) -> Any:
    """`recorded` with the fields of `additions` it lacks, at every depth (in structs, arrays of structs, map values);
    where both have a field, the recorded type stays (a value of another type is then a type_mismatch)."""
    if isinstance(recorded, T.StructType) and isinstance(additions, T.StructType):
        theirs = {f.name: f for f in additions.fields}
        ours = {f.name for f in recorded.fields}
        fields = [T.StructField(f.name, merge_schemas(f.dataType, theirs[f.name].dataType) if f.name in theirs
                                else f.dataType, True, f.metadata) for f in recorded.fields]
        return T.StructType(fields + [f for f in additions.fields if f.name not in ours])
    if isinstance(recorded, T.ArrayType) and isinstance(additions, T.ArrayType):
        return T.ArrayType(merge_schemas(recorded.elementType, additions.elementType), True)
    if isinstance(recorded, T.MapType) and isinstance(additions, T.MapType):
        return T.MapType(recorded.keyType, merge_schemas(recorded.valueType, additions.valueType), True)
    return recorded


def output_type(dtype: T.DataType, renamed: bool = True) -> Any:
    """The type of a recorded field as written: struct fields under their output names (or, not `renamed`, their
    JSON names), without metadata."""
    if isinstance(dtype, T.StructType):
        return T.StructType([T.StructField(f.metadata.get("column", f.name) if renamed else f.name,
                                           output_type(f.dataType, renamed), True) for f in dtype.fields])
    if isinstance(dtype, T.ArrayType):
        return T.ArrayType(output_type(dtype.elementType, renamed), True)
    if isinstance(dtype, T.MapType):
        return T.MapType(dtype.keyType, output_type(dtype.valueType, renamed), True)
    return dtype


def column_paths(dtype: T.DataType, prefix: str = "") -> set[str]:
    """The dotted output paths of every struct field (``customer.address.city``; ``items[].sku`` in arrays)."""
    out: set[str] = set()
    if isinstance(dtype, T.StructType):
        for f in dtype.fields:
            path = prefix + f.metadata.get("column", f.name)
            out.add(path)
            out |= column_paths(f.dataType, path + ".")
    elif isinstance(dtype, T.ArrayType):
        out |= column_paths(dtype.elementType, prefix.rstrip(".") + "[].")
    elif isinstance(dtype, T.MapType):
        out |= column_paths(dtype.valueType, prefix.rstrip(".") + "{}.")
    return out


def curated_rows(parsed: DataFrame, schema: T.StructType, ingested_at: dt.datetime) -> DataFrame:
    """The Parquet rows: record fields under their output names, `_source_file`, `_source_version` and
    `_ingested_at`. The partition columns are not in the files: every row of the manifest has the same values,
    which name its directory (see `write_partition`)."""
    record = F.col("_record")
    columns = []
    for f in schema.fields:
        value = record.getField(f.name)
        written = output_type(f.dataType)  # a cast renames nested fields; it copies the value, so only when needed
        columns.append((value if written == output_type(f.dataType, renamed=False) else value.cast(written))
                       .alias(f.metadata["column"]))
    return parsed.filter(F.col("_status") == "row").select(
        *columns, F.col("_source_file"), F.col("_source_version"),
        F.lit(ingested_at).cast("timestamp").alias("_ingested_at"))


def write_partition(rows: DataFrame, partition_dir: str, compression: str) -> None:
    """Replaces the manifest's partition directory with `rows` as Parquet, and leaves every other partition alone
    (I4). The manifest is one partition, so its rows are written straight into its directory: a partitioned write
    with dynamic overwrite does the same, but Spark sorts the rows by the partition columns first, which cost
    about a quarter of the write on the benchmark batch (glue-scripts/README.md). No `_SUCCESS` marker: the
    result file says that the run succeeded."""
    (rows.write.mode("overwrite").option("compression", compression)
     .option("mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
     .options(**PARQUET_WRITE_OPTIONS.get(compression, {})).parquet(partition_dir))


def quarantine_rows(parsed: DataFrame) -> DataFrame:
    """The quarantine records: source_file, source_version (null when not pinned), line_number (absent for an
    object split between tasks), reason, line."""
    bad = number_lines(parsed.filter(F.col("_status") == "quarantine"), parsed)
    return bad.select(F.col("_source_file").alias("source_file"), F.col("_source_version").alias("source_version"),
                      "line_number", F.col("_reason").alias("reason"), "line")


def plan_output_files(text_bytes: int, target_file_mb: int, compression: str = PARQUET_COMPRESSION,
                      parallelism: int = 1) -> int:
    """Number of Parquet files for a manifest, from its NDJSON text bytes (counted, so gzip objects count at
    their decompressed size) times the codec's measured Parquet ratio: enough files that none is above the
    target size, at least 1; and, when there is enough data, up to one file per core, as long as each stays at
    least ``MIN_FILE_FRACTION`` of the target. A Parquet file is encoded by one core, so a single file would
    leave the others idle during the write (700 MB of text: 2 files of about 34 MB on 2 or more cores)."""
    ratio = PARQUET_BYTES_PER_TEXT_BYTE.get(compression, max(PARQUET_BYTES_PER_TEXT_BYTE.values()))
    target = target_file_mb * 1024 * 1024
    estimate = text_bytes * ratio
    by_target = math.ceil(estimate / target)
    by_cores = min(max(1, parallelism), math.floor(estimate / (target * MIN_FILE_FRACTION)))
    return max(1, by_target, by_cores)


def right_size(df: DataFrame, files: int, parallelism: int) -> DataFrame:
    """Shapes df into `files` partitions: merge without a shuffle when that keeps every core busy, else shuffle so
    that the work upstream (read, check, parse) still uses every core."""
    return df.coalesce(files) if files >= parallelism else df.repartition(files)


# ------------------------------------------------------------------------------------------------------ catalog

def hive_type(dtype: T.DataType) -> str:
    """The Hive (Glue catalog, Athena) type string of a Spark type."""
    if isinstance(dtype, T.StructType):
        return "struct<" + ",".join(f"{f.name}:{hive_type(f.dataType)}" for f in dtype.fields) + ">"
    if isinstance(dtype, T.ArrayType):
        return f"array<{hive_type(dtype.elementType)}>"
    if isinstance(dtype, T.MapType):
        return f"map<{hive_type(dtype.keyType)},{hive_type(dtype.valueType)}>"
    if isinstance(dtype, T.DecimalType):
        return f"decimal({dtype.precision},{dtype.scale})"
    simple = {T.StringType: "string", T.LongType: "bigint", T.IntegerType: "int", T.ShortType: "smallint",
              T.ByteType: "tinyint", T.DoubleType: "double", T.FloatType: "float", T.BooleanType: "boolean",
              T.TimestampType: "timestamp", T.TimestampNTZType: "timestamp", T.DateType: "date",
              T.BinaryType: "binary", T.NullType: "string"}
    return simple.get(type(dtype), "string")


def catalog_columns(schema: T.StructType) -> list[dict[str, str]]:
    """The table's columns for a recorded schema: its fields under their output names with their Hive types, then
    the columns the job adds (the partition columns are the table's partition keys)."""
    added = {"_source_file": "string", "_source_version": "string", "_ingested_at": "timestamp"}
    return ([{"Name": f.metadata["column"], "Type": hive_type(output_type(f.dataType))} for f in schema.fields]
            + [{"Name": name, "Type": added[name]} for name in ADDED_COLUMNS])


def _s3_scheme(uri: str) -> str:
    for prefix in ("s3a://", "s3n://"):
        if uri.startswith(prefix):
            return "s3://" + uri[len(prefix):]
    return uri


def _storage(columns: list[dict[str, str]], location: str) -> dict[str, Any]:
    return {
        "Columns": columns,
        "Location": location,
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                      "Parameters": {"serialization.format": "1"}},
        "Compressed": True,
    }


@dataclass(frozen=True)
class Recorded:
    """A dataset's recorded schema and the version it was read at (for the next conditional write)."""

    schema: T.StructType
    version: str | None
    table: dict[str, Any] | None = None  # the catalog table it was read from


class SchemaConflict(Exception):
    """The record changed since it was read: read it again and merge again."""


class CatalogSchemaStore:
    """The recorded schema as the dataset's catalog table: its columns (output names, Hive types) for readers, and
    the schema with the JSON's names in the table parameter SCHEMA_PARAMETER, written together. Glue refuses an
    UpdateTable whose VersionId is not the table's current one (ConcurrentModificationException) and a second
    CreateTable (AlreadyExistsException): the optimistic concurrency of `settle_schema`."""

    def __init__(self, glue: Any, database: str, table: str, location: str, changed_by: str = ""):
        self.glue, self.database, self.table, self.location = glue, database, table, _s3_scheme(location)
        self.changed_by = changed_by

    def read(self) -> Recorded | None:
        try:
            table = self.glue.get_table(DatabaseName=self.database, Name=self.table)["Table"]
        except Exception as error:
            if _aws_error_code(error) == "EntityNotFoundException":
                return None
            raise
        text = (table.get("Parameters") or {}).get(SCHEMA_PARAMETER)
        if text:
            schema = T.StructType.fromJson(json.loads(text))
        else:  # a table registered before schemas were recorded: its columns are the record
            columns = [c for c in table.get("StorageDescriptor", {}).get("Columns", [])
                       if c["Name"] not in ADDED_COLUMNS]
            schema = _schema_of_columns(columns)
        return Recorded(schema, str(table.get("VersionId") or ""), table)

    def commit(self, schema: T.StructType, previous: Recorded | None) -> Recorded:
        existing = previous.table if previous is not None else None
        parameters = {**((existing or {}).get("Parameters") or {}), "classification": "parquet", "EXTERNAL": "TRUE",
                      "parquet.compression": "ZSTD", SCHEMA_PARAMETER: json.dumps(schema.jsonValue()),
                      CHANGED_BY_PARAMETER: self.changed_by}
        if existing is None:
            table_input = {"Name": self.table, "TableType": "EXTERNAL_TABLE", "Parameters": parameters,
                           "PartitionKeys": [{"Name": name, "Type": "string"} for name in PARTITION_COLUMNS],
                           "StorageDescriptor": _storage(catalog_columns(schema), self.location)}
            try:
                self.glue.create_table(DatabaseName=self.database, TableInput=table_input)
            except Exception as error:
                if _aws_error_code(error) == "AlreadyExistsException":
                    raise SchemaConflict() from None
                raise
        else:
            table_input = {k: existing[k] for k in ("Name", "Description", "Owner", "Retention", "TableType",
                                                    "PartitionKeys") if k in existing}
            table_input["Parameters"] = parameters
            table_input["StorageDescriptor"] = {**existing["StorageDescriptor"], "Columns": catalog_columns(schema)}
            version = {"VersionId": previous.version} if previous is not None and previous.version else {}
            try:
                self.glue.update_table(DatabaseName=self.database, TableInput=table_input, **version)
            except Exception as error:
                if _aws_error_code(error) == "ConcurrentModificationException":
                    raise SchemaConflict() from None
                raise
        return self.read() or Recorded(schema, None)


class FileSchemaStore:
    """The recorded schema as a file (SCHEMA_FILE under the dataset's curated prefix, which readers skip as they
    skip every name starting with ``_``), for runs without a catalog (tests, the benchmark). Its check of the
    version before a write is not atomic: one run at a time per dataset."""

    def __init__(self, spark: SparkSession, uri: str):
        self.spark, self.uri = spark, uri

    def read(self) -> Recorded | None:
        fs, path = _fs_path(self.spark, self.uri)
        if not fs.exists(path):
            return None
        doc = json.loads(read_small_file(self.spark, self.uri))
        return Recorded(T.StructType.fromJson(doc["schema"]), str(doc["version"]))

    def commit(self, schema: T.StructType, previous: Recorded | None) -> Recorded:
        current = self.read()
        if (current.version if current else None) != (previous.version if previous else None):
            raise SchemaConflict()
        version = str(int(current.version or 0) + 1 if current else 1)
        write_small_file(self.spark, self.uri, json.dumps({"version": version, "schema": schema.jsonValue()}))
        return Recorded(schema, version)


def _schema_of_columns(columns: list[dict[str, str]]) -> T.StructType:
    fields = []
    for c in columns:
        dtype = T._parse_datatype_string(c["Type"]) if c["Type"] else T.StringType()
        fields.append(T.StructField(c["Name"], dtype, True, {"column": c["Name"]}))
    return name_columns(T.StructType(fields), ADDED_COLUMNS + PARTITION_COLUMNS)


def settle_schema(store: Any, additions: T.StructType, attempts: int = CATALOG_ATTEMPTS,
                  backoff_seconds: float = CATALOG_BACKOFF_SECONDS, added: set[str] | None = None) -> Recorded:
    """Records the dataset's schema merged with `additions` (`merge_schemas`, `name_columns`) and returns the
    record; when another run changed the record in between, reads it again and merges again, after a jittered
    backoff, so that no run's field is lost. A record that already holds every addition is not written. `added`,
    when given, receives the output paths this call added to the record (none when another run added them first)."""
    for attempt in range(attempts):
        if attempt:
            time.sleep(random.uniform(0, min(5.0, backoff_seconds * 2 ** attempt)))  # full jitter
        current = store.read()
        base = current.schema if current is not None else T.StructType([])
        merged = name_columns(merge_schemas(base, additions), ADDED_COLUMNS + PARTITION_COLUMNS)
        if current is not None and merged == current.schema:
            return current
        try:
            committed = store.commit(merged, current)
        except SchemaConflict:
            continue
        if added is not None:
            added |= column_paths(merged) - column_paths(base)
        return committed
    raise JobError(f"the recorded schema changed under every one of {attempts} attempts to record it")


def register_partition(glue: Any, database: str, table: str, columns: list[dict[str, str]], ingest_date: str,
                       manifest_id: str, partition_location: str) -> None:
    """Creates or replaces the manifest's partition, with the table's columns as the run wrote them."""
    partition = {"Values": [ingest_date, manifest_id],
                 "StorageDescriptor": _storage(columns, _s3_scheme(partition_location))}
    try:
        glue.create_partition(DatabaseName=database, TableName=table, PartitionInput=partition)
    except Exception as error:
        if _aws_error_code(error) != "AlreadyExistsException":
            raise
        glue.update_partition(DatabaseName=database, TableName=table,
                              PartitionValueList=[ingest_date, manifest_id], PartitionInput=partition)


def _glue_client():
    import boto3  # imported here: the conversion itself does not need it

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return boto3.client("glue", region_name=region)  # honours AWS_ENDPOINT_URL in the local mode


def _s3_client():
    import boto3
    from botocore.config import Config

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    # Path-style addressing against an emulator (AWS_ENDPOINT_URL, which boto3 honours), as the S3A reader uses.
    config = Config(s3={"addressing_style": "path"}) if os.environ.get("AWS_ENDPOINT_URL") else None
    return boto3.client("s3", region_name=region, config=config)


# ---------------------------------------------------------------------------------------------------------- run

def _join(base: str, *parts: str) -> str:
    return base.rstrip("/") + "/" + "/".join(p.strip("/") for p in parts) + "/"


def run(spark: SparkSession, params: JobParams, glue_client_factory=_glue_client,
        numbered_file_max_bytes: int = NUMBERED_FILE_MAX_BYTES, stages: dict[str, float] | None = None,
        s3_client_factory=_s3_client) -> dict[str, Any]:
    """Converts the manifest, writes the result file and returns the result (docs/architecture.md).

    `stages`, when given, receives the seconds spent per stage (for the benchmark; not part of the result)."""
    started = time.monotonic()
    stages = {} if stages is None else stages
    mark = [started]

    def stage(name: str) -> None:
        now = time.monotonic()
        stages[name] = round(now - mark[0], 3)
        mark[0] = now

    ingested_at = dt.datetime.now(dt.UTC)
    spark.conf.set("spark.sql.caseSensitive", "true")  # JSON keys are; `a` and `A` would otherwise clash

    try:
        text = read_small_file(spark, params.manifest_uri)
    except Exception as error:  # py4j wraps FileNotFoundException, AccessDenied, ...
        message = f"cannot read manifest {params.manifest_uri}: {_java_message(error)}"
        if _hadoop_failure_reason(error) == MISSING:
            raise ManifestError(message) from None
        raise JobError(message) from None
    listed = parse_manifest(text, params.manifest_id)

    table_root = _join(params.curated_path, params.dataset)
    partition_dir = _join(table_root, f"ingest_date={params.ingest_date}", f"manifest_id={params.manifest_id}")
    quarantine_dir = _join(params.quarantine_path, params.dataset, f"manifest_id={params.manifest_id}")

    pinned, policy = None, EVOLVE
    schema_uri = params.schema_uri or find_dataset_schema(spark, params.schema_prefix, params.dataset)
    if schema_uri:
        try:
            schema_text = read_small_file(spark, schema_uri)
        except Exception as error:
            raise JobError(f"cannot read schema {schema_uri}: {_java_message(error)}") from None
        pinned, policy = load_pinned(spark, schema_text)
    register_line_check(spark, T.StructType([]))  # fails the run at once when the check is not on the classpath
    if params.catalog_database:
        store: Any = CatalogSchemaStore(glue_client_factory(), params.catalog_database, params.dataset, table_root,
                                        params.manifest_id)
    else:
        store = FileSchemaStore(spark, table_root + SCHEMA_FILE)
    plan = SchemaPlan(store, pinned, policy)

    s3 = _once(s3_client_factory)
    staging = Staging(params.staging_path or default_staging_path(params.curated_path), params.dataset,
                      params.manifest_id, s3)
    try:
        files, failed = check_files(spark, listed, staging, s3)
        files, converted = _convert_readable(
            spark, params, listed, files, failed, s3,
            lambda readable: _convert(spark, params, readable, plan, ingested_at, partition_dir, quarantine_dir,
                                      numbered_file_max_bytes, stage))
    finally:
        staging.clean_up()
    lines_in, blank_lines, reasons, schema = converted
    columns = catalog_columns(schema)

    # Read back from the files written, not from the pass's own counts: the check covers the writes.
    written, conf = _jvm(spark).pipeline.json.Written, _java(spark)._jsc.hadoopConfiguration()
    out_files, out_bytes, rows_out = (int(n) for n in written.parquet(partition_dir, conf))  # rows: the footers
    quarantine_files, _, rows_quarantined = (int(n) for n in written.text(quarantine_dir, conf))

    counts = {"linesIn": lines_in, "rowsOut": rows_out, "rowsQuarantined": rows_quarantined,
              "blankLines": blank_lines}
    if lines_in != rows_out + rows_quarantined + blank_lines:
        raise AccountingError(f"manifest {params.manifest_id}: lines do not add up: {counts}")
    stage("check")

    if params.catalog_database and out_files:
        register_partition(store.glue, params.catalog_database, params.dataset, columns, params.ingest_date,
                           params.manifest_id, partition_dir)

    result = {
        "manifestId": params.manifest_id,
        **counts,
        "outputFiles": out_files, "outputBytes": out_bytes, "quarantineFiles": quarantine_files,
        "filesRead": len(files), "filesFailed": len(failed), "failedFiles": [f.as_result() for f in failed],
        "quarantineReasons": reasons,
        "schema": {"policy": policy, "columns": len(schema.fields),
                   "added": sorted(plan.added)},
        "durationSeconds": round(time.monotonic() - started, 3),
    }
    write_small_file(spark, params.result_uri, json.dumps(result))
    return result


def _convert_readable(spark: SparkSession, params: JobParams, listed: Sequence[ManifestFile],
                      files: list[ManifestFile], failed: list[FailedFile], s3: Callable[[], Any],
                      convert: Callable[[list[ManifestFile]], Any]) -> tuple[list[ManifestFile], Any]:
    """Runs `convert` on the files, setting aside (into `failed`) each one that turns out unreadable or too large,
    and returns the files converted and what `convert` returned. A file Spark cannot read fails the Spark job, whose
    error names the file: it is set aside and the rest read again. Each pass either converts or removes at least
    one file, so there are at most len(files) + 1."""
    while True:
        if listed and not files:
            raise NoReadableFileError(_no_file_message(params.manifest_id, failed))
        try:
            converted = convert(files)
            verify_pins(s3, files)
            return files, converted
        except FilesTooLargeError as error:
            set_aside = error.failed
        except Exception as error:
            named = file_named_in(spark, error, files)
            if named is None:
                raise
            set_aside = [named]
        for f in set_aside:
            print(f"ndjson_to_parquet: {f.file.uri} not converted ({f.reason}): {f.message}", file=sys.stderr,
                  flush=True)
        files = [f for f in files if all(f is not t.file for t in set_aside)]
        failed += set_aside


def _once(factory: Callable[[], Any]) -> Callable[[], Any]:
    """`factory`'s value, made on first use (from any thread) and kept."""
    made: list[Any] = []
    lock = threading.Lock()

    def get() -> Any:
        with lock:
            if not made:
                made.append(factory())
            return made[0]
    return get


def _no_file_message(manifest_id: str, failed: Sequence[FailedFile]) -> str:
    shown = ", ".join(f"{f.file.uri} ({f.reason})" for f in failed[:3])
    more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
    return f"manifest {manifest_id}: no file could be read: {shown}{more}"


@dataclass
class SchemaPlan:
    """Where the dataset's schema is recorded, the pinned schema and policy, and the output paths this run added to
    the record (the result lists them)."""

    store: Any
    pinned: T.StructType | None
    policy: str
    added: set[str] = field(default_factory=set)


def sample_objects(spark: SparkSession, lines: DataFrame, max_line_bytes: int,
                   count: int = INFERENCE_SAMPLE_LINES) -> DataFrame:
    """The first `count` lines of `lines` (Spark reads no further than it needs) that are JSON objects, as a small
    local dataset (column `line`) for the first manifest's inference."""
    java_lines = getattr(lines.select("line")._jdf, "as")(_jvm(spark).org.apache.spark.sql.Encoders.STRING())
    local = _java(spark)._jsparkSession.createDataset(java_lines.limit(count).collectAsList(),
                                                       _jvm(spark).org.apache.spark.sql.Encoders.STRING())
    sample = DataFrame(local.toDF(), spark).withColumnRenamed("value", "line")
    check = check_line(spark, T.StructType([]), max_line_bytes)
    return sample.filter(check.isNull() | (check == "unknown_field")).select("line")


def estimated_text_bytes(files: Sequence[ManifestFile]) -> int:
    """The NDJSON text bytes of `files` before they are read: their sizes, a gzip object's times GZIP_TEXT_PER_BYTE."""
    return sum((f.size or 0) * (GZIP_TEXT_PER_BYTE if _is_gzip(f.source) else 1) for f in files)


@dataclass
class Pass:
    """What one conversion pass saw (pipeline.json.Ledger): lines and bytes per reason (``row``, ``blank`` and the
    quarantine reasons), text bytes per object, and the ledger itself, which holds the quarantined lines."""

    ledger: Any
    parsed: DataFrame
    reasons: dict[str, tuple[int, int]]
    object_text_bytes: list[int]

    def lines(self, reason: str) -> int:
        return self.reasons.get(reason, (0, 0))[0]

    def quarantine(self) -> dict[str, tuple[int, int]]:
        """Lines and bytes per quarantine reason (every reason but ``row`` and ``blank``)."""
        return {reason: counts for reason, counts in self.reasons.items() if reason not in ("row", "blank")}

    def text_of(self, spark: SparkSession, reasons: Sequence[str]) -> DataFrame:
        """The quarantined lines with one of `reasons` (column `line`): from the ledger, or, when a task could not
        keep them all, from a pass of their own."""
        if not self.ledger.overflowed():
            kept = self.ledger.lines(_java(spark)._jsparkSession, list(reasons)).toDF()
            return DataFrame(kept, spark).withColumnRenamed("value", "line")
        return self.parsed.filter(F.col("_reason").isin(*reasons)).select("line")


def convert_pass(spark: SparkSession, params: JobParams, lines: DataFrame, objects: Objects, schema: T.StructType,
                 ingested_at: dt.datetime, partition_dir: str, output_files: int, task_bytes: int) -> Pass:
    """One pass over the text: checks, parses and writes the rows into the partition (replacing it), and records
    every line in a ledger on the way (`register_ledger`, keeping up to `task_bytes` of quarantined text a task):
    the counts, and the quarantined lines."""
    ledger, record = register_ledger(spark, objects, task_bytes)
    parsed = parse_records(spark, lines, objects, schema, record, params.max_line_bytes)
    parallelism = spark.sparkContext.defaultParallelism
    write_partition(right_size(curated_rows(parsed, schema, ingested_at), output_files, parallelism), partition_dir,
                    params.compression)
    counts = json.loads(ledger.counts())
    reasons = {str(reason): (int(n), int(b)) for reason, (n, b) in counts["reasons"].items()}
    reasons["row"] = (int(counts["rows"]), int(counts["rowBytes"]))
    object_text = [int(b) + int(n) for b, n in zip(counts["objectBytes"], counts["objectLines"], strict=True)]
    return Pass(ledger, parsed, reasons, object_text)


def write_quarantine(spark: SparkSession, params: JobParams, done: Pass, lines: DataFrame, objects: Objects,
                     schema: T.StructType, quarantine_dir: str) -> None:
    """Replaces the manifest's quarantine with the lines `done` quarantined: written from the ledger as one file,
    or, when a task could not keep them all, read again in a pass of their own and written by Spark."""
    delete_path(spark, quarantine_dir)
    quarantine = done.quarantine()
    if not quarantine:
        return
    if not done.ledger.overflowed():
        done.ledger.writeQuarantine(quarantine_dir + "part-00000.json", _java(spark)._jsc.hadoopConfiguration(),
                                    list(objects.uris), list(objects.versions), list(objects.numbered))
        return
    _, record = register_ledger(spark, objects, 0)  # counts again, which nothing reads; keeps no text
    parsed = parse_records(spark, lines, objects, schema, record, params.max_line_bytes)
    bad_bytes = sum(b for _, b in quarantine.values())
    bad_files = max(1, math.ceil(bad_bytes / (params.target_file_mb * 1024 * 1024)))
    (quarantine_rows(parsed).coalesce(bad_files).write.mode("overwrite")
     .option("compression", "none").json(quarantine_dir))


def _convert(spark: SparkSession, params: JobParams, files: Sequence[ManifestFile], plan: SchemaPlan,
             ingested_at: dt.datetime, partition_dir: str, quarantine_dir: str, numbered_file_max_bytes: int,
             stage: Callable[[str], None]) -> tuple[int, int, dict[str, int], T.StructType]:
    """Reads `files`, records the dataset's schema as far as they need (I8), writes the partition and the
    quarantine; returns linesIn, blankLines, the quarantined lines by reason and the schema written. Fails, naming
    the file, when Spark cannot read one of them.

    One pass over the text checks, parses and writes the rows, and counts every line on the way (`convert_pass`).
    The schema is the record when there is one, merged with the pinned schema. For the dataset's first manifest
    without a pinned schema, it is Spark's inference over the manifest's first lines; when the pass then finds lines
    that this schema cannot hold (fields it lacks, values of another type), the schema is inferred again over those
    lines and the sample, with Spark's widening rules, and the pass runs again; then it is recorded. Under the evolve
    policy, lines with fields the record lacks are inferred on their own, the record gains those fields
    (`settle_schema`) and the pass runs again: every Parquet file holds the table's types, and the table has every
    column a file holds. The counts, the check of gzip objects' size and the quarantine come from the last pass."""
    lines, objects = read_lines(spark, files, numbered_file_max_bytes)
    reserved = ADDED_COLUMNS + PARTITION_COLUMNS
    recorded = plan.store.read()
    sample: DataFrame | None = None  # the first lines, while the first manifest's schema is not recorded yet
    if recorded is None and plan.pinned is None:
        sample = sample_objects(spark, lines, params.max_line_bytes)
        schema = name_columns(infer_schema(spark, sample), reserved)
    else:
        if recorded is None or plan.pinned is not None:
            recorded = settle_schema(plan.store, plan.pinned or T.StructType([]), added=plan.added)
        schema = recorded.schema
    stage("schema")
    output_files = plan_output_files(estimated_text_bytes(files), params.target_file_mb, params.compression,
                                     spark.sparkContext.defaultParallelism)
    task_bytes = max(QUARANTINE_TASK_MIN_BYTES, QUARANTINE_KEPT_BYTES // max(1, lines.rdd.getNumPartitions()))
    widenings = evolutions = 0
    while True:
        done = convert_pass(spark, params, lines, objects, schema, ingested_at, partition_dir, output_files,
                            task_bytes)
        stage("convert")
        oversize = [f for f, text in zip(files, done.object_text_bytes, strict=True)
                    if _is_gzip(f.source) and text > params.max_decompressed_bytes]
        if oversize:
            raise FilesTooLargeError([FailedFile(f, TOO_LARGE, f"decompresses to more than "
                                                 f"{params.max_decompressed_bytes} bytes") for f in oversize])
        unknown = done.lines("unknown_field")
        if sample is not None:
            if (unknown or done.lines("type_mismatch")) and widenings < WIDENING_PASSES:
                widenings += 1
                misfits = done.text_of(spark, ("unknown_field", "type_mismatch"))
                widened = name_columns(infer_schema(spark, sample.unionByName(misfits)), reserved)
                if widened != schema:
                    print("ndjson_to_parquet: the inferred schema widened to hold lines the first lines' schema "
                          "could not", file=sys.stderr, flush=True)
                    schema = widened
                    continue
            sample = None
            recorded = settle_schema(plan.store, schema, added=plan.added)
            if recorded.schema != schema:  # another run recorded the dataset's schema first
                schema = recorded.schema
                continue
        if plan.policy == EVOLVE and unknown and evolutions < EVOLUTION_PASSES - 1:
            evolutions += 1
            additions = infer_schema(spark, done.text_of(spark, ("unknown_field",)))
            evolved = settle_schema(plan.store, additions, added=plan.added).schema
            if evolved != schema:
                print(f"ndjson_to_parquet: schema evolved: added "
                      f"{', '.join(sorted(column_paths(evolved) - column_paths(schema)))}",
                      file=sys.stderr, flush=True)
                schema = evolved
                continue
        break
    if not done.lines("row"):
        delete_path(spark, partition_dir)  # nothing to write: the partition goes (an empty file may have been left)
    write_quarantine(spark, params, done, lines, objects, schema, quarantine_dir)
    stage("quarantine")
    lines_in = sum(n for n, _ in done.reasons.values())
    reasons = {reason: n for reason, (n, _) in sorted(done.quarantine().items())}
    return lines_in, done.lines("blank"), reasons, schema


def _session() -> tuple[SparkSession, Any]:
    if GlueContext is not None:
        from pyspark.context import SparkContext

        glue_context = GlueContext(SparkContext.getOrCreate())
        return glue_context.spark_session, glue_context
    builder: Any = SparkSession.builder
    return builder.appName("ndjson_to_parquet").getOrCreate(), None


def failure_line(error: BaseException) -> str:
    """The job's last stderr line, which becomes the run's ErrorMessage: ``ndjson_to_parquet failed: <reason>``,
    with NOT_RETRYABLE_MARKER before the reason of a deterministic failure (the state machine does not retry it)."""
    message = str(error) if isinstance(error, JobError) else f"{type(error).__name__}: {_java_message(error)}"
    marker = f"{NOT_RETRYABLE_MARKER} " if isinstance(error, JobError) and not error.retryable else ""
    return f"ndjson_to_parquet failed: {marker}{' '.join(message.split())[:1000]}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit 0 with the counts on stdout, or 1 with a one-line reason as the last line of stderr."""
    argv = list(sys.argv if argv is None else argv)
    try:
        params = parse_args(argv)
        spark, glue_context = _session()
        job = None
        if glue_context is not None and Job is not None and getResolvedOptions is not None and "--JOB_NAME" in argv:
            job = Job(glue_context)
            job.init(getResolvedOptions(argv, ["JOB_NAME"])["JOB_NAME"], {})
        result = run(spark, params)
        if job is not None:
            job.commit()
    except Exception as error:  # the runner reports the last stderr line as the job run's ErrorMessage
        print(failure_line(error), file=sys.stderr, flush=True)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
