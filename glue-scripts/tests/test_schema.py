"""One table per dataset (I8): the recorded schema across manifests, read back by Spark SQL and DuckDB with the
catalog's table as the schema; output names; RFC 8259 lines."""
from __future__ import annotations

import json

from conftest import CATALOG_DB, Batch
from ndjson_conversion.run import run

DB = CATALOG_DB


def convert(spark, glue, root, n: int, lines: list[str], dataset: str = "orders") -> Batch:
    batch = Batch(root, f"{dataset}-20261123-{n:06d}", dataset)
    batch.add(f"part-{n}.ndjson", "\n".join(lines) + "\n")
    batch.result = run(spark, batch.params(catalog_database=DB), glue_client_factory=lambda: glue)
    return batch


def table(glue, name="orders"):
    return glue.get_table(DatabaseName=DB, Name=name)["Table"]


def spark_sql_table(spark, glue, name="orders"):
    """The dataset as Spark SQL sees it through the catalog's table: its columns and types, its partitions."""
    t = table(glue, name)
    columns = ", ".join(f"`{c['Name']}` {c['Type']}" for c in t["StorageDescriptor"]["Columns"])
    keys = ", ".join(f"`{k['Name']}` {k['Type']}" for k in t["PartitionKeys"])
    spark.sql(f"DROP TABLE IF EXISTS {name}")
    spark.sql(f"CREATE TABLE {name} ({columns}, {keys}) USING parquet PARTITIONED BY "
              f"({', '.join(k['Name'] for k in t['PartitionKeys'])}) LOCATION '{t['StorageDescriptor']['Location']}'")
    for p in glue.get_partitions(DatabaseName=DB, TableName=name)["Partitions"]:
        spec = ", ".join(f"{k['Name']}='{v}'" for k, v in zip(t["PartitionKeys"], p["Values"], strict=True))
        spark.sql(f"ALTER TABLE {name} ADD PARTITION ({spec}) LOCATION '{p['StorageDescriptor']['Location']}'")
    return spark.table(name)


def test_a_dataset_over_several_manifests_is_one_table_that_spark_sql_and_duckdb_read_whole(spark, glue, tmp_path):
    from pyspark.sql import types as T

    batches = [
        convert(spark, glue, tmp_path, 1, ['{"id":1,"customer":{"name":"a"},"items":[{"sku":"A","qty":1}]}']),
        # a top-level field
        convert(spark, glue, tmp_path, 2, ['{"id":2,"customer":{"name":"b"},"items":[],"channel":"web"}']),
        # a nested field
        convert(spark, glue, tmp_path, 3, ['{"id":3,"customer":{"name":"c","tier":"gold"}}']),
        # a field inside an array of structs
        convert(spark, glue, tmp_path, 4, ['{"id":4,"items":[{"sku":"D","qty":4,"discount":0.5}]}']),
        # a value of another type than the table's, and a row beside it
        convert(spark, glue, tmp_path, 5, ['{"id":"five","customer":{"name":"e"}}',
                                           '{"id":6,"customer":{"name":"f","tier":7},"channel":"app"}']),
    ]

    assert [b.result["schema"]["added"] for b in batches] == [
        ["customer", "customer.name", "id", "items", "items[].qty", "items[].sku"], ["channel"],
        ["customer.tier"], ["items[].discount"], []]
    assert [b.result["quarantineReasons"] for b in batches[4:]] == [{"type_mismatch": 1}]
    # The table's versions say which manifest changed the schema, and how: the schema's history.
    versions = sorted(glue.get_table_versions(DatabaseName=DB, TableName="orders")["TableVersions"],
                      key=lambda v: int(v["VersionId"]))
    assert [v["Table"]["Parameters"]["pipeline.schemaChangedBy"] for v in versions] == [
        b.manifest_id for b in batches[:4]]
    assert [(q["reason"], q["line"]) for q in batches[4].quarantined()] == [
        ("type_mismatch", '{"id":"five","customer":{"name":"e"}}')]
    columns = [(c["Name"], c["Type"]) for c in table(glue)["StorageDescriptor"]["Columns"]]
    assert columns == [("customer", "struct<name:string,tier:string>"), ("id", "bigint"),
                       ("items", "array<struct<qty:bigint,sku:string,discount:double>>"), ("channel", "string"),
                       ("_source_file", "string"), ("_source_version", "string"), ("_ingested_at", "timestamp")]
    for _, hive in columns:
        T._parse_datatype_string(hive)  # the catalog's types parse

    # Spark SQL, with the catalog's table as the schema: every row, every type the table's.
    df = spark_sql_table(spark, glue)
    partition_keys = ("ingest_date", "manifest_id")
    types = {f.name: f.dataType.simpleString() for f in df.schema.fields if f.name not in partition_keys}
    assert types == dict(columns)
    rows = {r["id"]: r for r in df.collect()}
    assert sorted(rows) == [1, 2, 3, 4, 6]
    assert (rows[1]["customer"]["tier"], rows[3]["customer"]["tier"], rows[6]["customer"]["tier"]) == (
        None, "gold", "7")  # a string field holds any value as its JSON text
    assert [(i["sku"], i["qty"], i["discount"]) for i in rows[4]["items"]] == [("D", 4, 0.5)]
    assert rows[1]["items"][0]["discount"] is None and rows[1]["channel"] is None and rows[6]["channel"] == "app"
    assert {r["manifest_id"] for r in rows.values()} == {b.manifest_id for b in batches}

    # DuckDB over the dataset's prefix with hive partitioning: the same rows, the table's types.
    import duckdb

    con = duckdb.connect()
    location = table(glue)["StorageDescriptor"]["Location"].removeprefix("file://")
    query = (f"SELECT * FROM read_parquet('{location}**/*.parquet', hive_partitioning=true, union_by_name=true)")
    described = {name: kind for name, kind, *_ in con.execute(f"DESCRIBE {query}").fetchall()}
    assert described["id"] == "BIGINT" and described["channel"] == "VARCHAR"
    assert described["customer"] == "STRUCT(\"name\" VARCHAR, tier VARCHAR)"
    assert described["items"] == "STRUCT(qty BIGINT, sku VARCHAR, discount DOUBLE)[]"
    duck = {r[0]: r for r in con.execute(f"SELECT id, customer.tier, items, channel FROM ({query})").fetchall()}
    assert sorted(duck) == [1, 2, 3, 4, 6]
    assert (duck[3][1], duck[6][1], duck[6][3]) == ("gold", "7", "app")
    assert duck[4][2] == [{"qty": 4, "sku": "D", "discount": 0.5}]


