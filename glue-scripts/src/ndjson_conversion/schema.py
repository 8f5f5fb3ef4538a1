"""Schema and names (I8): a dataset's schema only grows (`merge_schemas`), its output names follow one rule
(`column_name`), and a pinned schema file sets its fields and policy (`load_pinned`); docs/architecture.md,
"Dataset schema".

The recorded schema is a Spark StructType whose fields carry the names of the JSON (so that the check and the parser
find them) and, in each field's metadata, "column": the name of that field in the Parquet files and the catalog.
"""
from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from . import jvm
from .errors import JobError, NotRetryableError

EVOLVE, STRICT = "evolve", "strict"
POLICIES = (EVOLVE, STRICT)
# Longest output name: Glue's limit on a column name.
MAX_COLUMN_NAME = 255
# Most leaf fields (`leaf_count`) the job records for a dataset from its data (--max_schema_fields): fields that would
# pass it are not added and their lines are quarantined as SCHEMA_LIMIT. Glue's Column takes a Type of at most 131,072
# characters (Glue API reference, "Column" structure: docs.aws.amazon.com/glue/latest/webapi/API_Column.html), and
# a struct column's Hive type spells every leaf's name and type: objects with ever-new keys (a map written as an
# object) would otherwise grow the record until every later UpdateTable, and so every later manifest, fails.
DEFAULT_MAX_SCHEMA_FIELDS = 1000
SCHEMA_LIMIT = "schema_limit"
# Parser options of the inference; the parse (ParseLine) uses the same mode, so that both see the same JSON dialect.
JSON_OPTIONS = {"mode": "PERMISSIVE"}
# The inference skips fields that are only ever null, {} or []: they carry no type, as the line check reports no
# such field as unknown; the field is recorded when a value arrives.
INFER_OPTIONS = {**JSON_OPTIONS, "dropFieldIfAllNull": "true"}
_CORRUPT = "_corrupt_record"
# Under --schema_prefix, a dataset's pinned schema is the first of these that exists.
SCHEMA_FILE_SUFFIXES = (".ddl", ".json")


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


def leaf_count(dtype: T.DataType) -> int:
    """The leaf fields of `dtype`: every field whose type is not a struct, at every depth (an array or a map counts
    the leaves of its element or value type: ``array<string>`` is one, ``map<string, struct<a, b>>`` two)."""
    if isinstance(dtype, T.StructType):
        return sum(leaf_count(f.dataType) for f in dtype.fields)
    if isinstance(dtype, T.ArrayType):
        return leaf_count(dtype.elementType)
    if isinstance(dtype, T.MapType):
        return leaf_count(dtype.valueType)
    return 1


def _fit(recorded: T.DataType | None, additions: T.DataType, budget: int,
         depth: int = sys.maxsize) -> tuple[T.DataType | None, int]:
    """The part of `additions` that adds at most `budget` leaves to `recorded`, taking only leaves at most `depth`
    structs deep (None: nothing of a new field), and the leaves it adds; fields are taken in their order."""
    if recorded is not None and type(recorded) is not type(additions) and isinstance(
            additions, (T.StructType, T.ArrayType, T.MapType)):
        return additions, 0  # the recorded type stays (`merge_schemas`): nothing is added
    if isinstance(additions, T.StructType):
        ours = {f.name: f.dataType for f in recorded.fields} if isinstance(recorded, T.StructType) else {}
        fields, used = [], 0
        for f in additions.fields:
            child, n = _fit(ours.get(f.name), f.dataType, budget - used, depth - 1)
            if child is not None:
                fields.append(T.StructField(f.name, child, True, f.metadata))
                used += n
        return (T.StructType(fields) if fields or recorded is not None else None), used
    if isinstance(additions, T.ArrayType):
        element, n = _fit(recorded.elementType if isinstance(recorded, T.ArrayType) else None,
                          additions.elementType, budget, depth)
        return (T.ArrayType(element, True) if element is not None else None), n
    if isinstance(additions, T.MapType):
        value, n = _fit(recorded.valueType if isinstance(recorded, T.MapType) else None, additions.valueType,
                        budget, depth)
        return (T.MapType(additions.keyType, value, True) if value is not None else None), n
    if recorded is not None:
        return additions, 0
    return (additions, 1) if budget >= 1 and depth >= 0 else (None, 0)


