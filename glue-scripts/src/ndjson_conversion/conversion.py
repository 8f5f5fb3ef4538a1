"""The conversion of the manifest's readable files: one pass over the text that checks, parses and writes the rows
and counts every line, run again only when the dataset's schema changes (I5, I8); files Spark cannot read are set
aside as failed files and the rest converted again. docs/architecture.md, "Glue job".
"""
from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from . import jvm
from .accounting import PassTally, check_every_object_read, quarantine_task_bytes
from .arguments import JobParams
from .catalog import SchemaStore, settle_schema
from .errors import NoReadableFileError
from .file_checks import file_named_in
from .lines import (
    SourceObject,
    estimated_text_bytes,
    is_gzip,
    parse_records,
    plan_read_split_bytes,
    read_lines,
    read_split_settings,
    sample_objects,
    source_objects,
)
from .manifest import FailedFile, ManifestFile
from .output import (
    ADDED_COLUMNS,
    PARTITION_COLUMNS,
    curated_rows,
    plan_output_files,
    quarantine_rows,
    right_size,
    write_partition,
)
from .pinning import verify_pins
from .schema import (
    EVOLVE,
    SCHEMA_LIMIT,
    capped_additions,
    column_paths,
    infer_schema,
    leaf_count,
    name_columns,
    new_leaves,
)

# Runs of the conversion with an evolved schema before the remaining unknown fields are quarantined.
EVOLUTION_PASSES = 3
# The first manifest's inferred schema is widened from the lines it cannot hold at most WIDENING_PASSES times.
WIDENING_PASSES = 2


@dataclass
class SchemaPlan:
    """Where the dataset's schema is recorded, the pinned schema and policy, and the output paths this run added to
    the record (the result lists them)."""

    store: SchemaStore
    pinned: T.StructType | None
    policy: str
    added: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class RunContext:
    """What every step of one run shares: the session, the arguments, the schema plan, the run's start time (the
    rows' ``_ingested_at``), its output directories, the largest object read by one task, the stage timer and the S3
    client."""

    spark: SparkSession
    params: JobParams
    schema_plan: SchemaPlan
    ingested_at: dt.datetime
    partition_dir: str
    quarantine_dir: str
    numbered_file_max_bytes: int
    stage: Callable[[str], None]  # marks the end of a stage of the run (the benchmark's figures)
    s3: Callable[[], Any]  # the run's boto3 S3 client, made on first use


@dataclass(frozen=True)
class ConversionOutcome:
    """The counts of the last conversion pass and the schema it wrote."""

    lines_in: int
    blank_lines: int
    quarantined_by_reason: dict[str, int]
    schema: T.StructType


def convert_pass(context: RunContext, lines: DataFrame, objects: Sequence[SourceObject], schema: T.StructType,
                 output_files: int, task_bytes: int, unknown_reason: str = "unknown_field") -> PassTally:
    """One pass over the text: checks, parses and writes the rows into the partition (replacing it), and records
    every line in a ledger on the way (keeping up to `task_bytes` of quarantined text a task): the counts, and the
    quarantined lines (a line with a field the schema lacks as `unknown_reason`)."""
    spark, params = context.spark, context.params
    ledger = jvm.register_ledger(spark, [o.spark_path for o in objects], task_bytes)
    parsed = parse_records(spark, lines, objects, schema, ledger.record_function, params.max_line_bytes,
                           unknown_reason)
    parallelism = spark.sparkContext.defaultParallelism
    write_partition(right_size(curated_rows(parsed, schema, context.ingested_at), output_files, parallelism),
                    context.partition_dir, params.compression)
    return PassTally.of(ledger, parsed)


def write_quarantine(context: RunContext, tally: PassTally, lines: DataFrame, objects: Sequence[SourceObject],
                     schema: T.StructType, unknown_reason: str = "unknown_field") -> None:
    """Replaces the manifest's quarantine with the lines `tally` quarantined: written from the ledger as one file,
    or, when a task could not keep them all, read again in a pass of their own and written by Spark."""
    spark, params, quarantine_dir = context.spark, context.params, context.quarantine_dir
    jvm.delete_path(spark, quarantine_dir)
    quarantine = tally.quarantine()
    if not quarantine:
        return
    if not tally.ledger.overflowed():
        tally.ledger.write_quarantine(quarantine_dir + "part-00000.json", [o.uri for o in objects],
                                      [o.version_id for o in objects], [o.lines_numbered for o in objects])
        return
    recount = jvm.register_ledger(spark, [o.spark_path for o in objects], 0)  # counts again, unread; keeps no text
    parsed = parse_records(spark, lines, objects, schema, recount.record_function, params.max_line_bytes,
                           unknown_reason)
    quarantined_bytes = sum(b for _, b in quarantine.values())
    quarantine_files = max(1, math.ceil(quarantined_bytes / (params.target_file_mb * 1024 * 1024)))
    (quarantine_rows(parsed).coalesce(quarantine_files).write.mode("overwrite")
     .option("compression", "none").json(quarantine_dir))


