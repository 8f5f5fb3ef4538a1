"""The job's failures and its failure line: what the state machine reads in the job run's ErrorMessage.

A failure another run would repeat carries NOT_RETRYABLE_MARKER (docs/architecture.md, "Glue job" and the
ConvertManifest state machine's retries).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .jvm import java_message

if TYPE_CHECKING:
    from .manifest import FailedFile

# The prefix of the job's failure line for a failure that another run of the same manifest would repeat; the state
# machine matches it in the job run's ErrorMessage and does not retry such a run.
NOT_RETRYABLE_MARKER = "[NotRetryable]"

# The reason of a run whose Spark the JVM helpers were not built for; the failure line begins with it.
ENGINE_INCOMPATIBLE = "engine_incompatible"


class JobError(Exception):
    """A failure of the job with a message fit for the job run's ErrorMessage; another run may succeed."""

    retryable = True


class NotRetryableError(JobError):
    """A deterministic failure: another run of the same manifest would fail the same way (NOT_RETRYABLE_MARKER)."""

    retryable = False


class EngineIncompatibleError(NotRetryableError):
    """The job's JVM helpers do not work on this Spark (``jvm.engine_self_check``): every run would fail or, worse,
    parse wrongly until the jar is rebuilt for the engine (docs/architecture.md, "The JVM helpers")."""

    reason = ENGINE_INCOMPATIBLE


class ManifestError(NotRetryableError):
    """The manifest file is missing or malformed."""


class AccountingError(NotRetryableError):
    """The counts do not add up (I5); the run fails rather than record wrong figures."""


class NoReadableFileError(NotRetryableError):
    """Not one file of the manifest could be read."""


class FilesTooLargeError(JobError):
    """Gzip files of the manifest decompress to more than the cap: the run sets them aside and reads the rest."""

    def __init__(self, failed: list[FailedFile]):
        super().__init__(f"{len(failed)} file(s) over the decompressed size cap")
        self.failed = failed


def failure_line(error: BaseException) -> str:
    """The job's last stderr line, which becomes the run's ErrorMessage: ``ndjson_to_parquet failed: <reason>``,
    with NOT_RETRYABLE_MARKER before the reason of a deterministic failure (the state machine does not retry it)."""
    message = str(error) if isinstance(error, JobError) else f"{type(error).__name__}: {java_message(error)}"
    marker = f"{NOT_RETRYABLE_MARKER} " if isinstance(error, JobError) and not error.retryable else ""
    return f"ndjson_to_parquet failed: {marker}{' '.join(message.split())[:1000]}"
