"""The run's outcome document: the job's word to the state machine (docs/architecture.md, "Outcome document").

Every run that reaches the job's own error handling writes it beside the result file, at the result file's key with
``.result.json`` replaced by ``.outcome.json`` (``manifests/<dataset>/<manifestId>.outcome.json``, which the state
machine derives from its input): the status (SUCCEEDED, PARTIAL, FAILED), a reason from OUTCOME_REASONS, whether
another run may succeed, the counts, and the first FAILED_FILES_SHOWN failed files (the result file lists them all).
The state machine decides retry, PARTIAL, FAILED and the alert's reason from it alone, and only when its ``jobRunId``
is the run's own: a document an earlier run left is not this run's word. Glue's ErrorMessage is never read for a
decision. The document is small whatever the keys: at most FAILED_FILES_SHOWN keys (S3 keys are at most 1,024 bytes)
and a message of at most OUTCOME_MESSAGE_MAX_CHARS characters, far below Step Functions' 256 KB state limit.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .errors import JobError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from .manifest import FailedFile

#: The reasons an outcome may give (contracts/glue-job.json, "outcomeReasons"): `none` for SUCCEEDED,
#: `files_unreadable` for PARTIAL, the others for FAILED.
OUTCOME_REASONS = ("none", "files_unreadable", "manifest_invalid", "no_readable_file", "lines_unaccounted",
                   "invalid_configuration", "engine_incompatible", "transient_error", "internal_error",
                   "rows_would_be_dropped", "execution_ended")
#: How many failed files the document lists (the state machine carries them into the record and the alert).
FAILED_FILES_SHOWN = 5
OUTCOME_MESSAGE_MAX_CHARS = 1000
#: The counts of the document, each a whole number (zero when the run did not get that far).
COUNT_NAMES = ("linesIn", "rowsOut", "rowsQuarantined", "blankLines", "outputFiles", "outputBytes", "filesRead",
               "filesFailed")
#: The output of a converted run (SUCCEEDED or PARTIAL): its run id and the directories it wrote (I4).
OUTPUT_NAMES = ("runId", "outputLocation", "quarantineLocation")
_RESULT_SUFFIX = ".result.json"
_OUTCOME_SUFFIX = ".outcome.json"


def outcome_uri(result_uri: str) -> str:
    """The outcome document beside the result file: ``<x>.result.json`` gives ``<x>.outcome.json``."""
    base = result_uri[: -len(_RESULT_SUFFIX)] if result_uri.endswith(_RESULT_SUFFIX) else result_uri
    return base + _OUTCOME_SUFFIX


def job_run_id(argv: Sequence[str]) -> str:
    """The run's id, which Glue passes to the script as ``--JOB_RUN_ID <id>`` (as does the local Glue runner); ""
    when absent (a run by hand)."""
    args = list(argv)
    for i, arg in enumerate(args[:-1]):
        if arg == "--JOB_RUN_ID":
            return args[i + 1]
    return ""


def _shown(failed: Sequence[FailedFile]) -> list[dict[str, Any]]:
    """The first failed files, by key, version and reason only (no message: it may quote the object)."""
    out = []
    for f in failed[:FAILED_FILES_SHOWN]:
        entry = f.as_result()
        out.append({"key": entry["key"], "versionId": entry["versionId"], "reason": entry["reason"]})
    return out


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:OUTCOME_MESSAGE_MAX_CHARS]


def success_outcome(result: dict[str, Any], run_id: str, failed: Sequence[FailedFile]) -> dict[str, Any]:
    """The outcome of a run that converted the readable files: SUCCEEDED, or PARTIAL when some failed."""
    partial = int(result["filesFailed"]) > 0
    return {
        "manifestId": result["manifestId"], "jobRunId": run_id,
        "status": "PARTIAL" if partial else "SUCCEEDED",
        "reason": "files_unreadable" if partial else "none",
        "retryable": False,
        "message": (f"{result['filesFailed']} of {int(result['filesRead']) + int(result['filesFailed'])} files "
                    "could not be read" if partial else "converted"),
        "counts": {name: int(result[name]) for name in COUNT_NAMES},
        "failedFiles": _shown(failed),
        # The output the run switched the partition to (I4), which the record names for the project's readers.
        **{name: str(result[name]) for name in OUTPUT_NAMES},
    }


def reason_of(error: BaseException) -> str:
    """The reason of a failed run: the job's own error's `reason`, else ``internal_error``."""
    reason = getattr(error, "reason", None) if isinstance(error, JobError) else None
    return reason if reason in OUTCOME_REASONS else "internal_error"


def failure_outcome(manifest_id: str, run_id: str, error: BaseException, message: str) -> dict[str, Any]:
    """The outcome of a run that failed with `error`: retryable unless the job knows another run would fail the same
    way; an error that is not the job's own (a bug, an engine fault) is retryable, up to the state machine's limit."""
    failed: Sequence[FailedFile] = getattr(error, "failed", None) or ()
    counts = dict.fromkeys(COUNT_NAMES, 0)
    counts["filesFailed"] = len(failed)
    return {
        "manifestId": manifest_id, "jobRunId": run_id, "status": "FAILED",
        "reason": reason_of(error),
        "retryable": bool(error.retryable) if isinstance(error, JobError) else True,
        "message": _one_line(message),
        "counts": counts,
        "failedFiles": _shown(failed),
    }


def write_outcome(spark: SparkSession, uri: str, outcome: dict[str, Any]) -> None:
    """Writes (replaces) the outcome document."""
    from . import jvm

    jvm.write_small_file(spark, uri, json.dumps(outcome))
