"""The Glue benchmark's results file: what `write_result` writes has the fields `pipeline cost` reads
(cli/ops/cost/inputs/benchmarks.ts), the same as the fixture its unit tests use, and goes where BENCH_RESULT_FILE
says."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE = REPO_ROOT / "test" / "unit" / "cli" / "ops" / "cost" / "fixtures" / "glue-job.json"


def _bench_module():
    spec = importlib.util.spec_from_file_location(
        "bench_ndjson_to_parquet", REPO_ROOT / "glue-scripts" / "bench" / "bench_ndjson_to_parquet.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shape(value):
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    return "number" if isinstance(value, int | float) else type(value).__name__


BATCH = {"paths": ["a.ndjson", "b.ndjson"], "bytes": 7_000_000, "lines": 1000, "bad": 3, "blank": 2}
SECONDS = {"bareSpark": 10.0, "steady": 12.0, "firstWarm": 13.0, "coldJvmExtra": 9.0}
RATIOS = {"steady": 1.234, "first": 1.3}
EXTRA = {
    "rounds": [{"bareSpark": 10.0, "firstWarm": 13.0, "steady": 12.0, "steadyRatio": 1.2, "firstRatio": 1.3,
                "parquetBytes": 650_000}],
    "freshJvm": {"seconds": {"bareSpark": 14.0, "steady": 17.0, "firstWarm": 19.0, "sessionStart": 6.0},
                 "ratios": {"steady": 1.21, "first": 1.36}},
    "glueReferenceRun": {"megabytes": 292, "workers": 2, "seconds": 39, "billedSeconds": 60,
                         "usd": {"STANDARD": 0.0147, "FLEX": 0.0097}},
}


def test_writes_the_fields_pipeline_cost_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "results" / "glue-job.json"
    monkeypatch.setenv("BENCH_RESULT_FILE", str(target))

    _bench_module().write_result(BATCH, 650_000, SECONDS, (1.0, 0.5, 0.25), RATIOS, EXTRA)

    written = json.loads(target.read_text())
    assert _shape(written) == _shape(json.loads(FIXTURE.read_text()))
    assert written["benchmark"] == "make bench-glue"
    assert written["batch"] == {"files": 2, "megabytes": 7.0, "lines": 1000, "quarantinedLines": 3, "blankLines": 2}
    assert written["parquetMegabytes"] == 0.7
    assert written["seconds"] == SECONDS
    assert written["ratios"] == {"steady": 1.23, "first": 1.3}  # the medians given, not the seconds' ratios
    assert {k: written[k] for k in EXTRA} == EXTRA
    assert written["machine"]["loadAtStart"] == [1.0, 0.5, 0.25]


def test_writes_nothing_when_told_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_RESULT_FILE", "-")
    monkeypatch.chdir(tmp_path)
    module = _bench_module()
    monkeypatch.setattr(module, "RESULT_FILE", tmp_path / "default.json")

    module.write_result(BATCH, 650_000, SECONDS, (1.0, 0.5, 0.25))

    assert list(tmp_path.iterdir()) == []
