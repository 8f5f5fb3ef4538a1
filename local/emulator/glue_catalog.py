"""Glue Data Catalog: UpdateTable honours `VersionId`, as Glue does.

moto 5.2.5 ignores `VersionId` on UpdateTable and always writes, so two writers that each read a table, add a
column and write it back lose one column without an error. Glue refuses an update whose `VersionId` is not the
table's current version with `ConcurrentModificationException`; so does this patch, the check and the write made
under one lock. An update without `VersionId` is written as before.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.exceptions import JsonRESTError


class ConcurrentModificationException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ConcurrentModificationException", message)


def install() -> None:
    """Patches moto's Glue UpdateTable to refuse a stale `VersionId`; installing twice is harmless."""
    from moto.glue.responses import GlueResponse  # noqa: PLC0415

    original = GlueResponse.update_table
    if getattr(original, "_checks_version_id", False):
        return
    lock = threading.Lock()

    def update_table(self: Any) -> Any:
        version = self.parameters.get("VersionId")
        with lock:
            if version is not None:
                table_input = self.parameters.get("TableInput") or {}
                table = self.glue_backend.get_table(self.parameters.get("DatabaseName"), table_input.get("Name"))
                current = str(table.as_dict()["VersionId"])
                if str(version) != current:
                    raise ConcurrentModificationException(
                        f"Update table failed due to concurrent modifications: version {version} is not the "
                        f"table's current version {current}.")
            return original(self)

    update_table._checks_version_id = True  # type: ignore[attr-defined]
    GlueResponse.update_table = update_table  # type: ignore[method-assign]
