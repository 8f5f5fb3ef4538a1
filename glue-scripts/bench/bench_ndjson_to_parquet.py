"""Benchmark: the Glue job on local Spark (2 cores) against DuckDB (2 threads) on the same NDJSON batch.

    .venv/bin/python glue-scripts/bench/bench_ndjson_to_parquet.py                    # 200 files x 3.5 MB
    .venv/bin/python glue-scripts/bench/bench_ndjson_to_parquet.py --files 20 --size 1  # a quick run
    .venv/bin/python glue-scripts/bench/bench_ndjson_to_parquet.py --compression zstd,snappy
    .venv/bin/python glue-scripts/bench/bench_ndjson_to_parquet.py --subset 40 --schema both  # stage profile

The batch is generated once (deterministic seed) under .bench/glue/ and reused. The job runs through the same
`run()` the Glue entry point calls, on a fresh local[2] session (session start is reported apart); DuckDB
converts the same files with the same compression as a single-node reference. Prints throughputs, their ratio,
Spark core-seconds per GB and the Glue cost that follows, with the assumptions stated, and the load average
before and after (the machine may be shared: compare runs only at similar loads).

`--warmup-files N` first runs the job, unmeasured, on N files: the first run in a JVM pays for the JIT compiler
and Spark's code generation (on 147 MB, 43 s cold against 13 s warm), which a Glue run pays too, since each
starts a JVM; the default (no warm-up) gives the figure a Glue run sees.

`--bare` also times Spark's bare conversion of the same files, last, in the same (by then warm) JVM: its JSON
reader with the pinned schema straight into Parquet, without anything else the job does. It shows how much of
the gap to DuckDB is Spark's own reader and writer on these cores.

`--schema pinned` runs the job with the pinned schema `orders.schema.ddl` (beside this file, `--schema_uri` of the
job) instead of inferring it; `both` runs the two one after the other and reports them apart. The Spark driver
(local mode: the only JVM) gets `--driver-memory` (default 4g); the job persists the parsed records, which spill
to disk when they do not fit.

What DuckDB does, and does not do, compared with the job: it reads the same files with 2 threads and writes one
Parquet file with the same codec (both at the codec's default level), with the file name as a column and a
timestamp added like the job's `_source_file` and `_ingested_at`. It infers the schema from a sample
(`read_json`'s default), not from every line; it does not separate bad lines (with `ignore_errors` they become
rows of nulls, blank lines are skipped), does not number lines, checks no counts, writes no partition layout, no quarantine, no catalog.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import datagen  # noqa: E402

SPARK_CORES = 2
PINNED_SCHEMA = HERE / "orders.schema.ddl"
PRICES = {"STANDARD": 0.44, "FLEX": 0.29}  # USD per DPU-hour, G.1X, us-east-1
MANIFESTS_PER_DAY = 40
DAYS_PER_MONTH = 30


def spark_session(driver_memory: str):
    os.environ.setdefault("PYSPARK_SUBMIT_ARGS",
                          f"--master local[{SPARK_CORES}] --driver-memory {driver_memory} pyspark-shell")
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.appName("bench-ndjson-to-parquet")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", str(SPARK_CORES * 4)).getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def dir_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file() and not p.name.startswith(("_", "."))]
    return len(files), sum(p.stat().st_size for p in files)


def subset(batch: dict, files: int, size_mb: float) -> dict:
    """The batch's first `files` files with their counts, generated again (deterministic) without writing."""
    totals = {"lines": 0, "bad": 0, "blank": 0}
    for i in range(files):
        counts = datagen.write_file(os.devnull, i, int(size_mb * 1024 * 1024), 42, 0.001)
        for k in totals:
            totals[k] += counts[k]
    paths = batch["paths"][:files]
    return {**batch, "paths": paths, **totals, "bytes": sum(os.path.getsize(p) for p in paths)}


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def run_spark(spark, batch: dict, work: Path, compression: str, target_mb: int, schema_uri: str = "") -> dict:
    from ndjson_to_parquet import JobParams, run

    out = work / f"spark-{compression}{'-pinned' if schema_uri else ''}"
    shutil.rmtree(out, ignore_errors=True)
    manifest_id = "orders-20261123-000001"
    manifest = out / "manifests" / f"{manifest_id}.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"manifestId": manifest_id, "dataset": "orders", "files": [
        {"uri": "file://" + p, "size": os.path.getsize(p)} for p in batch["paths"]]}))
    params = JobParams(
        manifest_uri=f"file://{manifest}", manifest_id=manifest_id, dataset="orders", ingest_date="2026-11-23",
        curated_path=f"file://{out}/curated/", quarantine_path=f"file://{out}/quarantine/",
        result_uri=f"file://{out}/manifests/{manifest_id}.result.json", target_file_mb=target_mb,
        compression=compression, schema_uri=schema_uri)
    stages: dict[str, float] = {}
    started = time.monotonic()
    result = run(spark, params, stages=stages)
    seconds = time.monotonic() - started
    expected = (batch["lines"], batch["lines"] - batch["bad"] - batch["blank"], batch["bad"], batch["blank"])
    got = (result["linesIn"], result["rowsOut"], result["rowsQuarantined"], result["blankLines"])
    if got != expected:
        raise SystemExit(f"accounting mismatch: job {got}, generated {expected}")
    return {"seconds": seconds, "files": result["outputFiles"], "bytes": result["outputBytes"], "rows": got[1],
            "stages": stages}


