"""One local SparkSession for the whole test session, and helpers that build manifests from small files.

Every test is marked by what it needs (`pytest_collection_modifyitems`): `s3` (moto's S3 server through Spark's S3A
connector), else `spark` (the local session), else `unit`; `make test-fast` runs `unit or spark`.
"""
from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

# The entry script's folder and the job's package, as Glue has them (the script's folder, --extra-py-files).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


REPO_ROOT = Path(__file__).resolve().parents[2]
# The S3A connector the local mode's Glue runner uses (`make install` downloads it); without it, S3 tests skip.
S3A_JARS = [REPO_ROOT / ".venv" / "spark-jars" / name
            for name in ("hadoop-aws-3.3.4.jar", "aws-java-sdk-bundle-1.12.262.jar")]


# The job's JVM line check (`make install` builds it); the job cannot run without it.
LINE_CHECK_JAR = REPO_ROOT / "glue-scripts" / "jvm" / "build" / "pipeline-json.jar"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test of this folder `s3`, `spark` or `unit` by the fixtures it uses (directly or through others)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here not in Path(item.path).resolve().parents:
            continue
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("s3") is None and fixtures & {"s3", "s3_endpoint"}:
            item.add_marker(pytest.mark.s3)
        if item.get_closest_marker("s3") is None:
            item.add_marker(pytest.mark.spark if "spark" in fixtures else pytest.mark.unit)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    os.environ.pop("PYSPARK_SUBMIT_ARGS", None)  # the session is configured here, not by the caller's shell
    from pyspark.sql import SparkSession

    if not LINE_CHECK_JAR.is_file():
        pytest.fail(f"{LINE_CHECK_JAR} is missing: run `make install`")
    jars = [LINE_CHECK_JAR] + [jar for jar in S3A_JARS if jar.is_file()]
    builder: Any = SparkSession.builder
    builder = builder.config("spark.jars", ",".join(str(jar) for jar in jars))
    # Spark's catalog folders (spark-warehouse/, Derby's) go to a temporary folder, never into the repository.
    scratch = tmp_path_factory.mktemp("spark-session")
    builder = (builder.config("spark.sql.warehouse.dir", str(scratch / "spark-warehouse"))
               .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={scratch / 'derby'}"))
    session = (builder.master("local[2]").appName("glue-scripts-tests")
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
        self.result: dict[str, Any] = {}  # the last run's result, where a test keeps it
        (root / "incoming").mkdir(parents=True, exist_ok=True)

    def add(self, name: str, content: str | bytes, gzipped: bool = False) -> str:
        path = self.root / "incoming" / name
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(gzip.compress(data) if gzipped else data)
        self.files.append(path)
        return uri(path)

    def params(self, **overrides):
        from ndjson_conversion.arguments import JobParams

        manifest = self.root / "manifests" / f"{self.manifest_id}.json"
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps({
            "manifestId": self.manifest_id, "dataset": self.dataset, "ingestDate": "2026-11-23",
            "files": [{"uri": uri(p), "size": p.stat().st_size} for p in self.files],
        }))
        values: dict[str, Any] = dict(
            manifest_uri=uri(manifest), manifest_id=self.manifest_id, dataset=self.dataset,
            ingest_date="2026-11-23", curated_path=uri(self.root / "curated") + "/",
            quarantine_path=uri(self.root / "quarantine") + "/",
            result_uri=uri(self.root / "manifests" / f"{self.manifest_id}.result.json"),
        )
        values.update(overrides)
        return JobParams(**values)

    @property
    def manifest_dir(self) -> Path:
        return self.root / "curated" / self.dataset / "ingest_date=2026-11-23" / f"manifest_id={self.manifest_id}"

    def _named(self, field: str, default: Path) -> Path:
        """The directory the last result file names (each run writes into its own, `run=<id>/`)."""
        result = self.root / "manifests" / f"{self.manifest_id}.result.json"
        if not result.exists():
            return default / "run=none"
        return Path(json.loads(result.read_text())[field].removeprefix("file://"))

    @property
    def partition_dir(self) -> Path:
        """The Parquet directory of the last successful run."""
        return self._named("outputLocation", self.manifest_dir)

    @property
    def quarantine_dir(self) -> Path:
        """The quarantine directory of the last successful run."""
        return self._named("quarantineLocation", self.root / "quarantine" / self.dataset /
                           f"manifest_id={self.manifest_id}")

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


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 served on 127.0.0.1 for the session, so that Spark's S3A reader and boto3 see the same buckets."""
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(spark, s3_endpoint, monkeypatch):
    """A boto3 S3 client on moto's server; the job's own clients (AWS_ENDPOINT_URL) and Spark's s3:// reads go to
    it as in the local mode."""
    import boto3

    if not all(jar.is_file() for jar in S3A_JARS):
        pytest.skip("the S3A connector is not installed (.venv/spark-jars)")
    for name, value in {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    conf = spark._jsc.hadoopConfiguration()
    for key, value in {"fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem", "fs.s3a.endpoint": s3_endpoint,
                       "fs.s3a.endpoint.region": "us-east-1", "fs.s3a.path.style.access": "true",
                       "fs.s3a.connection.ssl.enabled": "false", "fs.s3a.access.key": "test",
                       "fs.s3a.secret.key": "test", "fs.s3a.attempts.maximum": "1", "fs.s3a.retry.limit": "1",
                       "fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
                       }.items():
        conf.set(key, value)
    return boto3.client("s3", region_name="us-east-1", endpoint_url=s3_endpoint)


CATALOG_DB = "ingest_pipeline"


@pytest.fixture
def glue(monkeypatch):
    """moto's in-process Glue with the catalog database the job writes to."""
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("glue", region_name="us-east-1")
        client.create_database(DatabaseInput={"Name": CATALOG_DB})
        yield client
