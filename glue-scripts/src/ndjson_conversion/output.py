"""What the job writes (I4): the manifest's Parquet partition, sized from the text it converts, and the quarantine
records; docs/architecture.md, "Buckets and prefixes", and glue-scripts/README.md for the measured figures.
"""
from __future__ import annotations

import datetime as dt
import math

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from .lines import number_lines
from .schema import output_type

PARQUET_COMPRESSION = "zstd"
# Parquet bytes per byte of NDJSON text, measured on the benchmark batch (zstd 0.093, snappy 0.135), rounded up
# so that files land at or below the target rather than above it.
PARQUET_BYTES_PER_TEXT_BYTE = {"zstd": 0.10, "snappy": 0.14}
DEFAULT_TARGET_FILE_MB = 128
# Files are split further, up to one per core, only while each stays at least this fraction of the target.
MIN_FILE_FRACTION = 0.25
# zstd level 1 against the codec's default level 3, measured on the benchmark batch: the same output size to the
# MB, and about 30% less time in the Parquet write (glue-scripts/README.md).
PARQUET_WRITE_OPTIONS = {"zstd": {"parquet.compression.codec.zstd.level": "1"}}
ADDED_COLUMNS = ("_source_file", "_source_version", "_ingested_at")
PARTITION_COLUMNS = ("ingest_date", "manifest_id")


def join_path(base: str, *parts: str) -> str:
    """`base` and `parts` joined by single slashes, ending with one (a directory's URI)."""
    return base.rstrip("/") + "/" + "/".join(p.strip("/") for p in parts) + "/"


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
    quarantined = number_lines(parsed.filter(F.col("_status") == "quarantine"), parsed)
    return quarantined.select(F.col("_source_file").alias("source_file"),
                              F.col("_source_version").alias("source_version"), "line_number",
                              F.col("_reason").alias("reason"), "line")


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
