"""Glue job runs that really run the job's script under local pyspark.

moto's own job runs go STARTING -> RUNNING -> SUCCEEDED as they are described and never run anything. Here
`StartJobRun` launches `<python> <script> --JOB_NAME <job> --JOB_RUN_ID <run> --key value ...` as a child
process, with Spark pointed at the emulator's S3 through the S3A connector, and `GetJobRun` reports the child's
real state: STARTING, RUNNING, then SUCCEEDED, FAILED (with Glue's generic `ErrorMessage` for a script that exits
non-zero, never the script's stderr, which goes to the run's log only), TIMEOUT or STOPPED.
`ExecutionProperty.MaxConcurrentRuns` is enforced with `ConcurrentRunsExceededException`, so the state machine's
Retry on that error runs for real.

It runs only the scripts it was told to trust when started (the pipeline's own, unless the launcher's caller allows
more): a job whose ScriptLocation is another file, or an `s3://` object whose bytes are not those of an allowed
script, is refused at StartJobRun with `AccessDeniedException`. `--extra-py-files` may name only the folders of
packages it was told to trust (the pipeline's glue-scripts/src): it zips such a folder as CDK zips the job's package
asset and puts the zip on the script's Python path, as Glue does with the zips `--extra-py-files` names; any other
entry is refused, since it would put other code on the script's import path. Whoever can create a job must not be
able to run code of their choosing.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.core.utils import utcnow
from moto.glue import models as glue_models
from moto.glue.exceptions import ConcurrentRunsExceededException, GlueClientError

LOG = logging.getLogger("emulator.glue")

ACTIVE_STATES = ("STARTING", "RUNNING", "STOPPING")
# Glue's default job timeout, in minutes, when neither the job nor the run sets one.
DEFAULT_TIMEOUT_MINUTES = 2880
# What Glue reports as a failed run's ErrorMessage when its script exits non-zero: a generic text, not the script's
# stderr (awslabs/aws-glue-libs issue #221 shows "Command failed with exit code 2" for a script that exited with 2;
# docs.aws.amazon.com/glue/latest/dg/job-run-statuses.html: FAILED, the job "terminated with an unknown exit code").
# Nothing of the pipeline may decide on this text: the job's outcome document carries its word.
FAILED_RUN_MESSAGE = "Command failed with exit code {code}"
_JARS = ("hadoop-aws-3.3.4.jar", "aws-java-sdk-bundle-1.12.262.jar")
# The pipeline job's JVM line check (the stack gives it to Glue with --extra-jars); `make install` builds it. Like the
# S3A connector, it is the runner's own: a job cannot name another jar.
LINE_CHECK_JAR = Path(__file__).resolve().parents[2] / "glue-scripts" / "jvm" / "build" / "pipeline-json.jar"
# Runs the script in place of itself after asking Linux to SIGKILL it when the thread that launched it ends, so no
# run outlives an emulator that is killed outright; the script's JVM exits when the script does (its gateway
# watches its stdin). Elsewhere than Linux it only runs the script.
_EXEC_WITH_PARENT_DEATH_SIGNAL = """\
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
except (AttributeError, OSError):
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit("the emulator ended before the job run started")
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


class ScriptNotAllowedException(GlueClientError):
    """StartJobRun of a job whose script is not one the runner was told to run."""

    def __init__(self, message: str) -> None:
        super().__init__("AccessDeniedException", message)


class RunSetupError(Exception):
    """The run could not be launched (script not found, connector missing); its message becomes ErrorMessage."""


@dataclass(frozen=True)
class SparkSettings:
    """How the child Spark driver runs: master, memory and where the S3A connector jars are."""

    master: str
    driver_memory: str
    jars_dir: Path


def failed_run_message(returncode: int | None) -> str:
    """The ErrorMessage of a run whose script exited with `returncode`, as Glue words it; a script killed by a signal
    reports the shell's code for it (128 + the signal's number)."""
    code = returncode if returncode is None or returncode >= 0 else 128 - returncode
    return FAILED_RUN_MESSAGE.format(code=code)