def run_spark_bare(spark, batch: dict, work: Path, compression: str) -> dict:
    """Spark's own JSON-to-Parquet conversion of the same files, for reference: its JSON reader with the pinned
    schema straight into Parquet (same codec and level as the job, 2 files), and nothing else the job does."""
    from ndjson_to_parquet import PARQUET_WRITE_OPTIONS, load_schema

    out = work / f"spark-bare-{compression}"
    schema = load_schema(spark, PINNED_SCHEMA.read_text())
    started = time.monotonic()
    (spark.read.schema(schema).json(batch["paths"]).coalesce(SPARK_CORES).write.mode("overwrite")
     .option("compression", compression).options(**PARQUET_WRITE_OPTIONS.get(compression, {})).parquet(str(out)))
    seconds = time.monotonic() - started
    files, size = dir_size(out)
    return {"seconds": seconds, "files": files, "bytes": size}


def run_duckdb(batch: dict, work: Path, compression: str) -> dict:
    import duckdb

    out = work / f"duckdb-{compression}.parquet"
    out.unlink(missing_ok=True)
    con = duckdb.connect()
    con.execute(f"SET threads={SPARK_CORES}")
    started = time.monotonic()
    con.execute(f"COPY (SELECT *, current_timestamp AS _ingested_at FROM read_json(?, "
                f"format='newline_delimited', ignore_errors=true, maximum_object_size=16777216, filename=true)) "
                f"TO '{out}' (FORMAT parquet, COMPRESSION {compression})",
                [batch["paths"]])
    seconds = time.monotonic() - started
    rows = con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
    return {"seconds": seconds, "files": 1, "bytes": out.stat().st_size, "rows": rows}


