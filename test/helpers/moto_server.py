"""moto server for the handler tests and the builder benchmark, locked down and isolated as the local emulator is.

Usage: EMULATOR_ACCESS_KEY_ID=... EMULATOR_SECRET_ACCESS_KEY=... moto_server.py <host> <port>

It answers only requests signed with the key in its environment (local/emulator/sigv4_auth.py), sends no CORS
headers, serves requests one at a time (stricter than the emulator, which serializes only DynamoDB), and
TransactWriteItems snapshots only the items it touches: see local/emulator/dynamodb_isolation.py for why
concurrency tests need both to exercise the product rather than the emulator. Objects carry S3's checksums
(local/emulator/s3_checksums.py).
"""
import os
import sys
import threading
from pathlib import Path

from werkzeug.serving import run_simple

os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"  # read when moto loads
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "local" / "emulator"))
import s3_checksums  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app  # noqa: E402

import dynamodb_isolation  # noqa: E402
import sigv4_auth  # noqa: E402

dynamodb_isolation.install()
s3_checksums.install()  # objects get the full-object checksums S3 gives them, which identify content (I7)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    credentials = sigv4_auth.credentials_from_environment()
    if credentials is None:
        sys.exit(f"moto_server.py: set {sigv4_auth.ACCESS_KEY_ENV} and {sigv4_auth.SECRET_KEY_ENV}: it answers only "
                 "requests signed with that key")
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            # moto builds whole responses; materialize them inside the lock all the same.
            return list(app(environ, start_response))

    run_simple(host, port, sigv4_auth.SigV4Verifier(serialized, credentials), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
