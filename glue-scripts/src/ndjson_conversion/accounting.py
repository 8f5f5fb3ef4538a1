"""Accounting for every line (I5): what one conversion pass counted (`PassTally`, from the JVM ledger) and the
check of the counts against what was written, read back from the Parquet footers and the quarantine files;
docs/architecture.md, I5 and "Result file".
"""
from __future__ import annotations

import urllib.parse
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import jvm
from .errors import AccountingError
from .lines import SourceObject, is_gzip
from .manifest import FailedFile, ManifestFile

# Text of quarantined lines the conversion pass keeps for the quarantine file (pipeline.json.Ledger), shared out
# between its read tasks, at least QUARANTINE_TASK_MIN_BYTES each; past its share, the job reads the quarantined lines
# in a pass of their own. It bounds what the tasks send to the driver.
QUARANTINE_KEPT_BYTES = 64 * 1024 * 1024
QUARANTINE_TASK_MIN_BYTES = 1024 * 1024
# Ledger reasons that are not quarantine reasons.
_NOT_QUARANTINED = ("row", "blank")


def quarantine_task_bytes(read_tasks: int) -> int:
    """The quarantined text one read task keeps in the ledger: its share of QUARANTINE_KEPT_BYTES."""
    return max(QUARANTINE_TASK_MIN_BYTES, QUARANTINE_KEPT_BYTES // max(1, read_tasks))


@dataclass
class PassTally:
    """What one conversion pass saw (pipeline.json.Ledger): lines and bytes per reason (``row``, ``blank`` and the
    quarantine reasons), lines per object, and the ledger itself, which holds the quarantined lines."""

    ledger: jvm.LineLedger
    parsed: DataFrame
    reasons: dict[str, tuple[int, int]]
    object_lines: list[int]

    @classmethod
    def of(cls, ledger: jvm.LineLedger, parsed: DataFrame) -> PassTally:
        """The tally of a pass whose lines `ledger` recorded (read once the pass's Spark job has run)."""
        counts = ledger.counts()
        reasons = {str(reason): (int(n), int(b)) for reason, (n, b) in counts["reasons"].items()}
        reasons["row"] = (int(counts["rows"]), int(counts["rowBytes"]))
        object_lines = [int(n) for n in counts["objectLines"]]
        return cls(ledger, parsed, reasons, object_lines)

    def lines(self, reason: str) -> int:
        return self.reasons.get(reason, (0, 0))[0]

    def lines_in(self) -> int:
        """Every line the pass read."""
        return sum(n for n, _ in self.reasons.values())

    def quarantine(self) -> dict[str, tuple[int, int]]:
        """Lines and bytes per quarantine reason (every reason but ``row`` and ``blank``)."""
        return {reason: counts for reason, counts in self.reasons.items() if reason not in _NOT_QUARANTINED}

    def quarantined_lines(self, reasons: Sequence[str]) -> DataFrame:
        """The quarantined lines with one of `reasons` (column `line`): from the ledger, or, when a task could not
        keep them all, from a pass of their own."""
        if not self.ledger.overflowed():
            return self.ledger.kept_lines(reasons)
        return self.parsed.filter(F.col("_reason").isin(*reasons)).select("line")


@dataclass(frozen=True)
class WrittenOutput:
    """What the run wrote, read back from storage: Parquet files, bytes and rows (from the footers), quarantine
    files and lines."""

    parquet_files: int
    parquet_bytes: int
    rows_out: int
    quarantine_files: int
    rows_quarantined: int


def read_back(spark: SparkSession, partition_dir: str, quarantine_dir: str) -> WrittenOutput:
    """The output as written (`WrittenOutput`), read back from the files, not from the pass's own counts."""
    parquet_files, parquet_bytes, rows_out = jvm.read_back_parquet(spark, partition_dir)
    quarantine_files, _, rows_quarantined = jvm.read_back_text(spark, quarantine_dir)
    return WrittenOutput(parquet_files, parquet_bytes, rows_out, quarantine_files, rows_quarantined)


def check_accounting(manifest_id: str, lines_in: int, blank_lines: int, written: WrittenOutput) -> dict[str, int]:
    """The result's counts; raises AccountingError unless ``linesIn = rowsOut + rowsQuarantined + blankLines`` (I5)."""
    counts = {"linesIn": lines_in, "rowsOut": written.rows_out, "rowsQuarantined": written.rows_quarantined,
              "blankLines": blank_lines}
    if lines_in != written.rows_out + written.rows_quarantined + blank_lines:
        raise AccountingError(f"manifest {manifest_id}: lines do not add up: {counts}")
    return counts


def _path_identity(uri: str) -> tuple[str, str, str]:
    """A path as (scheme, authority, decoded path): the same object whether Spark wrote its URI with `file:/` or
    `file:///`, or percent-encoded."""
    parts = urllib.parse.urlsplit(uri)
    return parts.scheme.lower(), parts.netloc, urllib.parse.unquote(parts.path)


def check_every_object_read(manifest_id: str, files: Sequence[ManifestFile], objects: Sequence[SourceObject],
                            object_lines: Sequence[int], input_files: Iterable[str]) -> None:
    """Raises AccountingError naming the objects handed to the read that were not read (I5): one Spark did not
    list among the read's input files (its listing skips some names, and a path it cannot find), or a plain object
    of some bytes that gave no line (every byte of plain text is on a line). An empty object is read with no line;
    a gzip object's line count is not known before the read, so it is held to the first rule only."""
    listed = {_path_identity(uri) for uri in input_files}
    unread = [o.uri for f, o, lines in zip(files, objects, object_lines, strict=True)
              if _path_identity(o.spark_path) not in listed
              or (not lines and (f.size or 0) > 0 and not is_gzip(f.source))]
    if unread:
        shown = ", ".join(unread[:3]) + (f" and {len(unread) - 3} more" if len(unread) > 3 else "")
        raise AccountingError(f"manifest {manifest_id}: {len(unread)} file(s) handed to the read were not read: "
                              f"{shown}")


def check_every_listed_object(manifest_id: str, listed: Sequence[ManifestFile], read: Sequence[ManifestFile],
                              failed: Sequence[FailedFile]) -> None:
    """Raises AccountingError unless every object the manifest lists was read or is named as a failed file (I5),
    counted by URI (a pinned version read as another version of the same content keeps the manifest's URI)."""
    accounted = Counter([f.uri for f in read] + [f.file.uri for f in failed])
    missing = [uri for uri, n in Counter(f.uri for f in listed).items() if accounted[uri] < n]
    if missing:
        raise AccountingError(f"manifest {manifest_id}: {len(missing)} listed file(s) neither read nor failed: "
                              f"{', '.join(missing[:3])}")
