"""Pinned versions: an s3:// entry with ``versionId`` is converted as that version, read at its key while it is the
current version, else from a server-side copy in the staging area, removed at the end of the run (docs/
architecture.md, "Manifest file" and I4).
"""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from .errors import JobError
from .failures import MISSING, one_line, s3_failure_reason, s3_message
from .manifest import S3_SCHEMES, FailedFile, ManifestFile
from .output import join_path

# Objects checked (and pinned versions copied) at the same time.
CHECK_THREADS = 16


def s3_client() -> Any:
    """A boto3 S3 client in the job's region; path-style against an emulator (AWS_ENDPOINT_URL, which boto3 honours),
    as the S3A reader uses."""
    import boto3
    from botocore.config import Config

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    config = Config(s3={"addressing_style": "path"}) if os.environ.get("AWS_ENDPOINT_URL") else None
    return boto3.client("s3", region_name=region, config=config)


class SharedClient:
    """A client made by `factory` on first use, from any thread, and shared by every later call."""

    def __init__(self, factory: Callable[[], Any]):
        self._factory = factory
        self._made: list[Any] = []
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        with self._lock:
            if not self._made:
                self._made.append(self._factory())
            return self._made[0]


class StagingArea:
    """Where pinned versions whose key was overwritten since are copied for the run:
    ``<staging_path><dataset>/<manifest_id>/<n>/<basename>``, n the file's position in the manifest (so that two
    versions of one key do not meet), the basename kept for its suffix (``.gz``). Removed by `clean_up`."""

    def __init__(self, staging_path: str, dataset: str, manifest_id: str, s3: Callable[[], Any]):
        self.staging_path = staging_path
        self.prefix_uri = join_path(staging_path, dataset, manifest_id)
        self._s3 = s3
        self.used = False

    def target(self, n: int, key: str) -> tuple[str, str, str]:
        """(bucket, key, uri) of the copy of the manifest's n-th file."""
        scheme, _, rest = self.prefix_uri.partition("://")
        if scheme.lower() not in S3_SCHEMES:
            raise JobError(f"--staging_path must be an s3:// location to copy pinned versions to, got "
                           f"{self.staging_path!r}")
        bucket, _, prefix = rest.partition("/")
        staged_key = f"{prefix}{n}/{key.rsplit('/', 1)[-1] or 'object'}"
        self.used = True
        return bucket, staged_key, f"{scheme}://{bucket}/{staged_key}"

    def clean_up(self) -> None:
        """Deletes everything under the manifest's staging prefix (this run's copies and any an interrupted run
        left). Best effort: a failure is printed, never raised; the copies are not part of any output."""
        if not self.used:
            return
        try:
            client = self._s3()
            bucket, _, prefix = self.prefix_uri.partition("://")[2].partition("/")
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        except Exception as error:  # noqa: BLE001 - the run's outcome does not depend on it
            print(f"ndjson_to_parquet: staged copies under {self.prefix_uri} not removed: {one_line(str(error))}",
                  file=sys.stderr, flush=True)


def pin_version(s3: Any, f: ManifestFile, n: int, staging: StagingArea) -> ManifestFile | FailedFile:
    """The entry to read for a pinned version: the key itself when its current version is the pinned one, else a
    server-side copy of that version in `staging`; or why it cannot be read."""
    bucket, key = f.s3_location()  # type: ignore[misc]
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except Exception as error:
        if s3_failure_reason(error) is None:
            raise
        head = None  # deleted or hidden since: the pinned version may still be there
    if head is not None and head.get("VersionId") == f.version_id:
        return replace(f, size=f.size if f.size is not None else int(head.get("ContentLength") or 0))
    staged_bucket, staged_key, staged_uri = staging.target(n, key)
    try:
        s3.copy(CopySource={"Bucket": bucket, "Key": key, "VersionId": f.version_id}, Bucket=staged_bucket,
                Key=staged_key)
    except Exception as error:
        reason = s3_failure_reason(error)
        if reason is None:
            raise
        same = same_content_version(s3, bucket, key, f) if reason == MISSING else None
        if same is None:
            return FailedFile(f, reason, f"version {f.version_id}: {s3_message(error)}")
        # The pinned version is gone, but the producer uploaded the same bytes again (the same eTag): that version
        # is the same content, and its rows say which version they were read from.
        print(f"ndjson_to_parquet: {f.uri} version {f.version_id} is gone; reading version {same}, the same content",
              file=sys.stderr, flush=True)
        return pin_version(s3, replace(f, version_id=same), n, staging)
    return replace(f, read_uri=staged_uri)


def same_content_version(s3: Any, bucket: str, key: str, f: ManifestFile) -> str | None:
    """The newest other version of the key with the manifest's eTag (the same bytes uploaded again), if any."""
    if not f.etag:
        return None
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
            for version in page.get("Versions", []):
                if (version.get("Key") == key and version.get("VersionId") != f.version_id
                        and str(version.get("ETag", "")).strip('"') == f.etag):
                    return str(version["VersionId"])
    except Exception as error:
        if s3_failure_reason(error) is None:
            raise
    return None


def verify_pins(s3: Callable[[], Any], files: Sequence[ManifestFile]) -> None:
    """Fails the run (retryable) when a key read in place, because its current version was the pinned one, was
    overwritten before the read ended: the read may have seen the new bytes. The next run copies the pinned version."""
    def moved(f: ManifestFile) -> bool:
        bucket, key = f.s3_location()  # type: ignore[misc]
        try:
            return s3().head_object(Bucket=bucket, Key=key).get("VersionId") != f.version_id
        except Exception as error:
            if s3_failure_reason(error) is None:
                raise
            return True
    in_place = [f for f in files if f.version_id and f.read_uri is None and f.s3_location() is not None]
    with ThreadPoolExecutor(max_workers=CHECK_THREADS) as pool:
        overwritten = [f.uri for f, m in zip(in_place, pool.map(moved, in_place), strict=True) if m]
    if overwritten:
        raise JobError(f"{len(overwritten)} key(s) overwritten while being read, e.g. {overwritten[0]}: "
                       "run again to convert the pinned versions")