def glue_argv(job_name: str, run_id: str, arguments: dict[str, str]) -> list[str]:
    """The script's arguments as Glue passes them: its own first, then each job argument as `--key value`."""
    argv = ["--JOB_NAME", job_name, "--JOB_RUN_ID", run_id]
    for key, value in arguments.items():
        flag = key if key.startswith("--") else f"--{key}"
        if flag in ("--JOB_NAME", "--JOB_RUN_ID"):
            continue
        argv += [flag, "" if value is None else str(value)]
    return argv


def spark_submit_args(settings: SparkSettings, endpoint: str, region: str, warehouse_dir: Path) -> str:
    """PYSPARK_SUBMIT_ARGS that make a plain pyspark driver read and write `s3://` on the emulator as Glue does on
    S3."""
    jars = ",".join([str(settings.jars_dir / name) for name in _JARS] + [str(LINE_CHECK_JAR)])
    conf = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        # Glue runs in UTC; so does the local driver, so dates computed by the script match the cloud's.
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.warehouse.dir": str(warehouse_dir),
        # Glue maps s3:// to its own connector; locally S3A serves both s3:// and s3a://.
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint": endpoint,
        "spark.hadoop.fs.s3a.endpoint.region": region,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
        # The emulator's key from the driver's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), which the
        # JVM inherits: a key given with --conf would be on the JVM's command line, which every local user can read.
        "spark.hadoop.fs.s3a.aws.credentials.provider": "com.amazonaws.auth.EnvironmentVariableCredentialsProvider",
        # Fail fast on the emulator rather than retrying for minutes as against real S3.
        "spark.hadoop.fs.s3a.attempts.maximum": "3",
        "spark.hadoop.fs.s3a.retry.limit": "3",
    }
    args = ["--master", settings.master, "--driver-memory", settings.driver_memory, "--jars", jars]
    for key, value in conf.items():
        args += ["--conf", f"{key}={value}"]
    return shlex.join(args + ["pyspark-shell"])