HOSTILE = {"a b": 1, "x:y": {"p,q": 2, "<r>": 3}, "1st": 4, "Case": 6, "case": 7, "ünï": 8, "`tick`": 9,
           "_source_file": "theirs", "semi;colon": [{"c=d": 10}]}


def test_field_names_that_hive_athena_or_parquet_refuse_are_mapped_alike_in_parquet_catalog_and_record(
        spark, glue, tmp_path):
    from pyspark.sql import types as T

    batch = convert(spark, glue, tmp_path, 1, [json.dumps(HOSTILE), '{"Case":1,"case":2,"CASE":3}',
                                               '{"": 5}', '{"Case":0,"x:y":{"":1}}'])

    assert batch.result["rowsOut"] == 2
    # No column can be named "": such a field quarantines its line, with the reason.
    assert [q["reason"] for q in batch.quarantined()] == ["empty_name", "empty_name"]
    columns = [(c["Name"], c["Type"]) for c in table(glue)["StorageDescriptor"]["Columns"]]
    assert columns[:-3] == [("_1st", "bigint"), ("CASE", "bigint"), ("Case_2", "bigint"),
                            ("_source_file_2", "string"), ("_tick_", "bigint"), ("a_b", "bigint"),
                            ("case_3", "bigint"), ("semi_colon", "array<struct<c_d:bigint>>"),
                            ("x_y", "struct<_r_:bigint,p_q:bigint>"), ("_n_", "bigint")]
    for _, hive in columns:
        T._parse_datatype_string(hive)
    written = spark.read.parquet(str(batch.partition_dir))
    assert [(f.name, f.dataType.simpleString()) for f in written.schema.fields] == columns
    rows = sorted(written.collect(), key=lambda r: r["_1st"] is None)
    assert (rows[0]["x_y"]["p_q"], rows[0]["semi_colon"][0]["c_d"], rows[0]["_source_file_2"]) == (2, 10, "theirs")
    assert (rows[1]["Case_2"], rows[1]["case_3"], rows[1]["CASE"]) == (1, 2, 3)
    # The record keeps each JSON name with its column, so the next manifest maps them the same way.
    recorded = T.StructType.fromJson(json.loads(table(glue)["Parameters"]["pipeline.schema"]))
    assert {f.name: f.metadata["column"] for f in recorded.fields}["x:y"] == "x_y"
    again = convert(spark, glue, tmp_path, 2, ['{"case":5,"Case":4}'])
    assert (again.result["schema"]["added"], spark.read.parquet(str(again.partition_dir)).first()["case_3"]) == ([], 5)


# RFC 8259: one value a line. Valid objects are rows; other valid values are not_an_object; the rest is invalid.
RFC_OBJECTS = [
    '{}',
    ' {"a" : [ ] } ',
    '{"Image": {"Width": 800, "Height": 600, "Title": "View from 15th Floor", "Thumbnail": {"Url": '
    '"http://www.example.com/image/481989943", "Height": 125, "Width": 100}, "Animated": false, '
    '"IDs": [116, 943, 234, 38793]}}',
    '{"num": -0.5e+1, "big": 1E2, "zero": 0, "neg": -0}',
    '{"esc": "\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud834\\udd1e"}',
    '{"nested": {"deep": {"deeper": [[1], [2, 3]]}}}',
    '{"k": 1, "K": 2}',
]
RFC_OTHER_VALUES = ['[]', '[{"precision": "zip", "Latitude": 37.7668}]', '"Hello world!"', '42', '-1.5e3', 'true',
                    'false', 'null']
