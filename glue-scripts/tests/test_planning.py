"""Pure decisions of the job: arguments, manifest parsing, output sizing, catalog types."""
from __future__ import annotations

from typing import Any

import pytest
from pyspark.sql import types as T

from ndjson_conversion.arguments import default_staging_path, parse_args
from ndjson_conversion.catalog import hive_type
from ndjson_conversion.errors import JobError, NotRetryableError
from ndjson_conversion.manifest import ManifestFile, parse_manifest
from ndjson_conversion.output import plan_output_files, right_size

MB = 1024 * 1024



def executed_plan(df) -> str:
    """The physical plan Spark runs for `df`, as text (through py4j, untyped)."""
    java: Any = df._jdf
    return str(java.queryExecution().executedPlan().toString())

def test_arguments_ignore_glue_extras_and_default_the_optional_ones():
    argv = ["job.py", "--JOB_NAME", "convert", "--job-bookmark-option", "job-bookmark-disable",
            "--manifest_uri", "s3://c/manifests/orders/m.json", "--manifest_id", "m", "--dataset", "orders",
            "--ingest_date", "2026-11-23", "--curated_path", "s3://c/curated/", "--quarantine_path",
            "s3://c/quarantine/", "--result_uri", "s3://c/manifests/orders/m.result.json"]

    params = parse_args(argv)

    assert (params.manifest_id, params.catalog_database, params.target_file_mb) == ("m", "", 128)
    assert parse_args(argv + ["--target_file_mb", "64", "--catalog_database", "db"]).target_file_mb == 64
    assert params.schema_uri == ""
    assert parse_args(argv + ["--schema_uri", "s3://c/schemas/orders.ddl"]).schema_uri == "s3://c/schemas/orders.ddl"
    assert params.schema_prefix == ""
    assert parse_args(argv + ["--schema_prefix", "s3://c/schemas/"]).schema_prefix == "s3://c/schemas/"
    assert params.staging_path == ""
    assert parse_args(argv + ["--staging_path", "s3://c/tmp/"]).staging_path == "s3://c/tmp/"
    with pytest.raises(JobError):
        parse_args(argv + ["--target_file_mb", "0"])


# What Glue passes the script (sys.argv) for a run of the stack's job: its own arguments ("Using job parameters in
# AWS Glue jobs"; the ones awsglue.utils.getResolvedOptions reserves) and the job's Glue settings, in between the
# job's own.
GLUE_ARGV = ["script_2026-12-07-10-00-00.py", "--JOB_ID", "j_0123", "--enable-metrics", "true",
             "--JOB_RUN_ID", "jr_0123", "--job-bookmark-option", "job-bookmark-disable", "--TempDir",
             "s3://aws-glue-assets-123456789012-us-east-1/temporary/", "--manifest_uri", "s3://c/manifests/o/m.json",
             "--SECURITY_CONFIGURATION", "sec", "--encryption-type", "sse-s3", "--enable-auto-scaling", "true",
             "--custom-logGroup-prefix", "/aws-glue/jobs/IngestPipeline", "--extra-jars", "s3://assets/a.jar",
             "--extra-py-files", "s3://assets/p.zip", "--enable-continuous-cloudwatch-log", "true",
             "--manifest_id", "m", "--dataset", "orders", "--ingest_date", "2026-11-23", "--curated_path",
             "s3://c/curated/", "--quarantine_path", "s3://c/quarantine/", "--result_uri", "s3://c/m.result.json",
             "--schema", "not-an-abbreviation", "--JOB_NAME", "IngestPipeline-convert"]


def test_arguments_take_what_glue_passes_and_leave_glue_its_own():
    params = parse_args(GLUE_ARGV)

    assert (params.manifest_uri, params.manifest_id, params.result_uri) == ("s3://c/manifests/o/m.json", "m",
                                                                            "s3://c/m.result.json")
    assert (params.schema_uri, params.schema_prefix) == ("", "")  # --schema is Glue's (or nobody's), not ours


