"""Every call into the JVM through py4j, behind typed Python functions (as pydeequ keeps scala_utils.py).

Hadoop's FileSystem for small files, Java exceptions, and the job's JVM classes (glue-scripts/jvm: CheckLine,
ParseLine, RecordLine, Ledger, CappedGzipCodec, and the helpers Driver and Written). py4j objects are dynamic, so this
module alone handles untyped values; see docs/architecture.md, "Glue job".
"""
from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import types as T

# The JVM check of each line (glue-scripts/jvm, CheckLine.java), on the job's classpath through --extra-jars.
LINE_CHECK_CLASS = "pipeline.json.CheckLine"
LINE_CHECK_FUNCTION = "pipeline_check_line"


# The exception a capped gzip stream throws past the cap (glue-scripts/jvm, CappedGzipCodec.java): a failed read
# whose causes hold it failed on a gzip object that decompresses to more than --max_decompressed_bytes.
DECOMPRESSED_TOO_LARGE_CLASS = "pipeline.json.DecompressedTooLargeException"


class LineCheckMissingError(Exception):
    """The JVM line check is not on the job's classpath (the caller decides how the run fails)."""


def _java(spark: SparkSession) -> Any:
    """The session as py4j exposes it (`_jsc`, `_jsparkSession`): dynamic, so untyped."""
    return spark


def _jvm(spark: SparkSession) -> Any:
    """The JVM's classes through py4j: dynamic, so untyped."""
    return _java(spark)._jvm


def _hadoop_conf(spark: SparkSession) -> Any:
    return _java(spark)._jsc.hadoopConfiguration()


