"""Where a dataset's schema is recorded (I8) and how its partitions are registered: the Glue Data Catalog table, or
a schema file without a catalog; optimistic concurrency between runs (`settle_schema`). docs/architecture.md,
"Dataset schema" and "Glue Data Catalog".
"""
from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass
from typing import Any, Protocol

from pyspark.sql import SparkSession
from pyspark.sql import types as T

from . import jvm
from .errors import JobError, NotRetryableError
from .failures import aws_error_code
from .output import ADDED_COLUMNS, PARTITION_COLUMNS
from .schema import capped_additions, column_paths, merge_schemas, name_columns, output_type

# Where the dataset's recorded schema lives: a parameter of its catalog table, or, without a catalog, a file.
SCHEMA_PARAMETER = "pipeline.schema"
# The manifest whose run last changed the recorded schema: with Glue's table versions, the schema's history.
CHANGED_BY_PARAMETER = "pipeline.schemaChangedBy"
SCHEMA_FILE = "_schema.json"
# Catalog: attempts of the read-merge-update of a table against concurrent runs, and the base backoff in seconds.
CATALOG_ATTEMPTS = 8
CATALOG_BACKOFF_SECONDS = 0.2


def glue_client() -> Any:
    """A boto3 Glue client in the job's region (it honours AWS_ENDPOINT_URL in the local mode)."""
    import boto3  # imported here: the conversion itself does not need it

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return boto3.client("glue", region_name=region)


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


def _storage_descriptor(columns: list[dict[str, str]], location: str) -> dict[str, Any]:
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
class RecordedSchema:
    """A dataset's recorded schema and the version it was read at (for the next conditional write)."""

    schema: T.StructType
    version: str | None
    table: dict[str, Any] | None = None  # the catalog table it was read from


class SchemaConflict(Exception):
    """The record changed since it was read: read it again and merge again."""


class SchemaStore(Protocol):
    """Where a dataset's schema is recorded."""

    def read(self) -> RecordedSchema | None: ...

    def commit(self, schema: T.StructType, previous: RecordedSchema | None) -> RecordedSchema: ...


class CatalogSchemaStore:
    """The recorded schema as the dataset's catalog table: its columns (output names, Hive types) for readers, and
    the schema with the JSON's names in the table parameter SCHEMA_PARAMETER, written together. Glue refuses an
    UpdateTable whose VersionId is not the table's current one (ConcurrentModificationException) and a second
    CreateTable (AlreadyExistsException): the optimistic concurrency of `settle_schema`."""

    def __init__(self, glue: Any, database: str, table: str, location: str, changed_by: str = ""):
        self.glue, self.database, self.table, self.location = glue, database, table, _s3_scheme(location)
        self.changed_by = changed_by

    def read(self) -> RecordedSchema | None:
        try:
            table = self.glue.get_table(DatabaseName=self.database, Name=self.table)["Table"]
        except Exception as error:
            if aws_error_code(error) == "EntityNotFoundException":
                return None
            raise
        text = (table.get("Parameters") or {}).get(SCHEMA_PARAMETER)
        if not text:  # another tool's table under the dataset's name: the job does not guess its schema
            raise NotRetryableError(f"catalog table {self.database}.{self.table} has no {SCHEMA_PARAMETER} parameter: "
                                    "it was not registered by this pipeline")
        schema = T.StructType.fromJson(json.loads(text))
        return RecordedSchema(schema, str(table.get("VersionId") or ""), table)

    def commit(self, schema: T.StructType, previous: RecordedSchema | None) -> RecordedSchema:
        existing = previous.table if previous is not None else None
        parameters = {**((existing or {}).get("Parameters") or {}), "classification": "parquet", "EXTERNAL": "TRUE",
                      "parquet.compression": "ZSTD", SCHEMA_PARAMETER: json.dumps(schema.jsonValue()),
                      CHANGED_BY_PARAMETER: self.changed_by}
        if existing is None:
            table_input = {"Name": self.table, "TableType": "EXTERNAL_TABLE", "Parameters": parameters,
                           "PartitionKeys": [{"Name": name, "Type": "string"} for name in PARTITION_COLUMNS],
                           "StorageDescriptor": _storage_descriptor(catalog_columns(schema), self.location)}
            try:
                self.glue.create_table(DatabaseName=self.database, TableInput=table_input)
            except Exception as error:
                if aws_error_code(error) == "AlreadyExistsException":
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
                if aws_error_code(error) == "ConcurrentModificationException":
                    raise SchemaConflict() from None
                raise
        return self.read() or RecordedSchema(schema, None)


