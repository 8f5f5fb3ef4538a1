"""The launcher: READY line, 127.0.0.1 only, a clear exit when the port is taken, a clean stop with its Glue runs."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from emulator_harness import FIXTURES, SERVER, launch, wait_for


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as /proc shows them) listening on `port`, from /proc/net/tcp and tcp6."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                addresses.add(address)
    return addresses


def _children(pid: int) -> set[int]:
    children = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children |= {int(child) for child in (task / "children").read_text().split()}
        except FileNotFoundError:  # a thread (a request's) that ended meanwhile
            continue
    return children


def test_it_prints_ready_and_listens_on_loopback_only(emulator) -> None:
    assert emulator.stdout_lines[0] == f"READY http://127.0.0.1:{emulator.port}"
    assert _listening_addresses(emulator.port) == {"0100007F"}
    assert (emulator.state_dir / "logs" / "emulator.log").read_text().count("serving http://127.0.0.1") == 1


def test_a_port_in_use_gives_a_clear_message_and_exit_code(emulator, tmp_path) -> None:
    second = subprocess.run(
        [sys.executable, str(SERVER), "--port", str(emulator.port), "--state-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )

    assert second.returncode == 2
    assert f"port {emulator.port} on 127.0.0.1 is already in use" in second.stderr
    assert "READY" not in second.stdout


def test_sigterm_stops_the_server_and_its_glue_runs(tmp_path) -> None:
    own = launch(tmp_path / "state")
    glue = own.client("glue")
    glue.create_job(Name="long", Role="arn:aws:iam::123456789012:role/glue",
                    Command={"Name": "glueetl", "ScriptLocation": str(FIXTURES / "plain_job.py")})
    run_id = glue.start_job_run(JobName="long", Arguments={"--sleep_seconds": "120"})["JobRunId"]
    wait_for(lambda: glue.get_job_run(JobName="long", RunId=run_id)["JobRun"]["JobRunState"] == "RUNNING", 30,
             what="the run to start")
    [script_pid] = wait_for(lambda: _children(own.process.pid), 10, what="the run's process")

    started = time.monotonic()
    assert own.stop(signal.SIGTERM, timeout=30) == 0

    assert time.monotonic() - started < 20
    assert _gone(script_pid)
    assert "stopped" in (tmp_path / "state" / "logs" / "emulator.log").read_text()
    assert os.path.exists(tmp_path / "state" / "logs" / "glue" / f"{run_id}.log")


def _gone(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_killed_emulator_leaves_no_glue_run_behind(tmp_path) -> None:
    own = launch(tmp_path / "state", "--glue-script", str(FIXTURES / "plain_job.py"))
    glue = own.client("glue")
    # --glue-script runs in place of any ScriptLocation, even one that does not exist.
    glue.create_job(Name="long", Role="arn:aws:iam::123456789012:role/glue",
                    Command={"Name": "glueetl", "ScriptLocation": "s3://nowhere/job.py"})
    run_id = glue.start_job_run(JobName="long", Arguments={"--sleep_seconds": "120"})["JobRunId"]
    log = tmp_path / "state" / "logs" / "glue" / f"{run_id}.log"
    wait_for(lambda: log.exists() and "args" in log.read_text(), 30, what="the script to run")
    [script_pid] = _children(own.process.pid)

    own.stop(signal.SIGKILL)

    wait_for(lambda: _gone(script_pid), 10, what="the run's process to end with the emulator")