@pytest.mark.parametrize("drop", ["--dataset", "--result_uri"])
def test_a_missing_or_empty_required_argument_fails_the_run_not_to_be_retried(drop):
    at = GLUE_ARGV.index(drop)
    with pytest.raises(NotRetryableError, match=f"missing job argument.*{drop}"):
        parse_args(GLUE_ARGV[:at] + GLUE_ARGV[at + 2:])
    with pytest.raises(NotRetryableError, match=f"missing job argument.*{drop}"):
        parse_args(GLUE_ARGV[:at + 1] + [""] + GLUE_ARGV[at + 2:])
    with pytest.raises(NotRetryableError, match="expected one argument"):
        parse_args([*GLUE_ARGV, drop])


@pytest.mark.parametrize("curated, staging", [
    ("s3://c/curated/", "s3://c/staging/"), ("s3://c/curated", "s3://c/staging/"),
    ("s3://c/data/curated/", "s3://c/data/staging/"), ("s3://c/", "s3://c/staging/")])
def test_the_default_staging_path_is_next_to_the_curated_prefix(curated, staging):
    assert default_staging_path(curated) == staging


def test_manifest_files_are_listed_once_in_order():
    text = ('{"manifestId": "m", "files": [{"uri": "s3://b/k2", "size": 10}, {"uri": "s3://b/k1"},'
            ' {"uri": "s3://b/k2", "size": 10}]}')

    assert parse_manifest(text, "m") == [ManifestFile("s3://b/k2", 10), ManifestFile("s3://b/k1", None)]


def test_two_versions_of_one_key_are_two_files_of_the_manifest():
    text = ('{"files": [{"uri": "s3://b/k", "bucket": "b", "key": "k", "versionId": "v1"},'
            ' {"uri": "s3://b/k", "versionId": "v2"}, {"uri": "s3://b/k", "versionId": "v1"}]}')

    files = parse_manifest(text, "m")

    assert [(f.uri, f.version_id, f.s3_location()) for f in files] == [("s3://b/k", "v1", ("b", "k")),
                                                                        ("s3://b/k", "v2", ("b", "k"))]


@pytest.mark.parametrize("text_mb, target_mb, compression, files", [
    (0, 128, "zstd", 1),            # empty manifest: still one file's worth of decision, no zero
    (700, 128, "zstd", 1),          # the load anchor: 200 x 3.5 MB gives about 70 MB of Parquet
    (700, 16, "zstd", 5),           # 70 MB over 16 MB files
    (700, 16, "snappy", 7),         # snappy output is larger, so more files
    (10 * 1024, 128, "zstd", 8),    # a big manifest is never one giant file
])
def test_output_files_follow_the_estimated_parquet_size(text_mb, target_mb, compression, files):
    assert plan_output_files(text_mb * MB, target_mb, compression) == files


@pytest.mark.parametrize("text_mb, cores, files", [
    (700, 2, 2),          # about 70 MB of Parquet: 2 files of 35 MB, one per core
    (700, 8, 2),          # more cores, but a third file would be under a quarter of the target
    (200, 8, 1),          # 20 MB of Parquet: too small to split
    (10 * 1024, 16, 16),  # 1 GB of Parquet: one file per core, each still above the quarter
    (10 * 1024, 4, 8),    # the target, not the cores, sets the count
])
def test_output_files_split_up_to_one_per_core_while_large_enough(text_mb, cores, files):
    assert plan_output_files(text_mb * MB, 128, "zstd", parallelism=cores) == files


def test_right_size_merges_without_shuffle_only_when_cores_stay_busy(spark):
    df = spark.range(1000).repartition(8)

    merged, shuffled = right_size(df, 4, parallelism=2), right_size(df, 1, parallelism=2)

    assert merged.rdd.getNumPartitions() == 4 and shuffled.rdd.getNumPartitions() == 1
    assert "Coalesce" in executed_plan(merged)
    assert executed_plan(shuffled).count("Exchange") == 2


def test_hive_types_of_nested_records():
    schema = T.StructType([
        T.StructField("items", T.ArrayType(T.StructType([T.StructField("qty", T.LongType()),
                                                         T.StructField("price", T.DoubleType())]))),
        T.StructField("amount", T.DecimalType(38, 0)),
        T.StructField("at", T.TimestampType()),
        T.StructField("ok", T.BooleanType()),
    ])

    assert [hive_type(f.dataType) for f in schema.fields] == [
        "array<struct<qty:bigint,price:double>>", "decimal(38,0)", "timestamp", "boolean"]