def _log(message: str) -> None:
    print(f"ndjson_to_parquet: {message}", file=sys.stderr, flush=True)


def _read(context: RunContext, files: Sequence[ManifestFile]) -> tuple[DataFrame, list[SourceObject]]:
    """The lines of `files` and the objects they come from, read under the split settings the files need."""
    spark = context.spark
    split_bytes = plan_read_split_bytes(files, spark.sparkContext.defaultParallelism, context.numbered_file_max_bytes)
    if files:  # session-wide settings, which the run's one read needs
        for key, value in read_split_settings(split_bytes).items():
            spark.conf.set(key, value)
    objects = source_objects(spark, files, split_bytes)
    return read_lines(spark, files, context.params.max_decompressed_bytes), objects


def _starting_schema(context: RunContext, lines: DataFrame) -> tuple[T.StructType, DataFrame | None, bool]:
    """The schema of the first pass, the first lines while the dataset's schema is not recorded yet, and whether
    the cap left fields out: the record merged with the pinned schema, else (the first manifest without a pinned
    schema) inferred from the first lines, as far as the cap takes it."""
    spark, plan = context.spark, context.schema_plan
    recorded = plan.store.read()
    if recorded is None and plan.pinned is None:
        sample = sample_objects(spark, lines, context.params.max_line_bytes)
        inferred = infer_schema(spark, sample)
        schema = _inferred(context, inferred)
        return schema, sample, new_leaves(schema, inferred) > 0
    if recorded is None or plan.pinned is not None:
        recorded = settle_schema(plan.store, plan.pinned or T.StructType([]), added=plan.added)
    return recorded.schema, None, False


def _inferred(context: RunContext, inferred: T.StructType) -> T.StructType:
    """The first manifest's schema from an inferred one: as much of it as the cap takes (`capped_additions`), named."""
    capped = capped_additions(T.StructType([]), inferred, context.params.max_schema_fields)
    return name_columns(capped, ADDED_COLUMNS + PARTITION_COLUMNS)


def _evolve(context: RunContext, tally: PassTally, schema: T.StructType) -> tuple[T.StructType, int]:
    """The record with the fields of the lines `tally` quarantined as unknown_field, as far as the cap takes them
    (`settle_schema`), and how many leaves the cap left out."""
    max_fields, plan = context.params.max_schema_fields, context.schema_plan
    additions = infer_schema(context.spark, tally.quarantined_lines(("unknown_field",)))
    evolved = settle_schema(plan.store, additions, added=plan.added, max_fields=max_fields).schema
    left_out = new_leaves(evolved, additions)
    if evolved != schema:
        _log(f"schema evolved: added {', '.join(sorted(column_paths(evolved) - column_paths(schema)))}")
    if left_out:
        _log(f"the schema is at its cap of {max_fields} leaf fields: {left_out} more not added, their lines "
             f"quarantined as {SCHEMA_LIMIT}")
    return evolved, left_out


