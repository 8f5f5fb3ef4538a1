"""moto server for the handler tests and the builder benchmark, with two emulator fixes.

Usage: moto_server.py <host> <port>

1. Requests are served one at a time. moto's DynamoDB keeps no locks: two concurrent TransactWriteItems can both
   pass their conditions, and a cancelled transaction restores a snapshot of the whole table taken when it began,
   erasing writes other requests made meanwhile. Real DynamoDB serializes transactions per item; serving one
   request at a time gives the same guarantee, so concurrency tests exercise the product, not the emulator.
2. TransactWriteItems snapshots only the items it touches instead of deep-copying every table it touches on
   every call (which makes each transaction cost O(table size) and a 10,000-file run take hours). The rollback
   stays exact: under (1) nothing else runs between the snapshot and the restore.
"""
import copy
import os
import sys
import threading

from werkzeug.serving import run_simple

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app


class _TableKeepingCopy:
    """Stands in for the `copy` module inside moto's DynamoDB backend: whole tables are not copied."""

    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    copy = staticmethod(copy.copy)


_original_transact = dynamodb_models.DynamoDBBackend.transact_write_items


def _transact_write_items(self, transact_items):
    snapshots = []
    for entry in transact_items:
        op = next(iter(entry.values()))
        table = self.get_table(op["TableName"])
        if "Item" in op:
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        hash_value, range_value = self.get_keys_value(table, key)
        snapshots.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
    try:
        _original_transact(self, transact_items)
    except Exception:
        for table, hash_value, range_value, item in reversed(snapshots):
            if item is None:
                if table.get_item(hash_value, range_value) is not None:
                    table.delete_item(hash_value, range_value)
            elif range_value is not None:
                table.items[hash_value][range_value] = item
            else:
                table.items[hash_value] = item
        raise


dynamodb_models.copy = _TableKeepingCopy
dynamodb_models.DynamoDBBackend.transact_write_items = _transact_write_items


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
