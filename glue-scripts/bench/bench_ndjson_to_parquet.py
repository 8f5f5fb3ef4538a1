"""Benchmark: the Glue job on local Spark (2 cores) against Spark's bare conversion and DuckDB (2 threads), on the
same NDJSON batch.

    make bench-glue                                                                   # 200 files x 3.5 MB
    .venv/bin/python glue-scripts/bench/bench_ndjson_to_parquet.py --files 20 --size 1  # a quick run
    .venv/bin/python glue-scripts/bench/bench_ndjson_to_parquet.py --subset 40         # the batch's first 40 files

The batch is generated once (deterministic seed) under .bench/glue/ and reused. The job runs through the same
`run()` the Glue entry point calls, on one local[2] session (its start is reported apart), in this order:

1. first manifest, cold JVM: the dataset has no recorded schema; the job infers it from the first lines, converts,
   widens it from any line the pass finds outside it (converting again then), and records it.
2. `--rounds` rounds (5 by default), each alternating, in the same (by then warm) JVM: Spark's bare conversion
   (its JSON reader with the recorded schema straight into Parquet, nothing else the job does: no line check, line
   numbers, accounting, quarantine, catalog); the first manifest again (the record removed); and the steady state
   (another manifest of the same files, the schema recorded: one pass, with the line check on every line and every
   line counted). Each round's ratios are to its own bare conversion; the medians over the rounds are reported, so
   one slow moment of a shared machine does not decide the figures.
3. each case once more in a process, and JVM, of its own (bare Spark, first manifest, steady state), as every Glue
   run starts a fresh JVM: the JIT has not warmed up, so these are the ratios a Glue run sees.
4. DuckDB (`--skip-duckdb` to leave it out), for reference.

The last line reads `ratio to bare Spark: steady <r>x, first <r>x` (the medians of the warm rounds); the line before
it gives the fresh-JVM ratios. The machine may be shared: compare runs only at similar loads (printed at start and
end). From the fresh-JVM steady state the benchmark also works out what one Glue run of the reference manifest
(docs/cost.md: 83.3 files of 3.5 MB, about 292 MB) costs, from its start to its end.

What DuckDB does, and does not do, compared with the job: it reads the same files with 2 threads and writes one
Parquet file with the same codec, with the file name as a column and a timestamp added like the job's
`_source_file` and `_ingested_at`. It infers the schema from a sample (`read_json`'s default), not from every
line; it does not separate bad lines (with `ignore_errors` they become rows of nulls, blank lines are skipped),
does not number lines, checks no counts, writes no partition layout, no quarantine, no catalog.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))  # the job's package, as Glue has it from --extra-py-files

import datagen  # noqa: E402

SPARK_CORES = 2
# The job's JVM helpers, built by `make install` (Maven).
LINE_CHECK_JAR = ROOT / "glue-scripts" / "jvm" / "build" / "pipeline-json.jar"
PRICES = {"STANDARD": 0.44, "FLEX": 0.29}  # USD per DPU-hour, G.1X, us-east-1
MANIFESTS_PER_DAY = 40
# The reference manifest of docs/cost.md: the files one dataset gathers in 15 minutes at 8,000 files of 3.5 MB a day.
REFERENCE_MANIFEST_BYTES = 8000 / 86400 * 900 * 3.5e6
DAYS_PER_MONTH = 30
# Where the figures go for `pipeline cost` (cli/ops/cost/), as bench/manifest-builder.ts writes its own; the
# environment variable BENCH_RESULT_FILE names another file, "-" none.
RESULT_FILE = ROOT / "bench" / "results" / "glue-job.json"


def spark_session(driver_memory: str):
    os.environ.setdefault("PYSPARK_SUBMIT_ARGS",
                          f"--master local[{SPARK_CORES}] --driver-memory {driver_memory} --jars {LINE_CHECK_JAR} "
                          "pyspark-shell")
    from pyspark.sql import SparkSession

    builder: Any = SparkSession.builder
    spark = (builder.appName("bench-ndjson-to-parquet")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", str(SPARK_CORES * 4))
             # Spark's catalog folders go under .bench/, not into the folder the benchmark is started from.
             .config("spark.sql.warehouse.dir", str(ROOT / ".bench" / "spark-warehouse"))
             .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={ROOT / '.bench' / 'derby'}")
             .getOrCreate())
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


def run_job(spark, batch: dict, out: Path, manifest_id: str, compression: str, target_mb: int) -> dict:
    """One run of the job on the batch as manifest `manifest_id` of the dataset under `out` (its recorded schema, if
    any, stays there between runs); checks its counts against the generator's."""
    from ndjson_conversion.arguments import JobParams
    from ndjson_conversion.run import run

    manifest = out / "manifests" / f"{manifest_id}.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"manifestId": manifest_id, "dataset": "orders", "files": [
        {"uri": "file://" + p, "size": os.path.getsize(p)} for p in batch["paths"]]}))
    params = JobParams(
        manifest_uri=f"file://{manifest}", manifest_id=manifest_id, dataset="orders", ingest_date="2026-11-23",
        curated_path=f"file://{out}/curated/", quarantine_path=f"file://{out}/quarantine/",
        result_uri=f"file://{out}/manifests/{manifest_id}.result.json", target_file_mb=target_mb,
        compression=compression)
    stages: dict[str, float] = {}
    started = time.monotonic()
    result = run(spark, params, stages=stages)
    seconds = time.monotonic() - started
    expected = (batch["lines"], batch["lines"] - batch["bad"] - batch["blank"], batch["bad"], batch["blank"])
    got = (result["linesIn"], result["rowsOut"], result["rowsQuarantined"], result["blankLines"])
    if got != expected:
        raise SystemExit(f"accounting mismatch: job {got}, generated {expected}")
    return {"seconds": seconds, "files": result["outputFiles"], "bytes": result["outputBytes"], "rows": got[1],
            "stages": stages, "schema": result["schema"]}