class LocalJobRun(glue_models.FakeJobRun):
    """A job run whose state is the state of its child process, not moto's describe-count state machine."""

    def __init__(self, *, job: Any, glue_version: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._state = "STARTING"
        self.glue_version = glue_version or "5.1"
        self.error_message: str | None = None
        self.completed_on = None
        self.modified_on = self.started_on
        self.job = job
        self.process: subprocess.Popen[bytes] | None = None
        # What it runs: an allowed script's path, or the name and bytes of an allowed s3:// script.
        self.script: Path | tuple[str, bytes] | None = None
        # The allowed package folders its --extra-py-files names, zipped onto its Python path when it starts.
        self.packages: tuple[Path, ...] = ()
        self.stop_requested = False
        self._monotonic_start = time.monotonic()
        self._monotonic_end: float | None = None
        self.lock = threading.Lock()

    @property
    def status(self) -> str:  # type: ignore[override]
        return self._state

    @status.setter
    def status(self, value: str) -> None:
        self._state = value

    def advance(self) -> None:
        """Describing a run does not move it on: its child process does."""

    def set_state(self, state: str, error_message: str | None = None) -> None:
        with self.lock:
            self._state = state
            self.modified_on = utcnow()
            if error_message is not None:
                self.error_message = error_message
            if state not in ACTIVE_STATES:
                self.completed_on = self.modified_on
                self._monotonic_end = time.monotonic()

    @property
    def execution_seconds(self) -> int:
        end = self._monotonic_end if self._monotonic_end is not None else time.monotonic()
        return int(round(end - self._monotonic_start))

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            result = super().as_dict()
            result.update(
                {
                    "JobRunState": self._state,
                    "LastModifiedOn": self.modified_on,
                    "ExecutionTime": self.execution_seconds,
                    "GlueVersion": self.glue_version,
                    "LogGroupName": "/aws-glue/jobs",
                    "Timeout": self.timeout or DEFAULT_TIMEOUT_MINUTES,
                }
            )
            if self.completed_on is None:
                result.pop("CompletedOn", None)
            else:
                result["CompletedOn"] = self.completed_on
            if self.error_message:
                result["ErrorMessage"] = self.error_message
            return result


class GlueRunner:
    """Runs Glue job scripts as child processes and keeps moto's Glue backend in step with them."""

    def __init__(
        self,
        *,
        endpoint: str,
        state_dir: Path,
        spark: SparkSettings,
        credentials: Any,
        allowed_scripts: Sequence[Path],
        script_override: Path | None = None,
        allowed_packages: Sequence[Path] = (),
    ) -> None:
        self.endpoint = endpoint
        self.state_dir = state_dir
        self.spark = spark
        self.credentials = credentials
        self.allowed_scripts = tuple(path.resolve() for path in allowed_scripts)
        self.allowed_packages = tuple(path.resolve() for path in allowed_packages)
        self.script_override = script_override
        self.log_dir = state_dir / "logs" / "glue"
        self.work_dir = state_dir / "glue"
        self._lock = threading.Lock()
        self._runs: list[LocalJobRun] = []

    def install(self) -> None:
        """Replaces moto's StartJobRun with one that launches the script."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / "runs").mkdir(parents=True, exist_ok=True)
        missing = [name for name in _JARS if not (self.spark.jars_dir / name).is_file()]
        if missing:
            LOG.warning("Spark S3A connector missing in %s (%s): Glue runs cannot reach s3://; run `make install`",
                        self.spark.jars_dir, ", ".join(missing))
        if not LINE_CHECK_JAR.is_file():
            LOG.warning("the Glue job's line check %s is missing: runs of the pipeline's job fail; run `make install`",
                        LINE_CHECK_JAR)
        runner = self

        def start_job_run(job: Any, allocated_capacity: Any = None, max_capacity: Any = None, timeout: Any = None,
                          worker_type: Any = None, security_configuration: Any = None, number_of_workers: Any = None,
                          notification_property: Any = None, previous_run_id: Any = None,
                          arguments: dict[str, str] | None = None) -> str:
            return runner.start(job, arguments=arguments, allocated_capacity=allocated_capacity,
                                max_capacity=max_capacity, timeout=timeout, worker_type=worker_type,
                                security_configuration=security_configuration, number_of_workers=number_of_workers,
                                notification_property=notification_property, previous_run_id=previous_run_id)

        glue_models.FakeJob.start_job_run = start_job_run  # type: ignore[method-assign]

    def start(self, job: Any, *, arguments: dict[str, str] | None, **run_options: Any) -> str:
        """StartJobRun: refuses a run beyond MaxConcurrentRuns, else records it and launches its script."""
        with self._lock:
            active = [run for run in job.job_runs if run.status in ACTIVE_STATES]
            limit = int((job.execution_property or {}).get("MaxConcurrentRuns", 1))
            if len(active) >= limit:
                raise ConcurrentRunsExceededException(f"Concurrent runs exceeded for {job.name}")
            merged = dict(job.default_arguments or {})
            merged.update(arguments or {})
            merged.update(job.non_overridable_arguments or {})
            script = self._allowed_script(job, merged)
            packages = self._allowed_packages(job, merged)
            run = LocalJobRun(
                job=job,
                glue_version=job.glue_version,
                job_name=job.name,
                job_run_id=run_options.pop("previous_run_id"),
                arguments=merged,
                allocated_capacity=run_options["allocated_capacity"] or job.allocated_capacity,
                max_capacity=run_options["max_capacity"] or job.max_capacity,
                timeout=run_options["timeout"] or job.timeout,
                worker_type=run_options["worker_type"] or job.worker_type,
                security_configuration=run_options["security_configuration"] or job.security_configuration,
                number_of_workers=run_options["number_of_workers"] or job.number_of_workers,
                notification_property=run_options["notification_property"] or job.notification_property,
            )
            run.script = script
            run.packages = packages
            job.job_runs.append(run)
            self._runs.append(run)
        threading.Thread(target=self._run, args=(run,), name=f"glue-{run.job_run_id[:12]}", daemon=True).start()
        return run.job_run_id

    def stop_all(self, grace_seconds: float = 5.0) -> None:
        """Stops every active run (on emulator shutdown): SIGTERM to its process group, SIGKILL after the grace."""
        with self._lock:
            active = [run for run in self._runs if run.status in ACTIVE_STATES]
        for run in active:
            run.stop_requested = True
            self._signal(run, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for run in active:
            if run.process is not None:
                try:
                    run.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self._signal(run, signal.SIGKILL)
            if run.status in ACTIVE_STATES:
                run.set_state("STOPPED", "The job run was stopped because the emulator shut down")

    @staticmethod
    def _signal(run: LocalJobRun, sig: signal.Signals) -> None:
        if run.process is None or run.process.poll() is not None:
            return
        try:
            os.killpg(run.process.pid, sig)
        except ProcessLookupError:
            pass

    def _run(self, run: LocalJobRun) -> None:
        job = run.job
        region = job.backend.region_name
        log_path = self.log_dir / f"{run.job_run_id}.log"
        run_dir = self.work_dir / "runs" / run.job_run_id
        timeout_minutes = int(run.timeout or DEFAULT_TIMEOUT_MINUTES)
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            assert run.script is not None, "start_job_run sets the script before the run's thread starts"
            script = self._materialize_script(run.script, run_dir)
            argv = [sys.executable, str(script), *glue_argv(job.name, run.job_run_id, run.arguments or {})]
            env = self._child_env(region, run_dir)
            python_path = [str(self._zip_package(package, run_dir)) for package in run.packages]
            if python_path:
                env["PYTHONPATH"] = os.pathsep.join(python_path)
            with open(log_path, "ab", buffering=0) as log:
                log.write(f"job {job.name} run {run.job_run_id}: {shlex.join(argv)}\n".encode())
                if run.stop_requested:
                    run.set_state("STOPPED")
                    return
                launcher = [sys.executable, "-c", _EXEC_WITH_PARENT_DEATH_SIGNAL, str(os.getpid())]
                run.process = subprocess.Popen(launcher + argv[1:], stdin=subprocess.DEVNULL, stdout=log,
                                               stderr=log, cwd=run_dir, env=env, start_new_session=True)
                run.set_state("RUNNING")
                LOG.info("glue run %s of job %s started: %s", run.job_run_id, job.name, script)
                timed_out = False
                try:
                    returncode = run.process.wait(timeout=timeout_minutes * 60)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    self._signal(run, signal.SIGTERM)
                    try:
                        returncode = run.process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        self._signal(run, signal.SIGKILL)
                        returncode = run.process.wait()
            if run.stop_requested:
                run.set_state("STOPPED")
            elif timed_out:
                run.set_state("TIMEOUT", f"Job run timed out after {timeout_minutes} minutes")
            elif returncode == 0:
                run.set_state("SUCCEEDED")
            else:
                run.set_state("FAILED", failed_run_message(returncode))
        except RunSetupError as error:
            run.set_state("FAILED", str(error))
        except Exception as error:  # noqa: BLE001 - any launcher fault must end the run, not leave it RUNNING
            LOG.exception("glue run %s could not run", run.job_run_id)
            run.set_state("FAILED", f"The local Glue runner failed: {error}")
        LOG.info("glue run %s of job %s ended %s after %ss (log %s)", run.job_run_id, job.name, run.status,
                 run.execution_seconds, log_path)

    def _child_env(self, region: str, run_dir: Path) -> dict[str, str]:
        # The child sees the emulator only: no credentials, profile or Spark install of the calling shell; the job's
        # key (the emulator's own when it was given none) is given as its AWS credentials, which boto3 and the S3A
        # connector both read, so the emulator records the run's calls as the Glue job's (call_log.py).
        dropped = ("AWS_", "PYSPARK_", "SPARK_", "MOTO_", "EMULATOR_")
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(dropped) and key not in ("PYTHONPATH", "PYTHONHOME")}
        env.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": self.credentials.access_key_id,
                "AWS_SECRET_ACCESS_KEY": self.credentials.secret_access_key,
                "AWS_DEFAULT_REGION": region,
                "AWS_REGION": region,
                "AWS_EC2_METADATA_DISABLED": "true",
                "PYSPARK_PYTHON": sys.executable,
                "PYSPARK_DRIVER_PYTHON": sys.executable,
                "PYSPARK_SUBMIT_ARGS": spark_submit_args(self.spark, self.endpoint, region,
                                                         self.work_dir / "spark-warehouse"),
                "SPARK_LOCAL_IP": "127.0.0.1",
                "PYTHONUNBUFFERED": "1",
                "TZ": "UTC",
            }
        )
        return env

    def _allowed_script(self, job: Any, arguments: dict[str, str]) -> Path | tuple[str, bytes]:
        """The script a run of `job` may run: an allowed local file, or an `s3://` object's bytes equal to one.

        Raises ScriptNotAllowedException for anything else. `--glue-script` (the launcher's own choice) runs in
        place of any ScriptLocation.
        """
        if self.script_override is not None:
            return self.script_override
        allowed = ", ".join(str(path) for path in self.allowed_scripts) or "none"
        location = (job.command or {}).get("ScriptLocation") or ""
        if location.startswith(("s3://", "s3a://")):
            content = self._s3_object(job, location)
            if content is not None and any(path.is_file() and path.read_bytes() == content
                                           for path in self.allowed_scripts):
                return (Path(location.split("://", 1)[1]).name or "script.py", content)
        elif location:
            path = Path(urllib.parse.unquote(urllib.parse.urlparse(location).path)) if location.startswith("file://") \
                else Path(location).expanduser()
            if path.resolve() in self.allowed_scripts:
                return path.resolve()
        raise ScriptNotAllowedException(
            f"Job {job.name}: the script {location or '(no Command.ScriptLocation)'} is not the pipeline's: the local "
            f"Glue runner runs only {allowed}")

    def _allowed_packages(self, job: Any, arguments: dict[str, str]) -> tuple[Path, ...]:
        """The package folders `--extra-py-files` names (comma-separated local paths or file:// URIs), each one the
        runner was told to trust; raises ScriptNotAllowedException for any other entry (an s3:// zip included)."""
        entries = [entry.strip() for entry in (arguments.get("--extra-py-files") or "").split(",") if entry.strip()]
        packages = []
        for entry in entries:
            path = Path(urllib.parse.unquote(urllib.parse.urlparse(entry).path)) if entry.startswith("file://") \
                else Path(entry).expanduser()
            if ("://" in entry and not entry.startswith("file://")) or path.resolve() not in self.allowed_packages:
                scripts = ", ".join(str(p) for p in self.allowed_scripts) or "none"
                packages_allowed = ", ".join(str(p) for p in self.allowed_packages) or "none"
                raise ScriptNotAllowedException(
                    f"Job {job.name}: --extra-py-files {entry} is refused: the local Glue runner runs only the "
                    f"pipeline's own script ({scripts}) with its own package folder ({packages_allowed})")
            packages.append(path.resolve())
        return tuple(packages)

    @staticmethod
    def _zip_package(folder: Path, run_dir: Path) -> Path:
        """`folder`'s Python files zipped with the folder's content at the archive's root, as CDK zips the job's
        package asset, into the run's folder; Python imports from it (zipimport) as Glue's job does."""
        if not folder.is_dir():
            raise RunSetupError(f"Package folder not found: {folder}")
        archive = run_dir / "extra-py-files" / f"{folder.name}.zip"
        archive.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for path in sorted(folder.rglob("*.py")):
                if "__pycache__" not in path.parts:
                    out.write(path, path.relative_to(folder).as_posix())
        return archive

    @staticmethod
    def _s3_object(job: Any, location: str) -> bytes | None:
        """The bytes of an object of the emulator's S3, read in-process; None when there is no such object."""
        from moto.s3.models import s3_backends  # noqa: PLC0415

        bucket, _, key = location.split("://", 1)[1].partition("/")
        try:
            found = s3_backends[job.backend.account_id][job.backend.partition].get_object(bucket, key)
        except Exception:  # noqa: BLE001 - a missing bucket or key: nothing to run
            return None
        return None if found is None else bytes(found.value)

    @staticmethod
    def _materialize_script(script: Path | tuple[str, bytes], run_dir: Path) -> Path:
        """A local path of the run's script: an allowed file as is; an s3:// one written into the run's folder."""
        if isinstance(script, tuple):
            name, content = script
            path = run_dir / "script" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            return path
        if not script.is_file():
            raise RunSetupError(f"Script not found: {script}")
        return script
