"""The local mode's AWS emulator: moto's server on 127.0.0.1 with a Glue runner, S3 events as S3 sends them,
an email outbox for SNS and Step Functions executions switched on.

    .venv/bin/python local/emulator/server.py --port 4566 --state-dir .local [--glue-script glue-scripts/x.py]

Prints `READY http://127.0.0.1:<port>` on stdout once it serves; exits 2 if the port is taken. SIGTERM or
SIGINT stops it, with any Glue run still going. Logs go to `<state-dir>/logs/emulator.log`, each Glue run's
output to `<state-dir>/logs/glue/<run id>.log`, emails to `<state-dir>/outbox/`.

It answers only requests signed (SigV4) with its own key: EMULATOR_ACCESS_KEY_ID and EMULATOR_SECRET_ACCESS_KEY
from its environment, else a pair it generates and writes to `<state-dir>/credentials.json` (mode 0600), or with
one of the pipeline components' keys (EMULATOR_COMPONENT_KEYS: the manifest builder's, the sweeper's, the state
machine's, the Glue job's). The state machine's tasks sign with the state machine's key and the Glue job's runs with
the Glue job's; every call made with a component's key is recorded in `<state-dir>/iam-calls.jsonl` as IAM
authorizes it (call_log.py). CORS is off, and its Glue runner runs only the pipeline's own script (plus any
`--allow-glue-script`).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sigv4_auth  # noqa: E402 - the emulator's own modules live beside this file

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[2]
# The one script the Glue runner runs unless told otherwise when started: the pipeline's own job.
PIPELINE_GLUE_SCRIPT = REPO_ROOT / "glue-scripts" / "ndjson_to_parquet.py"
# The one folder a job's --extra-py-files may name: the pipeline job's package (glue-scripts/src/ndjson_conversion).
PIPELINE_GLUE_PACKAGE_ROOT = REPO_ROOT / "glue-scripts" / "src"
EXIT_PORT_IN_USE = 2
# The components whose keys the emulator itself signs with (local/runtime.ts names them all).
STATE_MACHINE = "state-machine"
GLUE_JOB = "glue-job"
# moto's default account: every ARN the emulator hands out carries it.
DEFAULT_ACCOUNT_ID = "123456789012"
EXIT_BAD_ARGUMENTS = 64

LOG = logging.getLogger("emulator")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--port", type=int, default=4566, help="port on 127.0.0.1 (default 4566)")
    parser.add_argument("--state-dir", type=Path, default=Path(".local"),
                        help="folder for logs and the outbox (default .local)")
    parser.add_argument("--glue-script", type=Path, default=None,
                        help="run this script for every Glue job, whatever its Command.ScriptLocation")
    parser.add_argument("--allow-glue-script", type=Path, action="append", default=[], metavar="PATH",
                        help="also run jobs whose ScriptLocation is this script (repeatable; for tests: by default "
                             "only the pipeline's glue-scripts/ndjson_to_parquet.py runs)")
    parser.add_argument("--spark-jars-dir", type=Path, default=REPO_ROOT / ".venv" / "spark-jars",
                        help="folder holding the S3A connector jars (default .venv/spark-jars)")
    parser.add_argument("--glue-master", default="local[2]", help="Spark master of Glue runs (default local[2])")
    parser.add_argument("--glue-driver-memory", default="1g", help="driver memory of Glue runs (default 1g)")
    parser.add_argument("--retry-interval-scale", type=float, default=1.0,
                        help="multiply Step Functions Retry waits by this factor (default 1: as written)")
    parser.add_argument("--log-requests", action="store_true", help="log every HTTP request to the emulator log")
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be from 1 to 65535, got {args.port}")
    if args.retry_interval_scale < 0:
        parser.error("--retry-interval-scale must not be negative")
    if args.glue_script is not None:
        args.glue_script = args.glue_script.resolve()
        if not args.glue_script.is_file():
            print(f"emulator: --glue-script {args.glue_script} does not exist", file=sys.stderr)
            sys.exit(EXIT_BAD_ARGUMENTS)
    for script in args.allow_glue_script:
        if not script.is_file():
            print(f"emulator: --allow-glue-script {script} does not exist", file=sys.stderr)
            sys.exit(EXIT_BAD_ARGUMENTS)
    args.allow_glue_script = [PIPELINE_GLUE_SCRIPT, *(script.resolve() for script in args.allow_glue_script)]
    args.state_dir = args.state_dir.resolve()
    args.spark_jars_dir = args.spark_jars_dir.resolve()
    return args


def configure_logging(state_dir: Path, log_requests: bool) -> Path:
    log_path = state_dir / "logs" / "emulator.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # werkzeug logs each request at INFO: the SQS poller and the .sync Glue polling would flood the file.
    logging.getLogger("werkzeug").setLevel(logging.INFO if log_requests else logging.WARNING)

    def log_thread_exception(hook_args: threading.ExceptHookArgs) -> None:
        LOG.error("uncaught error in thread %s", hook_args.thread.name if hook_args.thread else "?",
                  exc_info=hook_args.exc_value)

    threading.excepthook = log_thread_exception
    return log_path


def ensure_port_free(host: str, port: int) -> None:
    """Raises EADDRINUSE if `host:port` cannot be bound as the server will bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def port_in_use(port: int) -> int:
    message = f"emulator: port {port} on {HOST} is already in use (is the local mode already running?)"
    LOG.error(message)
    print(message, file=sys.stderr)
    return EXIT_PORT_IN_USE


