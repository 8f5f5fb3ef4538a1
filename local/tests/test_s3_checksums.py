"""Objects carry the checksums S3 gives them ("Checking object integrity in Amazon S3"): a CRC64NVME of the full
object when the upload brings none, the upload's own otherwise, checked against the bytes; `HeadObject` with
checksum mode returns it with its type. The same bytes uploaded in parts of another size keep their full-object
checksum while their eTag changes: what the manifest builder identifies content by.
"""

from __future__ import annotations

import os

import checksums
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

MB = 1024 * 1024


def _s3(emulator, calculation: str = "when_required"):
    """`when_required`: the client sends no checksum of its own (as older SDKs and the S3A connector)."""
    import boto3  # noqa: PLC0415

    return boto3.client("s3", endpoint_url=emulator.endpoint, region_name="us-east-1",
                        config=Config(request_checksum_calculation=calculation),
                        **emulator.credentials.as_boto3_kwargs())


def _multipart(s3, bucket: str, key: str, data: bytes, part_size: int, **create: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    parts = []
    for number, start in enumerate(range(0, len(data), part_size), start=1):
        extra = {"ChecksumAlgorithm": create["ChecksumAlgorithm"]} if "ChecksumAlgorithm" in create else {}
        part = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number,
                              Body=data[start:start + part_size], **extra)
        parts.append({"PartNumber": number, "ETag": part["ETag"],
                      **{name: value for name, value in part.items() if name.startswith("ChecksumCRC")}})
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})


def _head(s3, bucket: str, key: str) -> dict:
    return s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")


@pytest.fixture(scope="module")
def data() -> bytes:
    return os.urandom(7 * MB)


def test_uploads_without_a_checksum_get_the_full_object_crc64nvme_whatever_the_part_size(emulator, unique,
                                                                                         data) -> None:
    s3 = _s3(emulator)
    bucket = f"sums-{unique}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="single", Body=data)
    _multipart(s3, bucket, "parts-5mb", data, 5 * MB)
    _multipart(s3, bucket, "parts-6mb", data, 6 * MB)
    expected = checksums.checksum(data, "CRC64NVME")

    heads = {key: _head(s3, bucket, key) for key in ("single", "parts-5mb", "parts-6mb")}

    assert {key: (head.get("ChecksumCRC64NVME"), head.get("ChecksumType")) for key, head in heads.items()} == {
        key: (expected, "FULL_OBJECT") for key in heads}
    assert len({head["ETag"] for head in heads.values()}) == 3, "the eTags differ: they cannot identify content"
    assert "ChecksumCRC64NVME" not in s3.head_object(Bucket=bucket, Key="single"), "only with checksum mode"


def test_an_uploads_own_checksum_is_kept_and_checked(emulator, unique, data) -> None:
    s3 = _s3(emulator, "when_supported")  # boto3's default: a CRC32 of the body
    bucket = f"own-{unique}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="crc32", Body=data[:1000])
    s3.put_object(Bucket=bucket, Key="sha256", Body=data[:1000], ChecksumAlgorithm="SHA256")
    _multipart(s3, bucket, "composite", data, 5 * MB, ChecksumAlgorithm="CRC32")

    head = _head(s3, bucket, "crc32")
    assert (head.get("ChecksumCRC32"), head.get("ChecksumType")) == (checksums.checksum(data[:1000], "CRC32"),
                                                                     "FULL_OBJECT")
    assert _head(s3, bucket, "sha256").get("ChecksumSHA256") == checksums.checksum(data[:1000], "SHA256")
    composite = _head(s3, bucket, "composite")
    assert composite["ChecksumType"] == "COMPOSITE" and composite["ChecksumCRC32"].endswith("-2")
    with pytest.raises(ClientError) as refused:
        _s3(emulator).put_object(Bucket=bucket, Key="lied", Body=b"abc", ChecksumCRC32="AAAAAA==")
    assert (refused.value.response["Error"]["Code"], refused.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "BadDigest", 400)


def test_the_checksums_match_the_crc_catalogue_and_s3s_published_values() -> None:
    assert checksums.crc64nvme(b"123456789") == 0xAE8B14860A799888
    assert checksums.crc32c(b"123456789") == 0xE3069283
    assert checksums.checksum(b"a" * 66560, "CRC32C") == "sOO8/Q=="  # AWS's trailer example
    assert checksums.checksum(b"", "CRC64NVME") == "AAAAAAAAAAA="