def run_spark_bare(spark, batch: dict, work: Path, compression: str, schema) -> dict:
    """Spark's own JSON-to-Parquet conversion of the same files, for reference: its JSON reader with the dataset's
    schema straight into Parquet (same codec and level as the job, 2 files), and nothing else the job does."""
    from ndjson_conversion.output import PARQUET_WRITE_OPTIONS

    out = work / f"spark-bare-{compression}"
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
    counted = con.execute(f"SELECT count(*) FROM '{out}'").fetchone()
    rows = counted[0] if counted else 0
    return {"seconds": seconds, "files": 1, "bytes": out.stat().st_size, "rows": rows}


def glue_cost(core_seconds_per_gb: float, manifest_gb: float, workers: int, overhead_s: float) -> dict:
    # One G.1X worker is 1 DPU with 4 vCPU; Glue runs the driver on one worker, executors on the others.
    executor_cores = max(1, workers - 1) * 4
    seconds = overhead_s + core_seconds_per_gb * manifest_gb / executor_cores
    billed = max(60.0, math.ceil(seconds))
    per_run = {cls: workers * billed / 3600 * price for cls, price in PRICES.items()}
    return {"seconds": seconds, "billed": billed, "per_run": per_run,
            "per_month": {cls: v * MANIFESTS_PER_DAY * DAYS_PER_MONTH for cls, v in per_run.items()}}


