"""StartJobRun runs the job's script; GetJobRun reports its real state; MaxConcurrentRuns is enforced."""

import io
import json
import zipfile
from datetime import datetime

import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from emulator_harness import FIXTURES, REPO_ROOT, wait_for_job_run
from glue_runner import failed_run_message, glue_argv

PLAIN_JOB = FIXTURES / "plain_job.py"
SPARK_JOB = FIXTURES / "spark_job.py"
PIPELINE_SCRIPT = REPO_ROOT / "glue-scripts" / "ndjson_to_parquet.py"
PIPELINE_PACKAGE_ROOT = REPO_ROOT / "glue-scripts" / "src"


def _create_job(glue, name: str, script: str, max_concurrent_runs: int = 1, default_arguments=None) -> None:
    glue.create_job(
        Name=name, Role="arn:aws:iam::123456789012:role/glue",
        Command={"Name": "glueetl", "ScriptLocation": script, "PythonVersion": "3"},
        DefaultArguments=default_arguments or {}, ExecutionProperty={"MaxConcurrentRuns": max_concurrent_runs},
        GlueVersion="5.1",
    )


def test_a_failed_run_is_reported_with_glues_generic_message_never_the_scripts_stderr() -> None:
    assert failed_run_message(1) == "Command failed with exit code 1"
    assert failed_run_message(2) == "Command failed with exit code 2"
    # Killed by a signal (out of memory: SIGKILL), the code a shell reports for it.
    assert failed_run_message(-9) == "Command failed with exit code 137"


def test_arguments_are_passed_as_glue_passes_them() -> None:
    argv = glue_argv("convert", "jr_1", {"--manifest_uri": "s3://c/m.json", "dataset": "orders", "--JOB_NAME": "x"})
    assert argv == ["--JOB_NAME", "convert", "--JOB_RUN_ID", "jr_1", "--manifest_uri", "s3://c/m.json",
                    "--dataset", "orders"]


def test_a_spark_run_writes_parquet_to_s3_and_succeeds(emulator, unique) -> None:
    glue, s3 = emulator.client("glue"), emulator.client("s3")
    bucket, job = f"data-{unique}", f"convert-{unique}"
    s3.create_bucket(Bucket=bucket)
    # A space and a `+` in the keys: the S3A connector sends them in ways the emulator's signature check must read
    # as AWS does (a space in a query value as `+`).
    s3.put_object(Bucket=bucket, Key="in/late batch/a+1.ndjson",
                  Body=b'{"id": 1, "name": "a"}\n{"id": 2, "name": "b"}\n')
    s3.put_object(Bucket=bucket, Key="in/late batch/b.ndjson", Body=b'{"id": 3, "name": "c"}\n')
    _create_job(glue, job, str(SPARK_JOB), default_arguments={"--input_uri": f"s3://{bucket}/in/late batch/"})

    run_id = glue.start_job_run(JobName=job, Arguments={
        "--output_uri": f"s3://{bucket}/out/", "--result_uri": f"s3://{bucket}/result.json"})["JobRunId"]
    run, seen = wait_for_job_run(glue, job, run_id)

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert seen[-2:] == ["RUNNING", "SUCCEEDED"]
    assert isinstance(run["StartedOn"], datetime) and run["CompletedOn"] >= run["StartedOn"]
    assert run["ExecutionTime"] >= 1 and "ErrorMessage" not in run
    assert run["Arguments"]["--input_uri"] == f"s3://{bucket}/in/late batch/", \
        "DefaultArguments are merged with the run's"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="out/")["Contents"]
    parts = [o["Key"] for o in listed if o["Key"].endswith(".parquet")]
    body = s3.get_object(Bucket=bucket, Key=parts[0])["Body"].read() if len(parts) == 1 else None
    table = pq.read_table(io.BytesIO(body)) if body is not None else None
    rows = table.num_rows if table is not None else sum(
        pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=k)["Body"].read())).num_rows for k in parts)
    assert rows == 3
    assert json.loads(s3.get_object(Bucket=bucket, Key="result.json")["Body"].read()) == {"rowsOut": 3}
    log = (emulator.state_dir / "logs" / "glue" / f"{run_id}.log").read_text()
    assert "rows written: 3" in log


