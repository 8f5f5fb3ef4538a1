"""One local SparkSession for the whole test session, and helpers that build manifests from small files."""
from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture(scope="session")
def spark():
    os.environ.pop("PYSPARK_SUBMIT_ARGS", None)  # the session is configured here, not by the caller's shell
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("glue-scripts-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2")
               .config("spark.sql.session.timeZone", "UTC")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def uri(path: Path) -> str:
    """A file:// URI with the path as is, as the manifest builder writes s3:// URIs with the raw key."""
    return "file://" + str(path)


class Batch:
    """Input objects and a manifest under a temporary directory, plus the job parameters that go with them."""

    def __init__(self, root: Path, manifest_id: str = "orders-20261123-000001", dataset: str = "orders"):
        self.root = root
        self.manifest_id = manifest_id
        self.dataset = dataset
        self.files: list[Path] = []
        (root / "incoming").mkdir(parents=True, exist_ok=True)

    def add(self, name: str, content: str | bytes, gzipped: bool = False) -> str:
        path = self.root / "incoming" / name
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(gzip.compress(data) if gzipped else data)
        self.files.append(path)
        return uri(path)

    def params(self, **overrides):
        from ndjson_to_parquet import JobParams

        manifest = self.root / "manifests" / f"{self.manifest_id}.json"
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps({
            "manifestId": self.manifest_id, "dataset": self.dataset, "ingestDate": "2026-11-23",
            "files": [{"uri": uri(p), "size": p.stat().st_size} for p in self.files],
        }))
        values = dict(
            manifest_uri=uri(manifest), manifest_id=self.manifest_id, dataset=self.dataset,
            ingest_date="2026-11-23", curated_path=uri(self.root / "curated") + "/",
            quarantine_path=uri(self.root / "quarantine") + "/",
            result_uri=uri(self.root / "manifests" / f"{self.manifest_id}.result.json"),
        )
        values.update(overrides)
        return JobParams(**values)

    @property
    def partition_dir(self) -> Path:
        return self.root / "curated" / self.dataset / "ingest_date=2026-11-23" / f"manifest_id={self.manifest_id}"

    @property
    def quarantine_dir(self) -> Path:
        return self.root / "quarantine" / self.dataset / f"manifest_id={self.manifest_id}"

    def quarantined(self) -> list[dict]:
        records = []
        if self.quarantine_dir.exists():
            for part in sorted(self.quarantine_dir.glob("part-*")):
                records += [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines() if line]
        return sorted(records, key=lambda r: (r["source_file"], r.get("line_number") or 0, r["line"]))

    def result_file(self) -> dict:
        return json.loads((self.root / "manifests" / f"{self.manifest_id}.result.json").read_text())


@pytest.fixture
def batch(tmp_path):
    return Batch(tmp_path)