def write_result(batch: dict, parquet_bytes: int, seconds: dict[str, float],
                 load_at_start: tuple[float, float, float], ratios: dict[str, float] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
    """Writes the run's figures to RESULT_FILE (or BENCH_RESULT_FILE) for `pipeline cost`: the batch, the machine,
    the seconds of each case (the medians of the warm rounds; `coldJvmExtra`: the first manifest cold minus warm), the
    two ratios to bare Spark (`ratios`: the medians of the rounds' ratios; else the seconds' ratios), and `extra`
    (each round, the fresh-JVM runs, the Glue run of the reference manifest)."""
    target = os.environ.get("BENCH_RESULT_FILE") or str(RESULT_FILE)
    if target == "-":
        return
    result = {
        "benchmark": "make bench-glue",
        "date": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "machine": {"cores": os.cpu_count(), "platform": f"{sys.platform} {platform.release()}",
                    "loadAtStart": [round(x, 2) for x in load_at_start],
                    "loadAtEnd": [round(x, 2) for x in os.getloadavg()]},
        "batch": {"files": len(batch["paths"]), "megabytes": round(batch["bytes"] / 1e6, 1), "lines": batch["lines"],
                  "quarantinedLines": batch["bad"], "blankLines": batch["blank"]},
        "parquetMegabytes": round(parquet_bytes / 1e6, 1),
        "sparkCores": SPARK_CORES,
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "ratios": {k: round(v, 2) for k, v in (ratios or {
            "steady": seconds["steady"] / seconds["bareSpark"],
            "first": seconds["firstWarm"] / seconds["bareSpark"]}).items()},
        **(extra or {}),
    }
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {os.path.relpath(target)}", flush=True)


def drop_output(dataset: Path, manifest_id: str) -> None:
    """Removes what one run of the job wrote (its partition and quarantine), so repeated runs do not fill the disk;
    the recorded schema stays."""
    shutil.rmtree(dataset / "curated" / "orders" / "ingest_date=2026-11-23" / f"manifest_id={manifest_id}",
                  ignore_errors=True)
    shutil.rmtree(dataset / "quarantine" / "orders" / f"manifest_id={manifest_id}", ignore_errors=True)


def recorded_schema(dataset: Path):
    from pyspark.sql import types as T

    from ndjson_conversion.schema import output_type

    record = json.loads((dataset / "curated" / "orders" / "_schema.json").read_text())
    return output_type(T.StructType.fromJson(record["schema"]))


def run_case(spark, case: str, batch: dict, work: Path, dataset: Path, manifest_id: str, args) -> dict:
    """One case: `bare` (Spark's bare conversion), `first` (the first manifest: the record removed) or `steady`."""
    if case == "bare":
        return run_spark_bare(spark, batch, work, args.compression, recorded_schema(dataset))
    if case == "first":
        (dataset / "curated" / "orders" / "_schema.json").unlink(missing_ok=True)
    result = run_job(spark, batch, dataset, manifest_id, args.compression, args.target_file_mb)
    if case == "steady" and result["schema"]["added"]:
        raise SystemExit(f"the steady run added columns: {result['schema']['added']}")
    drop_output(dataset, manifest_id)
    return result


FRESH_CASES = {"bare": "", "first": "orders-20261123-300001", "steady": "orders-20261123-300002"}


def fresh_case(case: str, args) -> dict:
    """Runs one case in a Python process and JVM of its own (`--fresh-case`), as a Glue run does: its seconds, and
    `start`: the session's start (the JVM's launch among it)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--fresh-case", case, "--files", str(args.files),
               "--size", str(args.size), "--subset", str(args.subset), "--compression", args.compression,
               "--target-file-mb", str(args.target_file_mb), "--driver-memory", args.driver_memory]
    env = {k: v for k, v in os.environ.items() if k != "PYSPARK_SUBMIT_ARGS"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the fresh-JVM run of {case} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200, help="objects in the batch (default 200)")
    parser.add_argument("--size", type=float, default=3.5, help="MB per object (default 3.5)")
    parser.add_argument("--subset", type=int, default=0,
                        help="convert only the batch's first N files (the batch is still the cached one)")
    parser.add_argument("--compression", default="zstd", choices=("zstd", "snappy"))
    parser.add_argument("--target-file-mb", type=int, default=128)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--rounds", type=int, default=5,
                        help="warm rounds of bare Spark, first manifest and steady state, alternated (default 5)")
    parser.add_argument("--glue-workers", type=int, default=2, help="G.1X workers assumed per run (default 2)")
    parser.add_argument("--glue-overhead", type=float, default=20.0,
                        help="seconds of billed time per run besides the session and the conversion (default 20)")
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--fresh-case", choices=tuple(FRESH_CASES), help=argparse.SUPPRESS)  # one case, then exit
    args = parser.parse_args()

    cache = ROOT / ".bench" / "glue"
    batch = datagen.ensure_batch(str(cache), args.files, args.size)
    if args.subset:
        batch = subset(batch, args.subset, args.size)
    work = cache / "out"
    dataset = work / "dataset"
    if args.fresh_case:
        started = time.monotonic()
        spark = spark_session(args.driver_memory)
        start = time.monotonic() - started
        r = run_case(spark, args.fresh_case, batch, work, dataset, FRESH_CASES[args.fresh_case], args)
        spark.stop()
        print(json.dumps({"seconds": r["seconds"], "start": start}), flush=True)
        return

    print(f"batch: {args.files} files x {args.size:g} MB (generated once under {cache})", flush=True)
    mb = batch["bytes"] / 1e6
    print(f"  {mb:.1f} MB, {batch['lines']} lines, {batch['bad']} bad, {batch['blank']} blank", flush=True)
    shutil.rmtree(work, ignore_errors=True)

    load_at_start = os.getloadavg()
    print(f"load average (1, 5, 15 min) at start: {load_average()} on {os.cpu_count()} cores", flush=True)
    started = time.monotonic()
    spark = spark_session(args.driver_memory)
    print(f"spark session start: {time.monotonic() - started:.1f} s (not counted below)", flush=True)

    def report(label: str, r: dict) -> None:
        stages = r.get("stages")
        print(f"[{label}] {r['seconds']:.1f} s, {mb / r['seconds']:.1f} MB/s, {r['files']} file(s), "
              f"{r['bytes'] / 1e6:.1f} MB Parquet" + ("; stages (s): " + ", ".join(
                  f"{k} {v:.1f}" for k, v in stages.items()) if stages else ""), flush=True)

    first_cold = run_case(spark, "first", batch, work, dataset, "orders-20261123-000001", args)
    report("first manifest, cold JVM (inference)", first_cold)
    rounds = []
    for i in range(1, args.rounds + 1):
        bare = run_case(spark, "bare", batch, work, dataset, "", args)
        report(f"round {i}: Spark's bare conversion", bare)
        first = run_case(spark, "first", batch, work, dataset, f"orders-20261123-1{i:05d}", args)
        report(f"round {i}: first manifest (inference)", first)
        steady = run_case(spark, "steady", batch, work, dataset, f"orders-20261123-2{i:05d}", args)
        report(f"round {i}: steady state (schema recorded)", steady)
        rounds.append({"bareSpark": round(bare["seconds"], 2), "firstWarm": round(first["seconds"], 2),
                       "steady": round(steady["seconds"], 2),
                       "steadyRatio": round(steady["seconds"] / bare["seconds"], 3),
                       "firstRatio": round(first["seconds"] / bare["seconds"], 3), "parquetBytes": steady["bytes"]})
    spark.stop()
    if not args.skip_duckdb:
        d = run_duckdb(batch, work, args.compression)
        print(f"[DuckDB threads={SPARK_CORES}] {d['seconds']:.1f} s, {mb / d['seconds']:.1f} MB/s, "
              f"{d['bytes'] / 1e6:.1f} MB Parquet, {d['rows']} rows (rows of nulls for bad lines: not separated)",
              flush=True)

    fresh = {case: fresh_case(case, args) for case in FRESH_CASES}
    for case, r in fresh.items():
        print(f"[fresh JVM: {case}] {r['seconds']:.1f} s (its session started in {r['start']:.1f} s)", flush=True)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    steady_s, first_s, bare_s = med("steady"), med("firstWarm"), med("bareSpark")
    ratios = {"steady": med("steadyRatio"), "first": med("firstRatio")}
    fresh_ratios = {"steady": fresh["steady"]["seconds"] / fresh["bare"]["seconds"],
                    "first": fresh["first"]["seconds"] / fresh["bare"]["seconds"]}

    # One Glue run of the reference manifest, start to end, from the fresh-JVM steady state (a Glue run's JVM is new).
    core_s_per_gb = fresh["steady"]["seconds"] * SPARK_CORES / (batch["bytes"] / 1e9)
    reference_gb = REFERENCE_MANIFEST_BYTES / 1e9
    overhead = args.glue_overhead + fresh["steady"]["start"]
    cost = glue_cost(core_s_per_gb, reference_gb, args.glue_workers, overhead)
    print(f"\nfresh JVM: {core_s_per_gb:.0f} Spark core-seconds per GB in the steady state. A Glue run of the "
          f"reference manifest ({reference_gb * 1000:.0f} MB), {args.glue_workers} x G.1X: about "
          f"{cost['seconds']:.0f} s from start to end ({args.glue_overhead:.0f} s Glue start-up, "
          f"{fresh['steady']['start']:.0f} s session, {cost['seconds'] - overhead:.0f} s conversion), billed "
          f"{cost['billed']:.0f} s -> STANDARD ${cost['per_run']['STANDARD']:.4f}, FLEX ${cost['per_run']['FLEX']:.4f}"
          f" a run (at {MANIFESTS_PER_DAY} manifests/day: STANDARD ${cost['per_month']['STANDARD']:.2f}, FLEX "
          f"${cost['per_month']['FLEX']:.2f} a month)")
    print("assumptions: G.1X = 1 DPU, 4 vCPU; $0.44 (STANDARD) / $0.29 (FLEX) per DPU-hour; Glue 5.x bills per "
          "second with a 1-minute minimum; a Glue vCPU does the work of one local core; no auto scaling; "
          "MB = 10^6 bytes, GB = 10^9 bytes.")
    print(f"load average (1, 5, 15 min) at end: {load_average()}")
    print(f"cold JVM: the first manifest took {first_cold['seconds'] - first_s:.1f} s more cold than the rounds' "
          f"median")
    print(f"fresh JVM, each case in a JVM of its own (as every Glue run): steady {fresh_ratios['steady']:.2f}x, "
          f"first {fresh_ratios['first']:.2f}x (bare Spark {fresh['bare']['seconds']:.1f} s, first "
          f"{fresh['first']['seconds']:.1f} s, steady {fresh['steady']['seconds']:.1f} s)")
    print(f"ratio to bare Spark: steady {ratios['steady']:.2f}x, first {ratios['first']:.2f}x", flush=True)
    write_result(batch, rounds[-1]["parquetBytes"],
                 {"bareSpark": bare_s, "steady": steady_s, "firstWarm": first_s,
                  "coldJvmExtra": first_cold["seconds"] - first_s}, load_at_start, ratios,
                 {"rounds": rounds,
                  "freshJvm": {"seconds": {"bareSpark": round(fresh["bare"]["seconds"], 2),
                                           "steady": round(fresh["steady"]["seconds"], 2),
                                           "firstWarm": round(fresh["first"]["seconds"], 2),
                                           "sessionStart": round(fresh["steady"]["start"], 2)},
                               "ratios": {k: round(v, 2) for k, v in fresh_ratios.items()}},
                  "glueReferenceRun": {"megabytes": round(reference_gb * 1000), "workers": args.glue_workers,
                                       "seconds": round(cost["seconds"]), "billedSeconds": cost["billed"],
                                       "usd": {k: round(v, 4) for k, v in cost["per_run"].items()}}})


if __name__ == "__main__":
    main()