def convert_files(context: RunContext, files: Sequence[ManifestFile]) -> ConversionOutcome:
    """Reads `files`, records the dataset's schema as far as they need (I8), writes the partition and the
    quarantine; returns the last pass's counts and the schema written. Fails, naming the file, when Spark cannot
    read one of them.

    One pass over the text checks, parses and writes the rows, and counts every line on the way (`convert_pass`).
    The schema is the record when there is one, merged with the pinned schema. For the dataset's first manifest
    without a pinned schema, it is Spark's inference over the manifest's first lines; when the pass then finds lines
    that this schema cannot hold (fields it lacks, values of another type), the schema is inferred again over those
    lines and the sample, with Spark's widening rules, and the pass runs again; then it is recorded. Under the evolve
    policy, lines with fields the record lacks are inferred on their own, the record gains those fields
    (`settle_schema`) and the pass runs again: every Parquet file holds the table's types, and the table has every
    column a file holds. The schema grows from the data only up to --max_schema_fields leaves (`capped_additions`):
    once fields were left out for it, the pass runs again with the lines holding any field the schema lacks
    quarantined as ``schema_limit`` instead of ``unknown_field`` (under evolve, every such field is one the cap left
    out). The counts and the quarantine come from the last pass. A gzip object that decompresses past
    --max_decompressed_bytes fails the pass where its read reaches the cap (`lines.read_text`)."""
    spark, params, plan = context.spark, context.params, context.schema_plan
    parallelism = spark.sparkContext.defaultParallelism
    lines, objects = _read(context, files)
    schema, sample, capped = _starting_schema(context, lines)
    context.stage("schema")
    output_files = plan_output_files(estimated_text_bytes(files), params.target_file_mb, params.compression,
                                     parallelism)
    task_bytes = quarantine_task_bytes(lines.rdd.getNumPartitions())
    widenings = evolutions = 0
    max_fields = params.max_schema_fields
    # The reason of a line with a field the schema lacks: schema_limit once the cap has left fields out, or when
    # evolution could add none (the record is full).
    capped = capped or (sample is None and plan.policy == EVOLVE and leaf_count(schema) >= max_fields)
    while True:
        limit = SCHEMA_LIMIT if capped else "unknown_field"
        tally = convert_pass(context, lines, objects, schema, output_files, task_bytes, limit)
        context.stage("convert")
        unknown = tally.lines("unknown_field")
        if sample is not None:
            if (unknown or tally.lines("type_mismatch")) and widenings < WIDENING_PASSES:
                widenings += 1
                misfits = tally.quarantined_lines(("unknown_field", "type_mismatch"))
                inferred = infer_schema(spark, sample.unionByName(misfits))
                widened = _inferred(context, inferred)
                capped = capped or new_leaves(widened, inferred) > 0
                if widened != schema:
                    _log("the inferred schema widened to hold lines the first lines' schema could not")
                    schema = widened
                    continue
            sample = None
            recorded = settle_schema(plan.store, schema, added=plan.added, max_fields=max_fields)
            capped = capped or new_leaves(recorded.schema, schema) > 0  # another run's record left no room for some
            if recorded.schema != schema:  # another run recorded the dataset's schema first
                schema = recorded.schema
                continue
        if plan.policy == EVOLVE and unknown and evolutions < EVOLUTION_PASSES - 1:
            evolutions += 1
            evolved, left_out = _evolve(context, tally, schema)
            if evolved != schema or (left_out and not capped):  # a new schema, or the same with another reason
                capped = capped or left_out > 0
                schema = evolved
                continue
        break
    check_every_object_read(params.manifest_id, files, objects, tally.object_lines, lines.inputFiles())
    if not tally.lines("row"):
        jvm.delete_path(spark, context.partition_dir)  # nothing to write: the partition goes (an empty file may stay)
    write_quarantine(context, tally, lines, objects, schema, limit)
    context.stage("quarantine")
    reasons = {reason: n for reason, (n, _) in sorted(tally.quarantine().items())}
    return ConversionOutcome(tally.lines_in(), tally.lines("blank"), reasons, schema)


def convert_readable_files(context: RunContext, listed: Sequence[ManifestFile], files: list[ManifestFile],
                           failed: list[FailedFile]) -> tuple[list[ManifestFile], ConversionOutcome]:
    """Converts the files (`convert_files`), setting aside (into `failed`) each one that turns out unreadable or too
    large, and returns the files converted and the outcome. A file Spark cannot read, or a gzip object whose read
    reaches the cap, fails the Spark job, whose error names the file: it is set aside and the rest read again. Each
    pass either converts or removes at least one file, so there are at most len(files) + 1."""
    max_bytes = context.params.max_decompressed_bytes
    if any(is_gzip(f.source) for f in files):
        _log(f"gzip objects are read up to {max_bytes} decompressed bytes each, by Hadoop's "
             f"{jvm.gzip_decompressor(context.spark)}")
    while True:
        if listed and not files:
            raise NoReadableFileError(no_file_message(context.params.manifest_id, failed), failed)
        try:
            outcome = convert_files(context, files)
            verify_pins(context.s3, files)
            return files, outcome
        except Exception as error:
            named = file_named_in(context.spark, error, files, max_bytes)
            if named is None:
                raise
        _log(f"{named.file.uri} not converted ({named.reason}): {named.message}")
        files = [f for f in files if f is not named.file]
        failed.append(named)


def no_file_message(manifest_id: str, failed: Sequence[FailedFile]) -> str:
    shown = ", ".join(f"{f.file.uri} ({f.reason})" for f in failed[:3])
    more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
    return f"manifest {manifest_id}: no file could be read: {shown}{more}"
