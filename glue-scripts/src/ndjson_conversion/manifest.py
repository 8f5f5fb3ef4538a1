"""The manifest: the objects it lists (`ManifestFile`), the files that are not converted (`FailedFile`), and keys
that are refused before anything reads them (docs/architecture.md, "Manifest file" and "Result file").
"""
from __future__ import annotations

import json
import posixpath
import urllib.parse
from dataclasses import dataclass
from typing import Any

from .errors import ManifestError
from .failures import one_line

S3_SCHEMES = ("s3", "s3a", "s3n")


@dataclass(frozen=True)
class ManifestFile:
    """One object listed by the manifest: size in bytes when the manifest gives it, the pinned S3 version, and
    where the job reads it from when that is not `uri` (a staged copy of the pinned version)."""

    uri: str
    size: int | None = None
    version_id: str | None = None
    bucket: str | None = None
    key: str | None = None
    read_uri: str | None = None
    #: The content's identity (the manifest's eTag): another version with it holds the same bytes.
    etag: str | None = None

    @property
    def source(self) -> str:
        """The path Spark reads."""
        return self.read_uri or self.uri

    def s3_location(self) -> tuple[str, str] | None:
        """(bucket, key) of an s3:// (s3a://, s3n://) entry, from the manifest's fields when given; else None."""
        scheme, sep, rest = self.uri.partition("://")
        if not sep or scheme.lower() not in S3_SCHEMES:
            return None
        bucket, _, key = rest.partition("/")
        return self.bucket or bucket, self.key or key


@dataclass(frozen=True)
class FailedFile:
    """A file of the manifest that was not converted, and why (result file, "failedFiles")."""

    file: ManifestFile
    reason: str  # failures.MISSING, ACCESS_DENIED, UNREADABLE, UNSAFE_KEY or TOO_LARGE
    message: str

    def as_result(self) -> dict[str, Any]:
        location = self.file.s3_location()
        key = location[1] if location else self.file.key or urllib.parse.urlparse(self.file.uri).path
        return {"uri": self.file.uri, "key": key, "versionId": self.file.version_id, "reason": self.reason,
                "message": one_line(self.message)}


def parse_manifest(text: str, manifest_id: str) -> list[ManifestFile]:
    """Parses the manifest file's JSON; returns its objects once each, in the manifest's order."""
    try:
        doc = json.loads(text)
    except ValueError as error:
        raise ManifestError(f"manifest {manifest_id} is not valid JSON: {error}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise ManifestError(f"manifest {manifest_id} has no files list")
    if doc.get("manifestId") not in (None, manifest_id):
        raise ManifestError(f"manifest file is for {doc.get('manifestId')}, not {manifest_id}")
    seen: dict[tuple[str, str | None], ManifestFile] = {}
    for entry in doc["files"]:
        uri = entry.get("uri") if isinstance(entry, dict) else None
        if not isinstance(uri, str) or not uri:
            raise ManifestError(f"manifest {manifest_id} lists a file without a uri")
        size = entry.get("size")
        version = entry.get("versionId")
        if version is not None and not isinstance(version, str):
            raise ManifestError(f"manifest {manifest_id} lists {uri} with a versionId that is not a string")
        fields: dict[str, str | None] = {name: value if isinstance(value := entry.get(name), str) and value else None
                                         for name in ("bucket", "key", "eTag")}
        # Two versions of one key are two objects; the same version listed twice is one.
        seen.setdefault((uri, version or None), ManifestFile(
            uri, int(size) if isinstance(size, (int, float)) else None, version or None, fields["bucket"],
            fields["key"],
            etag=(fields["eTag"] or "").strip('"') or None))
    return list(seen.values())


def hidden_name(name: str) -> bool:
    """Whether Spark's file listing skips an object of this file name without a word: a name beginning with `_` or
    `.` (Spark 3.5's HadoopFSUtils.shouldFilterOutPathName, applied by InMemoryFileIndex to every file it lists,
    an explicitly named one too; core/src/main/scala/org/apache/spark/util/HadoopFSUtils.scala). Spark lets a few
    such names through (`_a=1`, `_metadata...`); the rule here is the plain one the manifest builder refuses
    (handlers/domain/dataset.ts, `hidden-name`)."""
    return name.startswith(("_", "."))


def unsafe_key_reason(f: ManifestFile) -> str | None:
    """Why an entry cannot be read as named, or None: an s3:// key that Hadoop's Path would read as another object
    (it resolves `.` and `..` and folds `//`: the key could name another dataset's object) or that has a control
    character; a file name Spark's listing skips (`hidden_name`). Such an entry fails as a file, never read."""
    location = f.s3_location()
    name = (location[1] if location else f.uri).rsplit("/", 1)[-1]
    if hidden_name(name):
        return "the file name begins with '_' or '.', which Spark's file listing skips: it is not read"
    if location is None:
        return None
    key = location[1]
    segments = key.split("/")
    if any(segment in ("", ".", "..") for segment in segments) or posixpath.normpath(key) != key:
        return "the key has an empty, '.' or '..' path segment: its normalised path names another object"
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in key):
        return "the key has a control character"
    return None