def glue_cost(core_seconds_per_gb: float, manifest_gb: float, workers: int, overhead_s: float) -> dict:
    # One G.1X worker is 1 DPU with 4 vCPU; Glue runs the driver on one worker, executors on the others.
    executor_cores = max(1, workers - 1) * 4
    seconds = overhead_s + core_seconds_per_gb * manifest_gb / executor_cores
    billed = max(60.0, math.ceil(seconds))
    per_run = {cls: workers * billed / 3600 * price for cls, price in PRICES.items()}
    return {"seconds": seconds, "billed": billed, "per_run": per_run,
            "per_month": {cls: v * MANIFESTS_PER_DAY * DAYS_PER_MONTH for cls, v in per_run.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200, help="objects in the batch (default 200)")
    parser.add_argument("--size", type=float, default=3.5, help="MB per object (default 3.5)")
    parser.add_argument("--subset", type=int, default=0,
                        help="convert only the batch's first N files (the batch is still the cached one)")
    parser.add_argument("--schema", choices=("inferred", "pinned", "both"), default="inferred",
                        help="the job infers the schema (default), uses the pinned orders.schema.ddl, or both")
    parser.add_argument("--compression", default="zstd", help="zstd, snappy, or both: zstd,snappy")
    parser.add_argument("--target-file-mb", type=int, default=128)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--glue-workers", type=int, default=2, help="G.1X workers assumed per run (default 2)")
    parser.add_argument("--glue-overhead", type=float, default=20.0,
                        help="seconds of billed time per run besides the conversion (default 20)")
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--bare", action="store_true",
                        help="also time Spark's bare JSON-to-Parquet conversion of the same files (pinned schema, "
                             "nothing else the job does), run last, as a reference for what Spark itself reaches")
    parser.add_argument("--warmup-files", type=int, default=0,
                        help="first run the job on the batch's first N files, unmeasured, so that the measured "
                             "runs see a warm JVM (a Glue run starts cold: compare with 0, the default)")
    args = parser.parse_args()

    cache = ROOT / ".bench" / "glue"
    print(f"batch: {args.files} files x {args.size:g} MB (generated once under {cache})", flush=True)
    batch = datagen.ensure_batch(str(cache), args.files, args.size)
    if args.subset:
        batch = subset(batch, args.subset, args.size)
    mb = batch["bytes"] / 1e6
    print(f"  {mb:.1f} MB, {batch['lines']} lines, {batch['bad']} bad, {batch['blank']} blank", flush=True)
    work = cache / "out"

    print(f"load average (1, 5, 15 min) at start: {load_average()} on {os.cpu_count()} cores", flush=True)
    started = time.monotonic()
    spark = spark_session(args.driver_memory)
    print(f"spark session start: {time.monotonic() - started:.1f} s (not counted below)", flush=True)

    if args.warmup_files:
        warm = subset(batch, args.warmup_files, args.size)
        w = run_spark(spark, warm, work, "zstd", args.target_file_mb)
        print(f"warm-up run on {args.warmup_files} files ({warm['bytes'] / 1e6:.1f} MB): {w['seconds']:.1f} s "
              f"(not counted)", flush=True)
    duck: dict[str, dict] = {}
    schemas = {"inferred": [""], "pinned": [PINNED_SCHEMA.as_uri()],
               "both": ["", PINNED_SCHEMA.as_uri()]}[args.schema]
    for compression, schema_uri in [(c.strip(), u) for c in args.compression.split(",") if c.strip()
                                    for u in schemas]:
        s = run_spark(spark, batch, work, compression, args.target_file_mb, schema_uri)
        s_mbps = mb / s["seconds"]
        label = f"{compression}, {'pinned' if schema_uri else 'inferred'} schema"
        print(f"\n[{label}] spark local[{SPARK_CORES}]: {s['seconds']:.1f} s, {s_mbps:.1f} MB/s, "
              f"{s['files']} file(s), {s['bytes'] / 1e6:.1f} MB Parquet ({s['bytes'] / batch['bytes']:.3f} of input)",
              flush=True)
        print(f"[{label}] spark stages (s): " + ", ".join(f"{k} {v:.1f}" for k, v in s["stages"].items()),
              flush=True)
        if not args.skip_duckdb:
            if compression not in duck:
                duck[compression] = run_duckdb(batch, work, compression)
                d = duck[compression]
                print(f"[{compression}] duckdb threads={SPARK_CORES}: {d['seconds']:.1f} s, "
                      f"{mb / d['seconds']:.1f} MB/s, {d['bytes'] / 1e6:.1f} MB Parquet, {d['rows']} rows "
                      f"(rows of nulls for bad lines: not separated)", flush=True)
            d_mbps = mb / duck[compression]["seconds"]
            print(f"[{label}] spark / duckdb throughput: {s_mbps / d_mbps:.2f}x (goal >= 0.30x)")
        core_s_per_gb = s["seconds"] * SPARK_CORES / (batch["bytes"] / 1e9)
        print(f"[{label}] spark core-seconds per GB: {core_s_per_gb:.0f}")
        manifest_gb = 200 * 3.5e6 / 1e9
        cost = glue_cost(core_s_per_gb, manifest_gb, args.glue_workers, args.glue_overhead)
        print(f"[{label}] Glue per manifest of {manifest_gb * 1000:.0f} MB, {args.glue_workers} x G.1X "
              f"({args.glue_workers} DPU), {args.glue_overhead:.0f} s overhead: {cost['seconds']:.0f} s, "
              f"billed {cost['billed']:.0f} s -> STANDARD ${cost['per_run']['STANDARD']:.4f}, "
              f"FLEX ${cost['per_run']['FLEX']:.4f}")
        print(f"[{label}] per month at {MANIFESTS_PER_DAY} manifests/day: "
              f"STANDARD ${cost['per_month']['STANDARD']:.2f}, FLEX ${cost['per_month']['FLEX']:.2f}")
    if args.bare:
        b = run_spark_bare(spark, batch, work, "zstd")
        line = (f"\n[reference] Spark's bare conversion (pinned schema, JSON reader straight to Parquet, run after "
                f"the job in the same JVM; no line numbers, accounting, quarantine or catalog): {b['seconds']:.1f} s, "
                f"{mb / b['seconds']:.1f} MB/s, {b['bytes'] / 1e6:.1f} MB Parquet")
        if "zstd" in duck:
            line += f", {mb / b['seconds'] / (mb / duck['zstd']['seconds']):.2f}x DuckDB"
        print(line, flush=True)
    print(f"\nload average (1, 5, 15 min) at end: {load_average()}")
    print("\nassumptions: G.1X = 1 DPU, 4 vCPU; $0.44 (STANDARD) / $0.29 (FLEX) per DPU-hour; Glue 5.x bills per "
          "second with a 1-minute minimum; a Glue vCPU does the work of one local core; no auto scaling; "
          "MB = 10^6 bytes, GB = 10^9 bytes.")
    spark.stop()


if __name__ == "__main__":
    main()
