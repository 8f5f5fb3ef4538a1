"""S3 object checksums as S3 keeps them, so an object's full-object checksum identifies its bytes locally too.

S3 ("Checking object integrity in Amazon S3",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html):
- an upload that brings no checksum of its own gets a CRC64NVME checksum of the full object, for single-part and
  multipart uploads alike;
- a checksum a PutObject brings (header or aws-chunked trailer) is checked against the bytes (400 `BadDigest`)
  and kept; a single-part object's checksum is always of the full object (`ChecksumType` FULL_OBJECT);
- a multipart upload's checksum is of the full object for CRC64NVME, and for CRC32/CRC32C when the upload asked
  for `FULL_OBJECT`; otherwise (`COMPOSITE`) a checksum of the parts' checksums, `<value>-<parts>`;
- `HeadObject`/`GetObject` with `x-amz-checksum-mode: ENABLED` return `x-amz-checksum-<algorithm>` and
  `x-amz-checksum-type`.

moto 5.2.5 stores a checksum only when the client sends one, computes CRC64NVME and CRC32C only with optional
libraries (without them it writes a CRC32 under those names), leaves the algorithm of a default (CRC64NVME)
multipart checksum unset so that `HeadObject` returns none, returns no `x-amz-checksum-type` on `HeadObject`, and
never checks a client's checksum. This module fixes each, in-process, with `checksums.py`'s algorithms.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import checksums

DEFAULT_ALGORITHM = "CRC64NVME"


def compute_checksum(body: bytes, algorithm: str, encode_base64: bool = True) -> bytes:
    """moto's `compute_checksum`, with every algorithm S3 has (moto's own falls back to CRC32 for two of them)."""
    digest = checksums.digest(body, algorithm)
    return base64.b64encode(digest) if encode_base64 else digest


def install() -> None:
    """Patches moto's S3 as the module's docstring says; installing twice is harmless."""
    import moto.s3.models as s3_models  # noqa: PLC0415
    import moto.s3.responses as s3_responses  # noqa: PLC0415
    import moto.s3.utils as s3_utils  # noqa: PLC0415

    if getattr(s3_responses.S3Response.put_object, "_keeps_s3_checksums", False):
        return
    for module in (s3_utils, s3_models, s3_responses):
        module.compute_checksum = compute_checksum  # type: ignore[attr-defined]
    _patch_single_part_uploads(s3_responses.S3Response, s3_models.FakeKey)
    _patch_multipart_completion(s3_models.S3Backend)
    _patch_head_object(s3_responses.S3Response)


def _bad_digest(algorithm: str) -> Exception:
    from moto.s3.exceptions import S3ClientError  # noqa: PLC0415

    # Not in S3's API model: moto answers it with its default client error status, 400, as S3 does.
    return S3ClientError("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.")


def _patch_single_part_uploads(response_class: Any, key_class: Any) -> None:
    """PutObject: the client's checksum (checked), else a CRC64NVME; of the full object either way."""
    original_put_object = response_class.put_object
    original_get_checksum = response_class._get_checksum
    original_key_init = key_class.__init__

    def put_object(self: Any) -> Any:
        self._single_part_upload = True
        try:
            return original_put_object(self)
        finally:
            self._single_part_upload = False

    def get_checksum(self: Any, response_headers: dict[str, Any]) -> tuple[str, str | None]:
        algorithm, value = original_get_checksum(self, response_headers)
        if not getattr(self, "_single_part_upload", False):
            return algorithm, value
        body = self.body or b""
        if not algorithm:  # a checksum header without x-amz-sdk-checksum-algorithm counts as well
            algorithm, value = next(((name, self.headers[f"x-amz-checksum-{name.lower()}"])
                                     for name in checksums.ALGORITHMS
                                     if self.headers.get(f"x-amz-checksum-{name.lower()}")), ("", None))
            if value is not None:
                response_headers[f"x-amz-checksum-{algorithm.lower()}"] = value
        if not algorithm:
            algorithm = DEFAULT_ALGORITHM
            value = checksums.checksum(body, algorithm)
            response_headers[f"x-amz-checksum-{algorithm.lower()}"] = value
        elif value is not None and not _same(value, checksums.checksum(body, algorithm)):
            raise _bad_digest(algorithm)
        response_headers["x-amz-checksum-type"] = "FULL_OBJECT"
        return algorithm.upper(), value

    def key_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_key_init(self, *args, **kwargs)
        # A single-part object's checksum is always of the full object; a multipart one's is set on completion.
        if self.checksum_type is None:
            self.checksum_type = "FULL_OBJECT"

    put_object._keeps_s3_checksums = True  # type: ignore[attr-defined]
    response_class.put_object = put_object
    response_class._get_checksum = get_checksum
    key_class.__init__ = key_init


def _patch_multipart_completion(backend_class: Any) -> None:
    """moto's builder defaults a multipart checksum to CRC64NVME, then leaves the key without the algorithm's name."""
    original_complete = backend_class.complete_multipart_upload

    def complete_multipart_upload(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = original_complete(self, *args, **kwargs)
        if key is not None and key.checksum_value and not key.checksum_algorithm:
            key.checksum_algorithm = DEFAULT_ALGORITHM
        return key

    backend_class.complete_multipart_upload = complete_multipart_upload


def _patch_head_object(response_class: Any) -> None:
    """HeadObject with checksum mode: the checksum (`-<parts>` when composite) and `x-amz-checksum-type`."""
    original_head_object = response_class.head_object

    def head_object(self: Any, bucket_name: str, query: dict[str, Any], key_name: str,
                    headers: dict[str, Any]) -> Any:
        status, response_headers, body = original_head_object(self, bucket_name, query, key_name, headers)
        if status != 200 or headers.get("x-amz-checksum-mode") != "ENABLED" or query.get("partNumber"):
            return status, response_headers, body
        version_id = query.get("versionId", [None])[0]
        key = self.backend.head_object(bucket_name, key_name, version_id=version_id)
        if key is not None and key.checksum_algorithm and key.checksum_value:
            value = key.checksum_value
            if key.checksum_type == "COMPOSITE":
                value = f"{value}-{key.checksum_parts}"
            response_headers[f"x-amz-checksum-{key.checksum_algorithm.lower()}"] = value
            response_headers["x-amz-checksum-type"] = key.checksum_type
        return status, response_headers, body

    response_class.head_object = head_object


def _same(given: str, computed: str) -> bool:
    try:
        return base64.b64decode(given, validate=True) == base64.b64decode(computed)
    except (binascii.Error, ValueError):
        return False