def component_credentials() -> dict[str, sigv4_auth.EmulatorCredentials]:
    """The pipeline components' keys the caller chose (none when unset); they leave the environment too."""
    try:
        return sigv4_auth.component_keys_from_environment()
    finally:
        os.environ.pop(sigv4_auth.COMPONENT_KEYS_ENV, None)


def instance_credentials(state_dir: Path) -> sigv4_auth.EmulatorCredentials:
    """The key this instance answers to: the caller's (environment), else a new one written where only its owner
    reads it. Either way it leaves the environment, so no child process inherits it by accident."""
    credentials = sigv4_auth.credentials_from_environment()
    for name in (sigv4_auth.ACCESS_KEY_ENV, sigv4_auth.SECRET_KEY_ENV):
        os.environ.pop(name, None)
    if credentials is not None:
        return credentials
    credentials = sigv4_auth.generate_credentials()
    path = state_dir / "credentials.json"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"accessKeyId": credentials.access_key_id, "secretAccessKey": credentials.secret_access_key}, out)
    LOG.info("generated this instance's access key: %s (secret in %s)", credentials.access_key_id, path)
    print(f"emulator: sign requests with the key in {path}", file=sys.stderr, flush=True)
    return credentials


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    endpoint = f"http://{HOST}:{args.port}"
    # moto's Step Functions interpreter calls the other services at localhost:MOTO_PORT; set before moto loads.
    os.environ["MOTO_PORT"] = str(args.port)
    # No CORS headers: a web page the user visits must not be able to call the emulator (read before moto loads).
    os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"
    log_path = configure_logging(args.state_dir, args.log_requests)
    (args.state_dir / "outbox").mkdir(parents=True, exist_ok=True)
    try:
        ensure_port_free(HOST, args.port)  # before loading moto, which takes seconds: a taken port fails at once
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            return port_in_use(args.port)
        raise
    credentials = instance_credentials(args.state_dir)
    try:
        components = component_credentials()
    except ValueError as error:
        print(f"emulator: {error}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer  # noqa: PLC0415
    from moto.moto_server.werkzeug_app import (  # noqa: PLC0415
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server  # noqa: PLC0415

    import call_log  # noqa: PLC0415
    import dynamodb_isolation  # noqa: PLC0415
    import glue_runner  # noqa: PLC0415
    import s3_events  # noqa: PLC0415
    import sfn_fixes  # noqa: PLC0415
    import sns_outbox  # noqa: PLC0415

    class LocalMotoServer(ThreadedMotoServer):
        """Binds in the caller's thread, so a port in use fails `start()` instead of hanging it."""

        def start(self) -> None:
            ensure_port_free(self._ip_address, self._port)
            app = sigv4_auth.SigV4Verifier(
                dynamodb_isolation.serialize_dynamodb(DomainDispatcherApplication(create_backend_app)), credentials,
                components=components, call_log=calls)
            try:
                self._server = make_server(self._ip_address, self._port, app, True,
                                           request_handler=MotoRequestHandler)
            except SystemExit as error:  # werkzeug exits rather than raising when the bind fails
                raise OSError(errno.EADDRINUSE, "address in use") from error
            self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)
            self._thread.start()
            self._server_ready_event.set()

    # Every patch is in place before the first request: no state machine can exist with executions off.
    sfn_fixes.install(retry_interval_scale=args.retry_interval_scale)
    # Every call made with a component's key, as IAM authorizes it; moto's default account is the local mode's.
    calls = call_log.CallLog(args.state_dir / call_log.CALLS_FILE, account_id=DEFAULT_ACCOUNT_ID)
    # The state machine's own calls to the other services, with its key.
    sigv4_auth.sign_internal_clients(components.get(STATE_MACHINE, credentials))
    s3_events.install()
    __import__("s3_checksums").install()  # every object gets its full-object checksum, as on S3
    dynamodb_isolation.install()
    __import__("glue_catalog").install()  # UpdateTable refuses a stale VersionId, as Glue does
    sns_outbox.install(sns_outbox.Outbox(args.state_dir / "outbox"))
    runner = glue_runner.GlueRunner(
        endpoint=endpoint,
        state_dir=args.state_dir,
        spark=glue_runner.SparkSettings(master=args.glue_master, driver_memory=args.glue_driver_memory,
                                        jars_dir=args.spark_jars_dir),
        credentials=components.get(GLUE_JOB, credentials),  # the job's runs sign with its key
        allowed_scripts=args.allow_glue_script,
        script_override=args.glue_script,
        allowed_packages=[PIPELINE_GLUE_PACKAGE_ROOT],
    )
    runner.install()

    server = LocalMotoServer(ip_address=HOST, port=args.port, verbose=False)
    try:
        server.start()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            return port_in_use(args.port)
        raise

    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        if stop.is_set():
            os._exit(1)
        LOG.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    LOG.info("serving %s (state %s, Glue script %s)", endpoint, args.state_dir,
             args.glue_script or "from each job's ScriptLocation, if one of " +
             ", ".join(str(script) for script in args.allow_glue_script))
    print(f"READY {endpoint}", flush=True)
    print(f"emulator: logs in {log_path}", file=sys.stderr, flush=True)

    while not stop.wait(1.0):
        pass
    runner.stop_all()
    server.stop()
    LOG.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