def test_a_failing_run_reports_the_scripts_error(emulator, unique) -> None:
    glue = emulator.client("glue")
    job = f"failing-{unique}"
    _create_job(glue, job, PLAIN_JOB.as_uri())

    run_id = glue.start_job_run(JobName=job, Arguments={"--fail_with": "manifest m-1 lists no files"})["JobRunId"]
    run, _ = wait_for_job_run(glue, job, run_id, timeout=60)

    assert run["JobRunState"] == "FAILED"
    # As Glue does: a generic message; the script's error is in the run's log only.
    assert run["ErrorMessage"] == "Command failed with exit code 1"
    assert "CompletedOn" in run
    log = (emulator.state_dir / "logs" / "glue" / f"{run_id}.log").read_text()
    assert "about to fail" in log and "Traceback" in log and "RuntimeError: manifest m-1 lists no files" in log


def test_runs_beyond_max_concurrent_runs_are_refused(emulator, unique) -> None:
    glue = emulator.client("glue")
    job = f"single-{unique}"
    _create_job(glue, job, str(PLAIN_JOB), max_concurrent_runs=1)

    first = glue.start_job_run(JobName=job, Arguments={"--sleep_seconds": "3"})["JobRunId"]
    with pytest.raises(ClientError) as refused:
        glue.start_job_run(JobName=job, Arguments={"--sleep_seconds": "0"})
    assert refused.value.response["Error"]["Code"] == "ConcurrentRunsExceededException"
    assert glue.get_job_run(JobName=job, RunId=first)["JobRun"]["JobRunState"] in ("STARTING", "RUNNING")

    wait_for_job_run(glue, job, first, timeout=60)
    second = glue.start_job_run(JobName=job, Arguments={"--sleep_seconds": "0"})["JobRunId"]
    run, _ = wait_for_job_run(glue, job, second, timeout=60)
    assert run["JobRunState"] == "SUCCEEDED"
    assert {r["Id"] for r in glue.get_job_runs(JobName=job)["JobRuns"]} == {first, second}


def test_a_script_uploaded_to_s3_runs(emulator, unique) -> None:
    glue, s3 = emulator.client("glue"), emulator.client("s3")
    bucket, job = f"scripts-{unique}", f"from-s3-{unique}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="glue/plain_job.py", Body=PLAIN_JOB.read_bytes())
    _create_job(glue, job, f"s3://{bucket}/glue/plain_job.py")

    run_id = glue.start_job_run(JobName=job, Arguments={"--fail_with": "from s3"})["JobRunId"]
    run, _ = wait_for_job_run(glue, job, run_id, timeout=60)

    assert (run["JobRunState"], run["ErrorMessage"]) == ("FAILED", "Command failed with exit code 1")
    assert "RuntimeError: from s3" in (emulator.state_dir / "logs" / "glue" / f"{run_id}.log").read_text()


def test_a_script_the_runner_was_not_told_to_run_is_refused_with_a_clear_message(emulator, unique) -> None:
    glue, s3 = emulator.client("glue"), emulator.client("s3")
    bucket = f"scripts-{unique}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="glue/plain_job.py", Body=PLAIN_JOB.read_bytes() + b"\nprint('changed')\n")
    refused = []
    for name, location in (("missing", "/nonexistent/job.py"), ("changed", f"s3://{bucket}/glue/plain_job.py")):
        _create_job(glue, f"{name}-{unique}", location)
        with pytest.raises(ClientError) as error:
            glue.start_job_run(JobName=f"{name}-{unique}")
        refused.append(error.value.response["Error"])

    assert [e["Code"] for e in refused] == ["AccessDeniedException"] * 2
    assert refused[0]["Message"].startswith(f"Job missing-{unique}: the script /nonexistent/job.py is not the "
                                            "pipeline's: the local Glue runner runs only ")
    assert glue.get_job_runs(JobName=f"changed-{unique}")["JobRuns"] == []


