"""The cap on a dataset's schema (I8, docs/architecture.md "Size caps"): objects with ever-new keys grow the recorded
schema up to --max_schema_fields leaf fields, and the lines whose fields would pass it are quarantined as
schema_limit, on the first manifest (inference) and on later ones (evolve)."""
from __future__ import annotations

import json

from pyspark.sql import types as T

from conftest import CATALOG_DB, Batch
from ndjson_conversion.catalog import hive_type
from ndjson_conversion.run import run
from ndjson_conversion.schema import DEFAULT_MAX_SCHEMA_FIELDS, capped_additions, leaf_count, new_leaves

# Glue API reference, "Column" structure: a column's Type is at most 131,072 characters.
GLUE_COLUMN_TYPE_MAX = 131_072
KEYS_PER_LINE, LINES = 10, 300  # 3,000 distinct keys over the manifest's lines


def map_like_lines(first: int = 0) -> list[str]:
    """Lines whose `attrs` object carries keys no other line has (a map written as an object)."""
    return [json.dumps({"id": first + n, "attrs": {f"k{first + n:04d}_{k}": k for k in range(KEYS_PER_LINE)}})
            for n in range(LINES)]


def convert(spark, glue, batch: Batch, lines: list[str], **params):
    batch.add(f"{batch.manifest_id}.ndjson", "\n".join(lines) + "\n")
    return run(spark, batch.params(catalog_database=CATALOG_DB, **params), glue_client_factory=lambda: glue)


def recorded(glue) -> tuple[T.StructType, list[dict]]:
    t = glue.get_table(DatabaseName=CATALOG_DB, Name="orders")["Table"]
    return T.StructType.fromJson(json.loads(t["Parameters"]["pipeline.schema"])), t["StorageDescriptor"]["Columns"]


def assert_adds_up(result):
    assert result["linesIn"] == result["rowsOut"] + result["rowsQuarantined"] + result["blankLines"]  # I5


def test_the_first_manifests_inferred_schema_stops_at_the_cap_and_the_lines_past_it_are_schema_limit(
        spark, glue, tmp_path):
    batch = Batch(tmp_path, "orders-20261123-000001")

    result = convert(spark, glue, batch, map_like_lines())

    schema, columns = recorded(glue)
    assert leaf_count(schema) == DEFAULT_MAX_SCHEMA_FIELDS  # id and 999 of the 3,000 keys, in name order
    assert all(len(c["Type"]) <= GLUE_COLUMN_TYPE_MAX for c in columns)
    # Lines 0-98 hold only recorded keys; line 99 has k0099_9, the 1,000th key, and every later line new ones.
    assert (result["rowsOut"], result["quarantineReasons"]) == (99, {"schema_limit": LINES - 99})
    assert_adds_up(result)
    quarantined = batch.quarantined()
    assert {q["reason"] for q in quarantined} == {"schema_limit"}
    assert [q["line_number"] for q in quarantined] == list(range(100, LINES + 1))
    assert spark.read.parquet(str(batch.partition_dir)).count() == 99


def test_later_manifests_evolve_up_to_the_cap_and_quarantine_the_rest_as_schema_limit(spark, glue, tmp_path):
    first = convert(spark, glue, Batch(tmp_path, "orders-20261123-000001"),
                    [json.dumps({"id": n, "name": f"n{n}"}) for n in range(5)])
    assert first["rowsOut"] == 5

    batch = Batch(tmp_path, "orders-20261123-000002")
    result = convert(spark, glue, batch, map_like_lines() + ['{"id":1000,"name":"known fields only"}'],
                     max_schema_fields=500)

    schema, columns = recorded(glue)
    assert leaf_count(schema) == 500  # id, name and 498 keys
    assert all(len(c["Type"]) <= GLUE_COLUMN_TYPE_MAX for c in columns)
    assert (result["rowsOut"], result["quarantineReasons"]) == (49 + 1, {"schema_limit": LINES - 49})
    assert_adds_up(result)
    assert {q["reason"] for q in batch.quarantined()} == {"schema_limit"}

    # The record is full: a third manifest adds nothing, and its new keys are schema_limit at once.
    third = Batch(tmp_path, "orders-20261123-000003")
    again = convert(spark, glue, third, map_like_lines(5000) + ['{"id":1,"attrs":{"k0000_0":7}}'],
                    max_schema_fields=500)
    assert recorded(glue)[0] == schema
    assert (again["rowsOut"], again["quarantineReasons"]) == (1, {"schema_limit": LINES})
    assert again["schema"]["added"] == []
    assert_adds_up(again)


def test_a_strict_schema_still_quarantines_unknown_fields_as_unknown_field(spark, batch):
    batch.add("a.ndjson", '{"id":1}\n{"id":2,"extra":1}\n')
    pinned = batch.root / "schema.ddl"
    pinned.write_text("-- policy: strict\nid bigint\n")

    result = run(spark, batch.params(schema_uri=pinned.as_uri(), max_schema_fields=1))

    assert result["quarantineReasons"] == {"unknown_field": 1}


def test_capped_additions_keep_shallow_fields_first_then_deeper_ones_in_order_while_they_fit():
    recorded = T.StructType([T.StructField("id", T.LongType()),
                             T.StructField("c", T.StructType([T.StructField("name", T.StringType())]))])
    additions = T.StructType([
        T.StructField("c", T.StructType([T.StructField("city", T.StringType()), T.StructField("zip", T.StringType())])),
        T.StructField("id", T.StringType()),  # recorded already, under another type: adds nothing
        T.StructField("items", T.ArrayType(T.StructType([T.StructField("qty", T.LongType()),
                                                         T.StructField("sku", T.StringType())]))),
        T.StructField("tags", T.ArrayType(T.StringType())),
    ])
    assert leaf_count(recorded) == 2 and new_leaves(recorded, additions) == 5

    kept = capped_additions(recorded, additions, 5)

    # Top-level leaves first (tags), then one struct deep in order (c.city, c.zip); items.* no longer fit.
    assert kept == T.StructType([
        T.StructField("c", T.StructType([T.StructField("city", T.StringType()), T.StructField("zip", T.StringType())])),
        T.StructField("id", T.StringType()),
        T.StructField("tags", T.ArrayType(T.StringType())),
    ])
    assert new_leaves(recorded, kept) == 3
    assert new_leaves(recorded, capped_additions(recorded, additions, 6)) == 4  # and items[].qty
    assert capped_additions(recorded, additions, 2) == T.StructType([
        T.StructField("c", T.StructType([])), T.StructField("id", T.StringType())])
    assert capped_additions(recorded, additions, 100) == additions


def test_the_default_cap_keeps_a_struct_column_of_120_character_names_within_glues_column_type_limit():
    # docs/architecture.md, "Dataset schema": 1,000 leaves with names of 120 characters and a Hive type at least as
    # long as any the inference gives (timestamp) fit Glue's Column Type.
    attrs = T.StructType([T.StructField(f"k{n:0119d}", T.TimestampType()) for n in range(DEFAULT_MAX_SCHEMA_FIELDS)])
    assert len(hive_type(attrs)) <= GLUE_COLUMN_TYPE_MAX
