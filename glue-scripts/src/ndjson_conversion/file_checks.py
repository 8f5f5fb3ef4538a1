"""File-level failures (docs/architecture.md, "Result file", ``failedFiles``): missing and denied files are found
before Spark reads anything (`check_files`: S3's HeadObject for a pinned version, Hadoop's getFileStatus for any other
entry); a file Spark then fails to read is found from the error of the Spark job, which names it, or else by halving
the files (`file_named_in`, `find_unreadable`).
"""
from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from pyspark.sql import SparkSession

from . import jvm
from .errors import JobError
from .failures import ACCESS_DENIED, MISSING, UNSAFE_KEY, hadoop_failure_reason, root_message
from .lines import read_text
from .manifest import FailedFile, ManifestFile, unsafe_key_reason
from .pinning import CHECK_THREADS, StagingArea, pin_version


def names_of(files: Sequence[ManifestFile]) -> list[str]:
    """The paths and keys by which errors may quote `files` (producers' text: it decides nothing)."""
    names: list[str] = []
    for f in files:
        location = f.s3_location()
        names += [f.uri, f.source, f.key or "", location[1] if location else ""]
    return names


def check_file_status(spark: SparkSession, f: ManifestFile) -> ManifestFile | FailedFile:
    """The entry with its size from Hadoop's getFileStatus, or why it is missing or denied; another error fails the
    run."""
    try:
        length = jvm.file_length(spark, f.source)
    except Exception as error:  # py4j wraps FileNotFoundException, AccessDeniedException, ...
        reason = hadoop_failure_reason(error, names_of([f]))
        if reason in (MISSING, ACCESS_DENIED):
            return FailedFile(f, reason, root_message(error))
        raise JobError(f"cannot check {f.uri}: {jvm.java_message(error)}") from None
    return replace(f, size=f.size if f.size is not None else length)


def check_files(spark: SparkSession, files: Sequence[ManifestFile], staging: StagingArea, s3: Callable[[], Any]
                ) -> tuple[list[ManifestFile], list[FailedFile]]:
    """The manifest's files to read (with their sizes, and a staged copy where a pinned version needs one) and
    those found missing or denied. A pinned version (``versionId``) counts for s3:// entries only; others are read
    as they are. An error that is neither missing nor denied (throttling, network) fails the run."""
    def check(item: tuple[int, ManifestFile]) -> ManifestFile | FailedFile:
        n, f = item
        unsafe = unsafe_key_reason(f)
        if unsafe is not None:
            return FailedFile(f, UNSAFE_KEY, unsafe)
        if f.s3_location() is None:
            f = replace(f, version_id=None)
        elif f.version_id:
            return pin_version(s3(), f, n, staging)
        return check_file_status(spark, f)

    with ThreadPoolExecutor(max_workers=CHECK_THREADS) as pool:
        outcomes = list(pool.map(check, enumerate(files)))
    return ([o for o in outcomes if isinstance(o, ManifestFile)], [o for o in outcomes if isinstance(o, FailedFile)])


def file_named_in(spark: SparkSession, error: BaseException, files: Sequence[ManifestFile],
                  max_decompressed_bytes: int) -> FailedFile | None:
    """The file a failed Spark read names (Spark's messages carry the path, URL-encoded; the gzip cap's error names
    the file it stopped) and why it failed, when that is a property of the file; None when the error names none of
    them or is transient. A search for the file (`find_unreadable`) reads under the same gzip cap."""
    if isinstance(error, JobError):
        return None
    text = " ".join([str(error)] + [message for _, message in jvm.java_exception_chain(error)])
    texts = (text, urllib.parse.unquote(text))
    found: list[tuple[ManifestFile, set[str]]] = []
    qualified_names = list(jvm.qualified_paths(spark, [f.source for f in files]))
    for f, qualified in zip(files, qualified_names, strict=True):
        names = {f.source, qualified}
        names |= {urllib.parse.unquote(n) for n in list(names)}
        matched = {name for name in names if name and any(name in t for t in texts)}
        if matched:
            found.append((f, matched))
    # `.../a.ndjson.gz` in the message also contains `.../a.ndjson`: a name inside another file's name is no match.
    named = [f for f, matched in found
             if not any(m != o and m in o for m in matched for g, others in found if g is not f for o in others)]
    reason = hadoop_failure_reason(error, [*names_of(files), *qualified_names])
    if reason is None:
        return None
    if named:
        return FailedFile(named[0], reason, root_message(error))
    if any(name == "org.apache.spark.SparkException" for name, _ in jvm.java_exception_chain(error)):
        # A read error past an object's first bytes (a gzip stream cut short) reaches the driver without the path.
        return find_unreadable(spark, files, max_decompressed_bytes)
    return None


def read_error(spark: SparkSession, files: Sequence[ManifestFile], max_decompressed_bytes: int
               ) -> BaseException | None:
    """The error of reading every line of `files` (and decompressing them, up to the cap), or None when they read."""
    try:
        read_text(spark, [f.source for f in files], max_decompressed_bytes).count()
    except Exception as error:  # noqa: BLE001 - the caller decides what the error means
        return error
    return None


def find_unreadable(spark: SparkSession, files: Sequence[ManifestFile], max_decompressed_bytes: int
                    ) -> FailedFile | None:
    """A file of `files` that Spark fails to read, by halving: about 2 log2(n) reads of ever smaller subsets. None
    when all of them read (the failure was not the files')."""
    error = None
    candidates = list(files)
    while len(candidates) > 1:
        half = len(candidates) // 2
        for part in (candidates[:half], candidates[half:]):
            error = read_error(spark, part, max_decompressed_bytes)
            if error is not None:
                candidates = part
                break
        else:
            return None
    error = error if error is not None and len(files) > 1 else read_error(spark, candidates, max_decompressed_bytes)
    if error is None:
        return None
    reason = hadoop_failure_reason(error, names_of(candidates))
    return FailedFile(candidates[0], reason, root_message(error)) if reason is not None else None