def _pipeline_arguments(bucket: str) -> dict[str, str]:
    """The pipeline job's arguments for a manifest that does not exist: the run fails as soon as it reads it."""
    return {"--manifest_uri": f"s3://{bucket}/manifests/orders/m.json", "--manifest_id": "m", "--dataset": "orders",
            "--ingest_date": "2026-11-23", "--curated_path": f"s3://{bucket}/curated/",
            "--quarantine_path": f"s3://{bucket}/quarantine/", "--result_uri": f"s3://{bucket}/m.result.json"}


def test_the_pipelines_entry_runs_with_its_package_zipped_onto_its_path_as_glue_does(emulator, unique) -> None:
    glue, s3 = emulator.client("glue"), emulator.client("s3")
    bucket, job = f"data-{unique}", f"pipeline-{unique}"
    s3.create_bucket(Bucket=bucket)
    _create_job(glue, job, str(PIPELINE_SCRIPT), default_arguments={"--extra-py-files": str(PIPELINE_PACKAGE_ROOT)})

    run_id = glue.start_job_run(JobName=job, Arguments=_pipeline_arguments(bucket))["JobRunId"]
    run, _ = wait_for_job_run(glue, job, run_id)

    # The entry imported the package and ran the job, which failed on the missing manifest as it would on Glue,
    # and said why in its outcome document (the run's ErrorMessage is Glue's generic one).
    assert (run["JobRunState"], run["ErrorMessage"]) == ("FAILED", "Command failed with exit code 1")
    outcome = json.loads(s3.get_object(Bucket=bucket, Key="m.outcome.json")["Body"].read())
    assert (outcome["jobRunId"], outcome["status"], outcome["reason"], outcome["retryable"]) == (
        run_id, "FAILED", "manifest_invalid", False)
    assert outcome["message"].startswith("cannot read manifest "), outcome
    archive = emulator.state_dir / "glue" / "runs" / run_id / "extra-py-files" / "src.zip"
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
    assert "ndjson_conversion/__init__.py" in names and "ndjson_conversion/run.py" in names
    assert not [name for name in names if "__pycache__" in name or not name.startswith("ndjson_conversion/")]


def test_the_pipelines_entry_without_its_package_cannot_import_it(emulator, unique) -> None:
    glue = emulator.client("glue")
    job = f"no-package-{unique}"
    _create_job(glue, job, str(PIPELINE_SCRIPT))

    run_id = glue.start_job_run(JobName=job, Arguments=_pipeline_arguments(f"data-{unique}"))["JobRunId"]
    run, _ = wait_for_job_run(glue, job, run_id, timeout=60)

    # Nothing but --extra-py-files puts the package on the script's path, as on Glue.
    assert (run["JobRunState"], run["ErrorMessage"]) == ("FAILED", "Command failed with exit code 1")
    log = (emulator.state_dir / "logs" / "glue" / f"{run_id}.log").read_text()
    assert "ModuleNotFoundError: No module named 'ndjson_conversion'" in log


def test_extra_py_files_other_than_the_pipelines_package_are_refused(emulator, unique, tmp_path) -> None:
    glue = emulator.client("glue")
    refused = []
    for n, extra in enumerate((str(tmp_path), f"s3://scripts-{unique}/package.zip",
                               f"{PIPELINE_PACKAGE_ROOT},{tmp_path}")):
        _create_job(glue, f"extra-{n}-{unique}", str(PIPELINE_SCRIPT), default_arguments={"--extra-py-files": extra})
        with pytest.raises(ClientError) as error:
            glue.start_job_run(JobName=f"extra-{n}-{unique}")
        refused.append(error.value.response["Error"])

    assert [e["Code"] for e in refused] == ["AccessDeniedException"] * 3
    assert all("--extra-py-files" in e["Message"] and str(PIPELINE_PACKAGE_ROOT) in e["Message"] for e in refused)
    assert glue.get_job_runs(JobName=f"extra-0-{unique}")["JobRuns"] == []