class FileSchemaStore:
    """The recorded schema as a file (SCHEMA_FILE under the dataset's curated prefix, which readers skip as they
    skip every name starting with ``_``), for runs without a catalog (tests, the benchmark). Its check of the
    version before a write is not atomic: one run at a time per dataset."""

    def __init__(self, spark: SparkSession, uri: str):
        self.spark, self.uri = spark, uri

    def read(self) -> RecordedSchema | None:
        if not jvm.path_exists(self.spark, self.uri):
            return None
        doc = json.loads(jvm.read_small_file(self.spark, self.uri))
        return RecordedSchema(T.StructType.fromJson(doc["schema"]), str(doc["version"]))

    def commit(self, schema: T.StructType, previous: RecordedSchema | None) -> RecordedSchema:
        current = self.read()
        if (current.version if current else None) != (previous.version if previous else None):
            raise SchemaConflict()
        version = str(int(current.version or 0) + 1 if current else 1)
        jvm.write_small_file(self.spark, self.uri, json.dumps({"version": version, "schema": schema.jsonValue()}))
        return RecordedSchema(schema, version)


def settle_schema(store: SchemaStore, additions: T.StructType, attempts: int = CATALOG_ATTEMPTS,
                  backoff_seconds: float = CATALOG_BACKOFF_SECONDS, added: set[str] | None = None,
                  max_fields: int | None = None) -> RecordedSchema:
    """Records the dataset's schema merged with `additions` (`merge_schemas`, `name_columns`) and returns the
    record; when another run changed the record in between, reads it again and merges again, after a jittered
    backoff, so that no run's field is lost. A record that already holds every addition is not written. `added`,
    when given, receives the output paths this call added to the record (none when another run added them first).
    With `max_fields`, only the additions that keep the record within that many leaves are merged
    (`capped_additions`, against the record as read for this very write, so concurrent runs cannot pass it together);
    `new_leaves(record, additions)` then tells whether some were left out."""
    for attempt in range(attempts):
        if attempt:
            time.sleep(random.uniform(0, min(5.0, backoff_seconds * 2 ** attempt)))  # full jitter
        current = store.read()
        base = current.schema if current is not None else T.StructType([])
        fitting = additions if max_fields is None else capped_additions(base, additions, max_fields)
        merged = name_columns(merge_schemas(base, fitting), ADDED_COLUMNS + PARTITION_COLUMNS)
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
                       manifest_id: str, partition_location: str, parameters: dict[str, str] | None = None) -> None:
    """Creates the manifest's partition, or replaces its definition (location, columns, parameters) in one
    UpdatePartition: the switch of a replay from the previous output to the new one (docs/architecture.md,
    "Replacing a manifest's output")."""
    partition: dict[str, Any] = {"Values": [ingest_date, manifest_id],
                                 "StorageDescriptor": _storage_descriptor(columns, _s3_scheme(partition_location)),
                                 "Parameters": {k: _s3_scheme(v) for k, v in (parameters or {}).items()}}
    try:
        glue.create_partition(DatabaseName=database, TableName=table, PartitionInput=partition)
    except Exception as error:
        if aws_error_code(error) != "AlreadyExistsException":
            raise
        glue.update_partition(DatabaseName=database, TableName=table,
                              PartitionValueList=[ingest_date, manifest_id], PartitionInput=partition)
