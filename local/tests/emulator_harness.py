"""The emulator tests' harness: the launcher runs as a child process on a free port, tests talk boto3 to it.

The fixtures built on it are in this folder's conftest.py; test modules import from here only the helpers they call
(pyproject.toml puts this folder and local/emulator on the import path).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from sigv4_auth import ACCESS_KEY_ENV, SECRET_KEY_ENV, EmulatorCredentials, generate_credentials

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER = REPO_ROOT / "local" / "emulator" / "server.py"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REGION = "us-east-1"
READY_TIMEOUT_SECONDS = 60

# The fixture jobs the tests run, allowed by the tests only: by default the runner runs just the pipeline's script.
FIXTURE_SCRIPTS = ("plain_job.py", "spark_job.py", "contract_job.py")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Emulator:
    """A running launcher: its process, endpoint and state folder."""

    process: subprocess.Popen[str]
    port: int
    state_dir: Path
    credentials: EmulatorCredentials
    stdout_lines: list[str] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str, credentials: EmulatorCredentials | None = None) -> Any:
        """A boto3 client signing with the instance's key (or `credentials`, to see another key refused)."""
        credentials = credentials or self.credentials
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            config=Config(retries={"max_attempts": 1}),
        )

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def launch(state_dir: Path, *extra_args: str, port: int | None = None, allow_fixtures: bool = True,
           key_in_environment: bool = True) -> Emulator:
    """Starts the launcher and waits for its READY line.

    `allow_fixtures` lets its Glue runner run the fixture jobs besides the pipeline's script. With
    `key_in_environment` the harness gives the launcher a new key, as the local mode does; without it the launcher
    generates one and writes it to `<state_dir>/credentials.json`, which the harness then reads.
    """
    port = port or free_port()
    credentials = generate_credentials()
    allow = [arg for name in FIXTURE_SCRIPTS for arg in ("--allow-glue-script", str(FIXTURES / name))] \
        if allow_fixtures else []
    env = {key: value for key, value in os.environ.items() if key not in (ACCESS_KEY_ENV, SECRET_KEY_ENV)}
    if key_in_environment:
        env.update({ACCESS_KEY_ENV: credentials.access_key_id, SECRET_KEY_ENV: credentials.secret_access_key})
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", str(port), "--state-dir", str(state_dir), *allow, *extra_args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO_ROOT, env=env,
    )
    emulator = Emulator(process=process, port=port, state_dir=state_dir, credentials=credentials)
    ready = threading.Event()

    def read_stdout() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            emulator.stdout_lines.append(line.rstrip("\n"))
            if line.startswith("READY "):
                ready.set()

    threading.Thread(target=read_stdout, daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not ready.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            emulator.stop(signal.SIGKILL)
            raise RuntimeError(f"the emulator did not become ready: {emulator.stdout_lines}")
    if not key_in_environment:
        written = json.loads((state_dir / "credentials.json").read_text())
        emulator.credentials = EmulatorCredentials(written["accessKeyId"], written["secretAccessKey"])
    return emulator


def wait_for(predicate: Any, timeout: float, interval: float = 0.5, what: str = "condition") -> Any:
    """Polls `predicate` until it returns a truthy value; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_for_job_run(glue: Any, job_name: str, run_id: str, timeout: float = 300) -> tuple[dict, list[str]]:
    """Polls GetJobRun until the run ends; returns the final run and every state seen on the way."""
    seen: list[str] = []

    def ended() -> dict | None:
        run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
        if not seen or seen[-1] != run["JobRunState"]:
            seen.append(run["JobRunState"])
        return run if run["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING") else None

    return wait_for(ended, timeout, what=f"job run {run_id}"), seen

