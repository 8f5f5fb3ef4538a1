"""Why a file of the manifest is not converted: the reasons of the result's ``failedFiles``, read from the errors of
Hadoop's FileSystem, Spark's read and boto3 (docs/architecture.md, "Result file").

A reason is a property of the file (the run goes on without it); None means a transient error, and the run fails
so that it is retried. The decision reads exception classes and the service's own wording only: the messages carry
the objects' paths, which are producers' text (a key may hold ``NoSuchKey``, ``Access Denied`` or ``timeout``), so
every name the caller passes is taken out of them before anything is matched.
"""
from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable

from .jvm import DECOMPRESSED_TOO_LARGE_CLASS, java_exception_chain, java_message

# Reasons a file of the manifest is not converted (result file, "failedFiles"): `fileFailureReasons` of
# contracts/glue-job.json, which tests/test_contracts.py holds this tuple to.
MISSING, ACCESS_DENIED, UNREADABLE, UNSAFE_KEY, TOO_LARGE = "missing", "access_denied", "unreadable", "unsafe_key", \
    "too_large"
FILE_FAILURE_REASONS = (MISSING, ACCESS_DENIED, UNREADABLE, UNSAFE_KEY, TOO_LARGE)
FAILED_FILE_MESSAGE_MAX_CHARS = 300
# Root causes of a read failure that are transient: the run fails (and is retried) instead of the file.
_TRANSIENT = re.compile(r"throttl|slow ?down|503|500 |internal ?error|timed? ?out|timeout|connection (reset|refused)|"
                        r"unable to execute http request|service ?unavailable|too many requests", re.IGNORECASE)


def one_line(text: str) -> str:
    """`text` on one line, whitespace runs folded, cut to FAILED_FILE_MESSAGE_MAX_CHARS."""
    return " ".join(str(text).split())[:FAILED_FILE_MESSAGE_MAX_CHARS]


def root_message(error: BaseException) -> str:
    """``<class>: <first line>`` of the innermost Java cause (else of the Python error)."""
    chain = java_exception_chain(error)
    if chain:
        name, message = chain[-1]
        first = message.strip().splitlines()[0] if message.strip() else ""
        return f"{name}: {first}" if first else name
    return f"{type(error).__name__}: {java_message(error)}"


def without_names(text: str, names: Iterable[str]) -> str:
    """`text` with every one of `names` (and its URL-encoded and decoded forms, as Spark and Hadoop print paths)
    replaced by ``<name>``, longest first, so that no part of a producer's key is read as an error's wording."""
    forms: set[str] = set()
    for name in names:
        if name:
            forms |= {name, urllib.parse.unquote(name), urllib.parse.quote(name, safe="/:"),
                      urllib.parse.quote(name, safe="")}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "<name>")
    return text


def hadoop_failure_reason(error: BaseException, names: Iterable[str] = ()) -> str | None:
    """TOO_LARGE for a read the gzip cap stopped (an exception of class jvm.DECOMPRESSED_TOO_LARGE_CLASS among the
    causes), MISSING or ACCESS_DENIED for an error of Hadoop's FileSystem or Spark's read naming a file, UNREADABLE
    for another deterministic read error, None for a transient one (the run fails and is retried). `names` are the
    paths and keys the error may quote (the manifest's files), which decide nothing."""
    names = [n for n in names if n]
    chain = [(cls, without_names(message, names)) for cls, message in java_exception_chain(error)]
    if any(cls == DECOMPRESSED_TOO_LARGE_CLASS for cls, _ in chain):
        return TOO_LARGE
    classes = " ".join(cls for cls, _ in chain)
    text = " ".join(message for _, message in chain) or without_names(str(error), names)
    if "FileNotFoundException" in classes or "NoSuchKey" in text or "Path does not exist" in text:
        return MISSING
    root = " ".join(chain[-1]) if chain else without_names(str(error), names)  # the innermost cause
    if "AccessDenied" in classes or "AccessControlException" in classes or re.search(
            r"Status Code: 403|\bForbidden\b|Access Denied", root):
        return ACCESS_DENIED
    return None if _TRANSIENT.search(root) else UNREADABLE


def aws_error_code(error: BaseException) -> str:
    """The error code of a boto3 ClientError (else ""). Matched by code, not by the client's exception classes: a
    client first used from two threads at once can build two sets of those classes, and one thread's `except` then
    misses the other's error."""
    response = getattr(error, "response", None)
    return str(((response or {}).get("Error") or {}).get("Code") or "") if isinstance(response, dict) else ""


def s3_failure_reason(error: BaseException) -> str | None:
    """MISSING (no such key or version) or ACCESS_DENIED for a boto3 error, None for any other (transient)."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return None
    code = aws_error_code(error)
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in ("NoSuchKey", "NoSuchVersion", "NotFound", "404") or status == 404:
        return MISSING
    if code in ("InvalidArgument",) and "version" in str(response.get("Error", {}).get("Message", "")).lower():
        return MISSING  # a version id S3 does not know the form of: no such version
    if code in ("AccessDenied", "Forbidden", "403") or status == 403:
        return ACCESS_DENIED
    return None


def s3_message(error: BaseException) -> str:
    """``<code>: <message>`` of a boto3 error."""
    response = getattr(error, "response", {}) or {}
    detail = response.get("Error", {})
    return f"{detail.get('Code', type(error).__name__)}: {detail.get('Message') or error}"