RFC_INVALID = ["{'a': 1}", '{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '{"a": 01}', '{a: 1}',
               '{"a": 1} // comment', '/* c */ {"a": 1}', '{}}', '{"a": 1,}', '{"a": .5}', '{"a": +1}',
               '{"a": 0x10}', '{"a": "\\x"}', '{"a": "tab\there"}', '{"a": tru}', '{"a" 1}', '{,}', '[1,]',
               '{"a": 1} x', '{"a": "\\u12"}', '{"a": [1 2]}', '{"a": 1.}', '{"a": 1e}', "{\"a\": '\u00e9'}"]


def test_rfc_8259_valid_objects_are_rows_and_every_other_line_is_quarantined_with_its_reason(spark, glue, tmp_path):
    lines = RFC_OBJECTS + RFC_OTHER_VALUES + RFC_INVALID + ['{"a": 1, "a": 2}', '{"o": {"b": 1, "b": 1}}']

    batch = convert(spark, glue, tmp_path, 1, lines)

    assert batch.result["filesRead"] == 1 and batch.result["rowsOut"] == len(RFC_OBJECTS)
    assert batch.result["quarantineReasons"] == {"duplicate_name": 2, "invalid_json": len(RFC_INVALID),
                                                 "not_an_object": len(RFC_OTHER_VALUES)}
    reasons = {q["line"]: q["reason"] for q in batch.quarantined()}
    assert reasons == {**{line: "not_an_object" for line in RFC_OTHER_VALUES},
                       **{line: "invalid_json" for line in RFC_INVALID},
                       '{"a": 1, "a": 2}': "duplicate_name", '{"o": {"b": 1, "b": 1}}': "duplicate_name"}
    written = spark.read.parquet(str(batch.partition_dir))
    rows = written.collect()
    image = next(r for r in rows if r["Image"] is not None)["Image"]
    assert (image["Thumbnail"]["Width"], image["IDs"]) == (100, [116, 943, 234, 38793])
    escaped = next(r for r in rows if r["esc"] is not None)["esc"]
    assert escaped == '"\\/\b\f\n\r\té\U0001d11e'
    assert {(r["K"], r["k_2"]) for r in rows if r["K"] is not None} == {(2, 1)}


def test_fields_that_carry_no_data_add_no_column_and_are_not_lost(spark, glue, tmp_path):
    convert(spark, glue, tmp_path, 1, ['{"id":1,"gone":null,"empty":{},"none":[]}'])
    second = convert(spark, glue, tmp_path, 2, ['{"id":2,"later":null,"hollow":{"x":null},"list":[null]}',
                                                '{"id":3,"gone":"now"}'])

    assert [c["Name"] for c in table(glue)["StorageDescriptor"]["Columns"]][:-3] == ["id", "gone"]
    assert second.result["schema"]["added"] == ["gone"] and second.result["rowsOut"] == 2


def test_the_line_check_finds_duplicate_names_at_every_depth_and_integers_out_of_range(spark):
    from ndjson_conversion.lines import check_line
    from ndjson_conversion.schema import load_schema

    schema = load_schema(spark, "id int, s string, o struct<k: bigint, a: array<struct<x: string>>>, "
                                "m map<string, bigint>")
    expected = {
        '{"id": 1, "id": 2}': "duplicate_name",
        '{"s": {"p": 1, "p": 2}}': "duplicate_name",  # in a string field's object
        '{"o": {"a": [{"x": "1"}, {"x": "1", "x": "2"}]}}': "duplicate_name",  # in an array of structs
        '{"m": {"k": 1, "k": 2}}': "duplicate_name",  # a map's keys
        '{"u": {"v": 1, "v": 1}}': "duplicate_name",  # in a field the schema lacks
        '{"u": {"v": 1}, "u": 2}': "duplicate_name",
        '{"id": "x", "id": "y"}': "duplicate_name",
        '{"a": 1, "a": 2}, {"b": 1}': "multiple_values",
        '{"s": {"p": 1, "q": [{"p": 1}, {"p": 2}]}, "o": {"k": 1}}': None,
        '{"s": {"": 1}}': None,  # data inside a string field
        '{"u": {"": 1}}': "empty_name",
        '{"id": 2147483647}': None, '{"id": -2147483648}': None, '{"id": 123456789}': None,
        '{"id": 2147483648}': "type_mismatch", '{"id": -2147483649}': "type_mismatch",
        '{"o": {"k": 9223372036854775807}}': None, '{"o": {"k": -9223372036854775808}}': None,
        '{"o": {"k": 999999999999999999}}': None,
        '{"o": {"k": 9223372036854775808}}': "type_mismatch", '{"o": {"k": -9223372036854775809}}': "type_mismatch",
        '{"u": 1}': "unknown_field", '{"u": [null, {}]}': None,
    }
    lines = spark.createDataFrame([(line,) for line in expected], "line string")

    got = {r["line"]: r["reason"] for r in lines.select("line", check_line(spark, schema, 1024).alias("reason"))
           .collect()}

    assert got == expected
