"""The job's failures: each names its reason (one of outcome.OUTCOME_REASONS) and whether another run may succeed,
which the outcome document carries to the state machine (docs/architecture.md, "Outcome document"). The failure line
on stderr is for the run's log only: Glue reports a failed script with its own generic ErrorMessage.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .jvm import java_message

if TYPE_CHECKING:
    from .manifest import FailedFile

# Marks a deterministic failure in the failure line of the run's log (for a reader of the log; nothing decides on it).
NOT_RETRYABLE_MARKER = "[NotRetryable]"

# The reason of a run whose Spark the JVM helpers were not built for (an outcome reason); the failure line begins
# with it.
ENGINE_INCOMPATIBLE = "engine_incompatible"


class JobError(Exception):
    """A failure of the job with a one-line message; another run may succeed (a transient error)."""

    retryable = True
    reason = "transient_error"


class NotRetryableError(JobError):
    """A deterministic failure: another run of the same manifest would fail the same way (the job's arguments, a
    pinned schema)."""

    retryable = False
    reason = "invalid_configuration"


class EngineIncompatibleError(NotRetryableError):
    """The job's JVM helpers do not work on this Spark (``jvm.engine_self_check``): every run would fail or, worse,
    parse wrongly until the jar is rebuilt for the engine (docs/architecture.md, "The JVM helpers")."""

    reason = ENGINE_INCOMPATIBLE


class ManifestError(NotRetryableError):
    """The manifest file is missing or malformed."""

    reason = "manifest_invalid"


class AccountingError(NotRetryableError):
    """The counts do not add up (I5); the run fails rather than record wrong figures."""

    reason = "lines_unaccounted"


class NoReadableFileError(NotRetryableError):
    """Not one file of the manifest could be read; `failed` lists them with their reasons."""

    reason = "no_readable_file"

    def __init__(self, message: str, failed: Sequence[FailedFile] = ()):
        super().__init__(message)
        self.failed = list(failed)


class RowsWouldBeDroppedError(NotRetryableError):
    """A replay could not read files whose rows the output in place holds: that output stays (I4); `failed` lists
    the files. A run with ``--allow_missing_files true`` replaces it without their rows."""

    reason = "rows_would_be_dropped"

    def __init__(self, message: str, failed: Sequence[FailedFile] = ()):
        super().__init__(message)
        self.failed = list(failed)


class ExecutionEndedError(NotRetryableError):
    """The execution that started the run has ended (aborted, timed out): the run is an orphan, and its output is not
    switched in, so the output in place, and the record the sweeper writes for that execution, stay as they are."""

    reason = "execution_ended"


def failure_message(error: BaseException) -> str:
    """The failure's one-line message (the outcome document's `message`, the alert's cause)."""
    message = str(error) if isinstance(error, JobError) else f"{type(error).__name__}: {java_message(error)}"
    return " ".join(message.split())[:1000]


def failure_line(error: BaseException) -> str:
    """The job's last stderr line, for the run's log: ``ndjson_to_parquet failed: <reason>``, with
    NOT_RETRYABLE_MARKER before the reason of a deterministic failure."""
    message = str(error) if isinstance(error, JobError) else f"{type(error).__name__}: {java_message(error)}"
    marker = f"{NOT_RETRYABLE_MARKER} " if isinstance(error, JobError) and not error.retryable else ""
    return f"ndjson_to_parquet failed: {marker}{' '.join(message.split())[:1000]}"
