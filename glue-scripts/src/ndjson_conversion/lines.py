"""Reading the manifest's objects as lines and checking and parsing each one (I5): Spark's line reader, the JVM
line check (CheckLine) and parser (ParseLine); docs/architecture.md, "Glue job" and "Quarantine reasons".

Pure functions of DataFrames: the session settings the read needs (`read_split_settings`) are applied by the run.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from . import jvm
from .errors import ENGINE_INCOMPATIBLE, EngineIncompatibleError, NotRetryableError
from .manifest import ManifestFile

# Plain objects up to this size are read by one task each, which numbers their lines; larger ones are split.
NUMBERED_FILE_MAX_BYTES = 128 * 1024 * 1024
DEFAULT_MAX_LINE_BYTES = 1024 * 1024
# NDJSON text bytes per byte of a gzip object, to plan the Parquet files before the text is read (about 1:5 to 1:10
# for JSON; the lower figure keeps files at or below the target).
GZIP_TEXT_PER_BYTE = 5
# The dataset's first manifest: its schema is inferred from its first INFERENCE_SAMPLE_LINES lines (see
# conversion.convert_files).
INFERENCE_SAMPLE_LINES = 10_000


@dataclass(frozen=True)
class SourceObject:
    """One object a read covers, at its index in the read: the manifest's URI, the pinned version (None when not
    pinned), the path Spark reports for it (``_metadata.file_path``), and whether its lines are numbered (it is read
    by a single task)."""

    uri: str
    version_id: str | None
    spark_path: str
    lines_numbered: bool


# Characters that make Spark glob a path (Hadoop's GlobPattern; SparkHadoopUtil.isGlobPath tests for them).
GLOB_CHARACTERS = frozenset("{}[]*?\\")


def read_text(spark: SparkSession, sources: Sequence[str], max_decompressed_bytes: int) -> DataFrame:
    """Spark's line reader over exactly the objects named by `sources` (no globbing, no escaping): `value`, and
    `_path`, each line's file from its scan's ``_metadata.file_path`` (taken in each read, before the union).

    A `.gz` object is decompressed by ``CappedGzipCodec`` (`jvm.capped_gzip_read_options`, the reader's options): its
    read stops once it has yielded `max_decompressed_bytes` and the Spark job fails with the codec's exception
    (jvm.DECOMPRESSED_TOO_LARGE_CLASS, naming the object), which the run turns into a ``too_large`` file; no object
    is inflated further than that, whichever read of the run (conversion, sample, the search for a bad file) it is.

    Spark 3.5 globs a path with a glob character (DataSource.checkAndGlobPathIfNecessary,
    sql/core/src/main/scala/org/apache/spark/sql/execution/datasources/DataSource.scala), and Hadoop's Globber
    parses each path component as a Path of its own, so a name with `:` fails the read (`t:[1].ndjson`: "Relative
    path in absolute URI"), escaped or not. The reader's option ``__globPaths__=false`` (DataSource.GLOB_PATHS_KEY)
    turns globbing off, but with it Spark 3.5 returns every path of the read once per path with a glob character
    (``globResult = qualifiedPaths``), so objects would be read twice: measured on pyspark 3.5.6, three paths of
    which two have glob characters read the third three times. So paths without glob characters are read together
    as they are, and each path with one in a read of its own with globbing off; the reads are united, each of its
    tasks still reading one object or a split of one."""
    try:
        gzip_options = jvm.capped_gzip_read_options(spark, max_decompressed_bytes)
    except Exception as error:  # py4j: Hadoop's codec factory would not choose the capped codec for .gz
        raise EngineIncompatibleError(f"{ENGINE_INCOMPATIBLE}: gzip objects would be read without the cap on "
                                      f"decompressed bytes: {jvm.java_message(error)}") from None

    def read(paths: list[str], globbing: bool) -> DataFrame:
        reader = spark.read.options(**gzip_options).option("lineSep", "\n")
        reader = reader if globbing else reader.option("__globPaths__", "false")
        return reader.text(paths).select("value", F.col("_metadata.file_path").alias("_path"))

    plain = [uri for uri in sources if not GLOB_CHARACTERS.intersection(uri)]
    named = [uri for uri in sources if GLOB_CHARACTERS.intersection(uri)]
    reads = ([read(plain, True)] if plain else []) + [read([uri], False) for uri in named]
    return functools.reduce(DataFrame.union, reads)


def is_gzip(uri: str) -> bool:
    return uri.lower().endswith(".gz")


def estimated_text_bytes(files: Sequence[ManifestFile]) -> int:
    """The NDJSON text bytes of `files` before they are read: their sizes, a gzip object's times GZIP_TEXT_PER_BYTE."""
    return sum((f.size or 0) * (GZIP_TEXT_PER_BYTE if is_gzip(f.source) else 1) for f in files)


def plan_read_split_bytes(files: Sequence[ManifestFile], parallelism: int,
                          numbered_file_max_bytes: int = NUMBERED_FILE_MAX_BYTES) -> int:
    """The most bytes of text Spark reads in one task (``spark.sql.files.maxPartitionBytes``): at least the
    largest object up to ``numbered_file_max_bytes``, so that no such object is split between tasks (which is
    what lets its lines be numbered), and otherwise small enough for about two tasks per core."""
    sizes = [f.size or 0 for f in files]
    largest = max([s for s in sizes if s <= numbered_file_max_bytes], default=0)
    per_task = math.ceil(sum(sizes) / max(1, 2 * parallelism))
    return max(1, min(numbered_file_max_bytes, max(largest, per_task)))


def read_split_settings(split_bytes: int) -> dict[str, str]:
    """The session settings under which Spark reads at most `split_bytes` in one task (`plan_read_split_bytes`)."""
    return {"spark.sql.files.maxPartitionBytes": str(split_bytes),
            "spark.sql.files.minPartitionNum": "1"}  # else Spark may split below maxPartitionBytes


def source_objects(spark: SparkSession, files: Sequence[ManifestFile], split_bytes: int) -> list[SourceObject]:
    """The objects a read of `files` covers, in order; a plain object above `split_bytes` is split between tasks and
    its lines are not numbered; a gzip object is never split."""
    paths = jvm.qualified_paths(spark, [f.source for f in files])
    return [SourceObject(f.uri, f.version_id, path, (f.size or 0) <= split_bytes or is_gzip(f.source))
            for f, path in zip(files, paths, strict=True)]


def read_lines(spark: SparkSession, files: Sequence[ManifestFile], max_decompressed_bytes: int) -> DataFrame:
    """Reads the objects with Spark's line reader (lines end at ``\\n``; gzip is decompressed by extension, up to
    `max_decompressed_bytes` an object, see `read_text`): `_path` (the file the line was read from: the scan's
    ``_metadata.file_path``, Spark's public file source metadata column, SPARK-37273, the URI form
    ``jvm.qualified_paths`` builds), `_row` (see `number_lines`) and `line`, cleaned of a leading BOM and a trailing
    CR. The session's read split settings (`read_split_settings`) decide which objects a
    task reads whole."""
    if not files:
        return spark.createDataFrame([], "_path string, _row bigint, line string")
    raw = (read_text(spark, [f.source for f in files], max_decompressed_bytes)
           .select("_path", F.monotonically_increasing_id().alias("_row"),
                   F.col("value").alias("line")))
    line = F.col("line")
    no_cr = F.when(line.endswith("\r"), F.expr("substring(line, 1, length(line) - 1)")).otherwise(line)
    no_bom = F.when(no_cr.startswith("\ufeff"), no_cr.substr(F.lit(2), F.lit(2**31 - 1))).otherwise(no_cr)
    return raw.select("_path", "_row", no_bom.alias("line"))


def number_lines(rows: DataFrame, lines: DataFrame) -> DataFrame:
    """Adds `line_number` (from 1) to `rows`, a subset of `lines` (both with `_object`, `_row`, `_numbered`). Spark's
    row ids increase by one from line to line within a task, and an object read by a single task has its lines in one
    run of ids: a line's number is its id minus the object's first id, plus one. Null for the lines of an object
    split between tasks. (The conversion pass numbers the quarantined lines it keeps the same way, in
    pipeline.json.Ledger; this is for the quarantine read in a pass of its own.)"""
    firsts = lines.filter("_numbered").groupBy("_object").agg(F.min("_row").alias("_first"))
    return (rows.join(F.broadcast(firsts), "_object", "left")
            .withColumn("line_number", F.when(F.col("_numbered"), F.col("_row") - F.col("_first") + 1)))


def register_line_check(spark: SparkSession, schema: T.StructType) -> str:
    """The name of the JVM line check made with `schema` (`jvm.register_check_line_function`); fails the run, not to be
    retried, when the check is not on the job's classpath."""
    try:
        return jvm.register_check_line_function(spark, schema)
    except jvm.LineCheckMissingError as error:
        raise EngineIncompatibleError(f"the line check {jvm.LINE_CHECK_CLASS} is not on the job's classpath (the job's "
                                f"--extra-jars names pipeline-json.jar): {error}") from None


def check_engine(spark: SparkSession) -> None:
    """Fails the run, not to be retried, before it reads anything, when the JVM helpers are not on the classpath or do
    not work on this Spark (reason ``engine_incompatible``): ``ParseLine`` builds on Spark internals, which another
    Spark may have changed (docs/architecture.md, "The JVM helpers")."""
    try:
        problem = jvm.engine_self_check(spark)
    except jvm.LineCheckMissingError as error:
        raise NotRetryableError(f"the line check {jvm.LINE_CHECK_CLASS} is not on the job's classpath (the job's "
                                f"--extra-jars names pipeline-json.jar): {error}") from None
    if problem is not None:
        raise EngineIncompatibleError(f"{ENGINE_INCOMPATIBLE}: the job's JVM helpers (pipeline-json.jar, built for "
                                      f"Glue 5.1: Spark 3.5.6) do not work on Spark {spark.version}: {problem}")


def check_line(spark: SparkSession, schema: T.StructType, max_line_bytes: int) -> Any:
    """The reason a line is not a row under `schema` (see ``CheckLine``: blank, invalid_json, multiple_values,
    not_an_object, duplicate_name, empty_name, type_mismatch, unknown_field), ``line_too_long`` above
    `max_line_bytes`, or null for a row."""
    name = register_line_check(spark, schema)
    return (F.when(F.octet_length("line") > max_line_bytes, F.lit("line_too_long"))
            .otherwise(F.call_udf(name, F.col("line").cast("binary"))))


def sample_objects(spark: SparkSession, lines: DataFrame, max_line_bytes: int,
                   count: int = INFERENCE_SAMPLE_LINES) -> DataFrame:
    """The first `count` lines of `lines` (Spark reads no further than it needs) that are JSON objects, as a small
    local dataset (column `line`) for the first manifest's inference."""
    sample = jvm.collect_first_lines(spark, lines, count)
    check = check_line(spark, T.StructType([]), max_line_bytes)
    return sample.filter(check.isNull() | (check == "unknown_field")).select("line")


def parse_records(spark: SparkSession, lines: DataFrame, objects: Sequence[SourceObject], schema: T.StructType,
                  record_function: str, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                  unknown_reason: str = "unknown_field") -> DataFrame:
    """Checks and parses the lines of `read_lines` with the recorded schema, one row per line: `_object` (the index in
    `objects`, -1 for a path that is none of them), `_source_file`, `_source_version`, `_numbered`, `_row`, `_status`
    (row, blank, quarantine), `_reason` (null for a row or a blank line; ``unknown_field`` also under the evolve
    policy, for the caller to evolve the schema), `_record` (rows only) and `line` (quarantined lines only). Each line
    is recorded by the SQL function `record_function` (`jvm.register_ledger`) as it goes by.

    Only lines the check passes are parsed, by Spark's parser with the same schema; a value that parser still
    refuses (a date that is not one) makes the line ``type_mismatch``. A line with a field the schema lacks is
    quarantined as `unknown_reason` (``schema_limit`` once the schema has reached its cap)."""
    reason = check_line(spark, schema, max_line_bytes)
    checked = lines.withColumn("_check", reason)
    checked = checked.withColumn("_parsed", F.when(F.col("_check").isNull(),
                                                   jvm.parse_line_column(spark, F.col("line"), schema)))
    check, value = F.col("_check"), F.col("_parsed")
    is_row = check.isNull() & value.isNotNull()
    blank = F.coalesce(check == "blank", F.lit(False))  # not null: a line the parser refuses has no check reason
    status = F.when(is_row, F.lit("row")).when(blank, F.lit("blank")).otherwise(F.lit("quarantine"))
    if unknown_reason != "unknown_field":
        check = F.when(check == "unknown_field", F.lit(unknown_reason)).otherwise(check)
    why = F.when(is_row | blank, F.lit(None).cast("string")).otherwise(F.coalesce(check, F.lit("type_mismatch")))
    ledger_reason = F.when(blank, F.lit("blank")).otherwise(why)
    text = F.when(~is_row & ~blank, F.col("line"))
    recorded = checked.select(
        "_path", "_row", status.alias("_status"), why.alias("_reason"), F.when(is_row, value).alias("_record"),
        text.alias("line"),
        F.call_udf(record_function, F.col("_path"), F.col("_row"), ledger_reason, F.octet_length("line"),
                   text).alias("_object"))
    known = F.col("_object") >= 0
    index = F.col("_object") + 1

    def of_object(values: Column, otherwise: Column) -> Column:
        """The value of the line's object in `values` (an array literal by object index), else `otherwise`."""
        return F.when(known, F.element_at(values, index)).otherwise(otherwise)

    uris = jvm.string_array_literal(spark, [o.uri for o in objects])
    versions = jvm.string_array_literal(spark, [o.version_id for o in objects])
    numbered = jvm.boolean_array_literal(spark, [o.lines_numbered for o in objects])
    return recorded.select(
        "_object", of_object(uris, F.col("_path")).alias("_source_file"),
        of_object(versions, F.lit(None).cast("string")).alias("_source_version"),
        of_object(numbered, F.lit(False)).alias("_numbered"),
        "_row", "_status", "_reason", "_record", "line")