def _fs_path(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    # Through Hadoop's FileSystem so one code path serves s3:// on Glue (EMRFS), s3a locally and file:// in tests.
    path = _jvm(spark).org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(_hadoop_conf(spark)), path


# ------------------------------------------------------------------------------------------------ Java exceptions

def java_message(error: BaseException) -> str:
    """The first line of the Java exception's text behind a py4j error (else of the Python error's)."""
    java = getattr(error, "java_exception", None)
    text = java.toString() if java is not None else str(error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def java_exception_chain(error: BaseException) -> list[tuple[str, str]]:
    """(class name, message) of a Java exception and its causes, outermost first; empty for a Python error."""
    java = getattr(error, "java_exception", None)
    out = []
    while java is not None and len(out) < 20:
        out.append((str(java.getClass().getName()), str(java.getMessage() or "")))
        java = java.getCause()
    return out


# ---------------------------------------------------------------------------------------- small files (Hadoop FS)

def read_small_file(spark: SparkSession, uri: str) -> str:
    """Reads a small UTF-8 object (the manifest, a schema) whole."""
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


def path_exists(spark: SparkSession, uri: str) -> bool:
    fs, path = _fs_path(spark, uri)
    return bool(fs.exists(path))


def is_file(spark: SparkSession, uri: str) -> bool:
    fs, path = _fs_path(spark, uri)
    return bool(fs.isFile(path))


def file_length(spark: SparkSession, uri: str) -> int:
    """The object's length (Hadoop's getFileStatus); raises the py4j error of a missing or denied object."""
    fs, path = _fs_path(spark, uri)
    return int(fs.getFileStatus(path).getLen())


def delete_path(spark: SparkSession, uri: str) -> None:
    """Deletes a directory and its content, if present."""
    fs, path = _fs_path(spark, uri)
    if fs.exists(path):
        fs.delete(path, True)


def list_children(spark: SparkSession, uri: str) -> list[tuple[str, bool]]:
    """The names directly under a directory and whether each is a directory; empty when it does not exist."""
    fs, path = _fs_path(spark, uri)
    if not fs.exists(path):
        return []
    return [(str(status.getPath().getName()), bool(status.isDirectory())) for status in fs.listStatus(path)]


def delete_files_in(spark: SparkSession, uri: str) -> None:
    """Deletes the files directly under a directory, leaving its subdirectories alone."""
    fs, path = _fs_path(spark, uri)
    if not fs.exists(path):
        return
    for status in fs.listStatus(path):
        if not status.isDirectory():
            fs.delete(status.getPath(), False)


def qualified_paths(spark: SparkSession, uris: Sequence[str]) -> list[str]:
    """The path strings Spark reports (``_metadata.file_path``) for objects read from these URIs (one JVM call)."""
    return [str(p) for p in _jvm(spark).pipeline.json.Driver.qualified(list(uris), _hadoop_conf(spark))]


def read_back_parquet(spark: SparkSession, directory: str) -> tuple[int, int, int]:
    """(files, bytes, rows) of the Parquet files in `directory`, the rows from their footers; zeros when absent."""
    files, size, rows = (int(n) for n in _jvm(spark).pipeline.json.Written.parquet(directory, _hadoop_conf(spark)))
    return files, size, rows


def read_back_text(spark: SparkSession, directory: str) -> tuple[int, int, int]:
    """(files, bytes, lines) of the text files in `directory`; zeros when absent."""
    files, size, lines = (int(n) for n in _jvm(spark).pipeline.json.Written.text(directory, _hadoop_conf(spark)))
    return files, size, lines


# ---------------------------------------------------------------------------------------------- gzip objects

def capped_gzip_read_options(spark: SparkSession, max_bytes: int) -> dict[str, str]:
    """The reader options under which Spark's line reader decompresses `.gz` objects with ``CappedGzipCodec``, whose
    streams stop at `max_bytes` decompressed bytes and throw DECOMPRESSED_TOO_LARGE_CLASS: the session's
    ``io.compression.codecs`` with the codec last, and the cap. Raises py4j's error when Hadoop's codec factory would
    not choose the codec for `.gz` under them."""
    session_conf = _java(spark)._jsparkSession.sessionState().newHadoopConf()
    options = _jvm(spark).pipeline.json.CappedGzipCodec.readOptions(session_conf, max_bytes)
    return {str(key): str(value) for key, value in options.items()}


def gzip_decompressor(spark: SparkSession) -> str:
    """The class of the gzip decompressor Hadoop gives on the driver: native zlib (libhadoop) or the built-in one."""
    return str(_jvm(spark).pipeline.json.CappedGzipCodec.decompressorType(_hadoop_conf(spark)))


# ------------------------------------------------------------------------------------------------------- columns

def string_array_literal(spark: SparkSession, values: Sequence[str | None]) -> Column:
    """An array<string> literal of `values` (nulls kept), built in one JVM call."""
    return Column(_jvm(spark).pipeline.json.Driver.strings(list(values)))


def boolean_array_literal(spark: SparkSession, values: Sequence[bool]) -> Column:
    """An array<boolean> literal of `values`, built in one JVM call."""
    return Column(_jvm(spark).pipeline.json.Driver.booleans(list(values)))


def register_check_line_function(spark: SparkSession, schema: T.StructType) -> str:
    """Registers the JVM line check (``CheckLine``) made with `schema` for this session; returns its name, one per
    schema, so that no call of it compares or parses the schema again. Raises LineCheckMissingError when the class
    is not on the classpath."""
    text = schema.json()
    name = f"{LINE_CHECK_FUNCTION}_{hashlib.sha1(text.encode('utf-8')).hexdigest()[:16]}"
    try:
        check = _jvm(spark).pipeline.json.CheckLine(text)
        string = _jvm(spark).org.apache.spark.sql.types.DataTypes.StringType
        _java(spark)._jsparkSession.udf().register(name, check, string)
    except Exception as error:  # py4j: the class is a JavaPackage (not callable) when it is not on the classpath
        raise LineCheckMissingError(java_message(error)) from None
    return name


def parse_line_column(spark: SparkSession, line: Column, schema: T.StructType) -> Column:
    """`line` parsed by Spark's JSON parser with `schema` from its UTF-8 bytes (``ParseLine``), in the session's time
    zone: the record, or null when the parser refuses the line."""
    time_zone = spark.conf.get("spark.sql.session.timeZone") or "UTC"
    java_line: Any = line  # its py4j side (`_jc`) is untyped
    return Column(_jvm(spark).pipeline.json.ParseLine.column(java_line._jc, schema.json(), time_zone))


def engine_self_check(spark: SparkSession) -> str | None:
    """None when ``ParseLine``, which builds on Spark internals (``JsonToStructs``, ``JacksonParser``), parses a few
    known lines on this Spark as on the Spark it was built for; else what differs. Runs on the driver, reads no data.
    Raises LineCheckMissingError when the class is not on the classpath."""
    try:
        check = _jvm(spark).pipeline.json.ParseLine.selfCheck
        problem = check()
    except Exception as error:  # py4j: a JavaPackage (not callable) when the class is not on the classpath
        raise LineCheckMissingError(java_message(error)) from None
    return None if problem is None else str(problem)


# ---------------------------------------------------------------------------------------------------- the ledger

_LEDGERS = itertools.count(1)


class LineLedger:
    """One conversion pass's ledger (pipeline.json.Ledger, a Spark accumulator fed by RecordLine): lines and bytes
    per reason and per object, each object's first row id, and the quarantined lines up to a budget per task."""

    def __init__(self, spark: SparkSession, java_ledger: Any, record_function: str):
        self._spark = spark
        self._ledger = java_ledger
        #: The SQL function that records a line into this ledger: (file path, row id, reason, bytes, quarantined text).
        self.record_function = record_function

    def counts(self) -> dict[str, Any]:
        """``{"reasons": {reason: [lines, bytes]}, "rows", "rowBytes", "objectBytes", "objectLines", ...}``."""
        return json.loads(self._ledger.counts())

    def overflowed(self) -> bool:
        """Whether a task could not keep all its quarantined lines (then they are read in a pass of their own)."""
        return bool(self._ledger.overflowed())

    def kept_lines(self, reasons: Sequence[str]) -> DataFrame:
        """The kept quarantined lines with one of `reasons`, as a DataFrame with the column `line`."""
        kept = self._ledger.lines(_java(self._spark)._jsparkSession, list(reasons)).toDF()
        return DataFrame(kept, self._spark).withColumnRenamed("value", "line")

    def write_quarantine(self, uri: str, uris: Sequence[str], versions: Sequence[str | None],
                         numbered: Sequence[bool]) -> None:
        """Writes the kept quarantined lines as one NDJSON file at `uri`, numbered where their object is."""
        self._ledger.writeQuarantine(uri, _hadoop_conf(self._spark), list(uris), list(versions), list(numbered))


def register_ledger(spark: SparkSession, spark_paths: Sequence[str], task_bytes: int) -> LineLedger:
    """A new ledger for one pass over the objects Spark reports as `spark_paths`, keeping up to `task_bytes` of
    quarantined text per task, with its RecordLine function registered as non-deterministic so that Spark calls it
    once for every line, before the rows are filtered."""
    jvm = _jvm(spark)
    ledger = jvm.pipeline.json.Ledger(len(spark_paths), task_bytes)
    _java(spark)._jsc.sc().register(ledger, "pipeline.ledger")
    function = jvm.pipeline.json.RecordLine.function(ledger, list(spark_paths))
    name = f"pipeline_record_line_{next(_LEDGERS)}"
    _java(spark)._jsparkSession.udf().register(name, function)
    return LineLedger(spark, ledger, name)


# ------------------------------------------------------------------------------------------------------ schemas

def collect_first_lines(spark: SparkSession, lines: DataFrame, count: int) -> DataFrame:
    """The first `count` values of `lines`' column `line` (Spark reads no further than it needs), collected into a
    small local dataset with the column `line`."""
    strings = _jvm(spark).org.apache.spark.sql.Encoders.STRING()
    java_lines = getattr(lines.select("line")._jdf, "as")(strings)
    local = _java(spark)._jsparkSession.createDataset(java_lines.limit(count).collectAsList(), strings)
    return DataFrame(local.toDF(), spark).withColumnRenamed("value", "line")


def infer_json_schema(spark: SparkSession, lines: DataFrame, options: dict[str, str]) -> T.StructType:
    """Spark's JSON inference over every value of `lines`' column `line` (no sampling), with reader `options`."""
    as_strings = getattr(lines.select("line")._jdf, "as")(_jvm(spark).org.apache.spark.sql.Encoders.STRING())
    reader = _java(spark)._jsparkSession.read()
    for key, value in options.items():
        reader = reader.option(key, value)
    return T.StructType.fromJson(json.loads(reader.json(as_strings).schema().json()))


def struct_type_from_ddl(spark: SparkSession, ddl: str) -> T.StructType:
    """Spark's StructType.fromDDL; raises py4j's ParseException for a DDL string Spark refuses."""
    jvm_schema = _jvm(spark).org.apache.spark.sql.types.StructType.fromDDL(ddl)
    return T.StructType.fromJson(json.loads(jvm_schema.json()))
