"""DynamoDB isolation for moto: what real DynamoDB guarantees and moto does not.

moto's DynamoDB keeps no locks: two concurrent TransactWriteItems (or conditional writes) can both pass their
conditions, and a cancelled transaction restores a snapshot of every table it touched, taken when it began,
erasing writes other requests made meanwhile. Real DynamoDB serializes writes per item, so the builder's
conditional writes (I1) rely on it. Two fixes:

1. `serialize_dynamodb(app)`: a WSGI wrapper that serves DynamoDB requests one at a time. Other services stay
   concurrent (SQS long polls, S3 reads from Spark, Step Functions' own calls must not wait behind them).
2. `install()`: TransactWriteItems snapshots only the items it touches instead of deep-copying whole tables
   (O(table size) per call). The rollback stays exact because (1) lets nothing run between snapshot and restore.
"""
from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable
from typing import Any

_lock = threading.Lock()


def serialize_dynamodb(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Wraps a moto WSGI app so requests to DynamoDB (X-Amz-Target DynamoDB_*) run one at a time."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return app(environ, start_response)
        with _lock:
            # moto builds whole responses; materialize them inside the lock all the same.
            return list(app(environ, start_response))

    return wrapped


def install() -> None:
    """Patches moto's TransactWriteItems to snapshot and restore only the items it touches."""
    import moto.dynamodb.models as dynamodb_models  # noqa: PLC0415
    from moto.dynamodb.models.table import Table  # noqa: PLC0415

    if getattr(dynamodb_models.DynamoDBBackend.transact_write_items, "_item_snapshots", False):
        return

    class _TableKeepingCopy:
        """Stands in for the `copy` module inside moto's DynamoDB backend: whole tables are not copied."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

        copy = staticmethod(copy.copy)

    original = dynamodb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
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
            return original(self, transact_items)
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

    transact_write_items._item_snapshots = True  # type: ignore[attr-defined]
    dynamodb_models.copy = _TableKeepingCopy  # pyright: ignore[reportPrivateImportUsage] - the module's own `copy`, replaced
    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items
