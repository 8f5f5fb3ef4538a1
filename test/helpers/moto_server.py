"""moto server for the handler tests and the builder benchmark, with the local emulator's DynamoDB isolation.

Usage: moto_server.py <host> <port>

Requests are served one at a time (stricter than the emulator, which serializes only DynamoDB), and
TransactWriteItems snapshots only the items it touches: see local/emulator/dynamodb_isolation.py for why
concurrency tests need both to exercise the product rather than the emulator.
"""
import os
import sys
import threading
from pathlib import Path

from werkzeug.serving import run_simple

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "local" / "emulator"))
import dynamodb_isolation  # noqa: E402

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app  # noqa: E402

dynamodb_isolation.install()


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            # moto builds whole responses; materialize them inside the lock all the same.
            return list(app(environ, start_response))

    run_simple(host, port, serialized, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