def _struct_depth(dtype: T.DataType) -> int:
    if isinstance(dtype, T.StructType):
        return 1 + max((_struct_depth(f.dataType) for f in dtype.fields), default=0)
    if isinstance(dtype, T.ArrayType):
        return _struct_depth(dtype.elementType)
    if isinstance(dtype, T.MapType):
        return _struct_depth(dtype.valueType)
    return 0


def new_leaves(recorded: T.StructType, additions: T.StructType) -> int:
    """The leaves `additions` would add to `recorded` (`merge_schemas`); 0: the record holds them all."""
    return _fit(recorded, additions, sys.maxsize)[1]


def capped_additions(recorded: T.StructType, additions: T.StructType, max_fields: int) -> T.StructType:
    """`additions` without the fields that would take `recorded` past `max_fields` leaves (`leaf_count`); all of
    them when they fit. Else shallow fields first: the new top-level leaves in their order (Spark's inference sorts
    fields by name), then the leaves one struct deep, and so on, while they fit; so an object with ever-new keys
    (a map written as an object) cannot crowd out the fields beside it."""
    budget = max(0, max_fields - leaf_count(recorded))
    if new_leaves(recorded, additions) <= budget:
        return additions
    kept = T.StructType([])
    for depth in range(1, _struct_depth(additions) + 1):
        fitted, used = _fit(merge_schemas(recorded, kept), additions, budget, depth)
        if isinstance(fitted, T.StructType):
            kept = merge_schemas(kept, fitted)
        budget -= used
    return kept


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


def drop_empty_structs(dtype: T.DataType) -> T.DataType | None:
    """`dtype` without structs that have no fields (Parquet cannot store one), a null type read as string."""
    if isinstance(dtype, T.StructType):
        fields = []
        for f in dtype.fields:
            child = drop_empty_structs(f.dataType)
            if child is not None:
                fields.append(T.StructField(f.name, child, True, f.metadata))
        return T.StructType(fields) if fields else None
    if isinstance(dtype, T.ArrayType):
        child = drop_empty_structs(dtype.elementType)
        return T.ArrayType(child if child is not None else T.StringType(), True)
    if isinstance(dtype, T.MapType):
        child = drop_empty_structs(dtype.valueType)
        return T.MapType(dtype.keyType, child if child is not None else T.StringType(), True)
    if isinstance(dtype, T.NullType):
        return T.StringType()
    return dtype


def infer_schema(spark: SparkSession, lines: DataFrame) -> T.StructType:
    """Spark's JSON inference over every line of `lines` (column `line`; no sampling), which the caller has
    checked to be objects that the schema does not hold yet. Fields only ever null, ``{}`` or ``[]`` are left out."""
    inferred = jvm.infer_json_schema(spark, lines, INFER_OPTIONS)
    kept = drop_empty_structs(T.StructType([f for f in inferred.fields if f.name != _CORRUPT]))
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
            schema = jvm.struct_type_from_ddl(spark, ddl) if ddl else None
    except Exception as error:  # ValueError, KeyError, py4j's ParseException
        raise NotRetryableError(f"the pinned schema is not a Spark schema: {jvm.java_message(error)}") from None
    if policy not in POLICIES:
        raise NotRetryableError(f"the pinned schema's policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    return schema, policy


def find_dataset_schema(spark: SparkSession, prefix: str, dataset: str) -> str:
    """The URI of the dataset's pinned schema under `prefix` (``<prefix><dataset>.ddl``, else ``.json``), or ""
    when there is none, and the schema is inferred. An error other than absence fails the run: a schema that
    cannot be checked is not silently replaced by inference."""
    if not prefix:
        return ""
    for suffix in SCHEMA_FILE_SUFFIXES:
        uri = prefix.rstrip("/") + "/" + dataset + suffix
        try:
            if jvm.is_file(spark, uri):
                return uri
        except Exception as error:
            raise JobError(f"cannot look for the schema {uri}: {jvm.java_message(error)}") from None
    return ""


def read_pinned(spark: SparkSession, schema_uri: str) -> tuple[T.StructType | None, str]:
    """The pinned schema and policy in the file at `schema_uri` (`load_pinned`); a read error fails the run."""
    try:
        text = jvm.read_small_file(spark, schema_uri)
    except Exception as error:
        raise JobError(f"cannot read schema {schema_uri}: {jvm.java_message(error)}") from None
    return load_pinned(spark, text)
