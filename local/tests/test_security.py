"""The emulator runs no code for whoever reaches its port: SigV4 with the instance's own key, no CORS, and a Glue
runner that runs only the pipeline's script.

The emulator here is started as `npx pipeline local start` starts it, without the tests' allow-list of fixture jobs,
and without a key in its environment, so it generates one and writes it to `<state-dir>/credentials.json`.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import json
import os
import stat
import subprocess
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from werkzeug.test import EnvironBuilder

import sigv4_auth
from emulator_harness import FIXTURES, REPO_ROOT, Emulator, launch
from sigv4_auth import (
    EmulatorCredentials,
    SigV4Verifier,
    _PayloadCheck,
    _SignatureClaim,
    canonical_query,
    generate_credentials,
)

PIPELINE_SCRIPT = REPO_ROOT / "glue-scripts" / "ndjson_to_parquet.py"


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emulator = launch(tmp_path_factory.mktemp("locked"), allow_fixtures=False, key_in_environment=False)
    yield emulator
    emulator.stop()


def _send(method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=body or None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _signed(credentials: EmulatorCredentials, service: str, method: str, url: str, body: bytes = b"",
            headers: dict[str, str] | None = None) -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    SigV4Auth(Credentials(credentials.access_key_id, credentials.secret_access_key), service, "us-east-1") \
        .add_auth(request)
    return request


def test_a_generated_key_is_written_for_its_owner_only(locked) -> None:
    path = locked.state_dir / "credentials.json"

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"accessKeyId": locked.credentials.access_key_id,
                                            "secretAccessKey": locked.credentials.secret_access_key}
    assert locked.credentials.secret_access_key not in (locked.state_dir / "logs" / "emulator.log").read_text()


def test_requests_signed_with_the_instance_key_are_served(locked) -> None:
    s3 = locked.client("s3")
    s3.create_bucket(Bucket="signed-ok")

    assert "signed-ok" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert locked.client("dynamodb").list_tables()["TableNames"] == []


@pytest.mark.parametrize(("service", "operation", "code"), [
    ("s3", "list_buckets", "AccessDenied"),
    ("dynamodb", "list_tables", "MissingAuthenticationTokenException"),
    ("sqs", "list_queues", "MissingAuthenticationTokenException"),
    ("sns", "list_topics", "MissingAuthenticationToken"),
])
def test_unsigned_requests_are_refused_in_the_services_error_format(locked, service, operation, code) -> None:
    anonymous = boto3.client(service, endpoint_url=locked.endpoint, region_name="us-east-1",
                             config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))

    with pytest.raises(ClientError) as refused:
        getattr(anonymous, operation)()

    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert refused.value.response["Error"]["Code"] == code


def test_a_plain_http_request_and_moto_admin_api_are_refused(locked) -> None:
    status, _, body = _send("GET", f"{locked.endpoint}/")
    reset_status, _, _ = _send("POST", f"{locked.endpoint}/moto-api/reset")

    assert (status, reset_status) == (403, 403)
    assert b"<Code>AccessDenied</Code>" in body


@pytest.mark.parametrize(("service", "operation", "wrong_secret", "other_key"), [
    ("s3", "list_buckets", "SignatureDoesNotMatch", "InvalidAccessKeyId"),
    ("dynamodb", "list_tables", "InvalidSignatureException", "UnrecognizedClientException"),
    ("stepfunctions", "list_state_machines", "InvalidSignatureException", "UnrecognizedClientException"),
    ("sns", "list_topics", "SignatureDoesNotMatch", "InvalidClientTokenId"),
])
def test_a_wrong_secret_or_another_key_is_refused(locked, service, operation, wrong_secret, other_key) -> None:
    codes = []
    for credentials in (EmulatorCredentials(locked.credentials.access_key_id, "not-the-secret"),
                        generate_credentials()):
        with pytest.raises(ClientError) as refused:
            getattr(locked.client(service, credentials), operation)()
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        codes.append(refused.value.response["Error"]["Code"])

    assert codes == [wrong_secret, other_key]


def test_a_body_changed_after_signing_is_refused(locked) -> None:
    body = json.dumps({"TableName": "tampered", "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
                       "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                       "BillingMode": "PAY_PER_REQUEST"}).encode()
    headers = {"X-Amz-Target": "DynamoDB_20120810.CreateTable", "Content-Type": "application/x-amz-json-1.0"}
    request = _signed(locked.credentials, "dynamodb", "POST", f"{locked.endpoint}/", body, headers)
    assert "X-Amz-Content-SHA256" not in request.headers, "botocore signs DynamoDB bodies without it: hashed here"

    status, _, answer = _send("POST", str(request.url), body.replace(b"tampered", b"tampere2"), dict(request.headers))
    intact, _, _ = _send("POST", str(request.url), body, dict(request.headers))

    assert status == 403 and json.loads(answer)["__type"] == "InvalidSignatureException"
    assert intact == 200


def test_a_presigned_url_of_the_instance_key_works_until_it_expires(locked) -> None:
    s3 = locked.client("s3")
    s3.create_bucket(Bucket="presigned")
    s3.put_object(Bucket="presigned", Key="a b+c/é.txt", Body=b"content")
    signer = boto3.client(
        "s3", endpoint_url=locked.endpoint, region_name="us-east-1",
        aws_access_key_id=locked.credentials.access_key_id,
        aws_secret_access_key=locked.credentials.secret_access_key, config=Config(signature_version="s3v4"))
    url = signer.generate_presigned_url("get_object", Params={"Bucket": "presigned", "Key": "a b+c/é.txt"})

    assert _send("GET", url)[::2] == (200, b"content")
    assert _send("GET", url.replace("X-Amz-Signature=", "X-Amz-Signature=0"))[0] == 403
    # S3 accepts X-Amz-Expires from 1 s to 604800 s (7 days) and refuses a URL past its expiry.
    week = signer.generate_presigned_url("get_object", Params={"Bucket": "presigned", "Key": "a b+c/é.txt"},
                                         ExpiresIn=7 * 24 * 3600)
    past_a_week = signer.generate_presigned_url("get_object", Params={"Bucket": "presigned", "Key": "a b+c/é.txt"},
                                                ExpiresIn=7 * 24 * 3600 + 1)
    short = signer.generate_presigned_url("get_object", Params={"Bucket": "presigned", "Key": "a b+c/é.txt"},
                                          ExpiresIn=1)
    assert _send("GET", week)[::2] == (200, b"content")
    status, _, body = _send("GET", past_a_week)
    assert status == 400 and b"<Code>AuthorizationQueryParametersError</Code>" in body
    time.sleep(2.1)
    status, _, body = _send("GET", short)
    assert status == 403 and b"<Message>Request has expired</Message>" in body


def test_an_s3_body_that_differs_from_its_signed_sha256_is_refused_and_not_stored(locked) -> None:
    s3 = locked.client("s3")
    s3.create_bucket(Bucket="tamper")
    body = b'{"amount": 10}\n'
    url = f"{locked.endpoint}/tamper/orders.ndjson"
    request = _signed(locked.credentials, "s3", "PUT", url, body,
                      {"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest(),
                       "Content-Type": "application/x-ndjson"})

    status, _, answer = _send("PUT", url, b'{"amount": 99}\n', dict(request.headers))
    # S3 answers 400 XAmzContentSHA256Mismatch (Amazon S3 "Error responses"), not 403: the signature is right,
    # the body is not what it signed.
    assert (status, b"<Code>XAmzContentSHA256Mismatch</Code>" in answer) == (400, True)
    with pytest.raises(ClientError):
        s3.head_object(Bucket="tamper", Key="orders.ndjson")
    assert _send("PUT", url, body, dict(request.headers))[0] == 200
    assert s3.get_object(Bucket="tamper", Key="orders.ndjson")["Body"].read() == body


def test_the_sdks_upload_single_and_multipart_through_the_body_check(locked, tmp_path) -> None:
    """boto3 and the AWS CLI as the local mode's users run them (the JS SDK v3 runs in the Jest end-to-end tests,
    the S3A connector in the Glue runner's tests), with bodies big enough for multipart uploads."""
    s3 = locked.client("s3")
    s3.create_bucket(Bucket="clients")
    data = os.urandom(6 * 1024 * 1024) + b"tail"
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    s3.put_object(Bucket="clients", Key="single", Body=data[:1000])
    s3.upload_file(str(source), "clients", "boto3-multipart",
                   Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
    config = tmp_path / "aws-config"
    config.write_text("[default]\ns3 =\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n")
    environment = {**os.environ, "AWS_ACCESS_KEY_ID": locked.credentials.access_key_id,
                   "AWS_SECRET_ACCESS_KEY": locked.credentials.secret_access_key, "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_CONFIG_FILE": str(tmp_path / "none")}
    cli = [str(REPO_ROOT / ".venv" / "bin" / "aws"), "--endpoint-url", locked.endpoint, "s3", "cp", str(source)]
    for key, extra in (("cli-single", {}), ("cli-multipart", {"AWS_CONFIG_FILE": str(config)})):
        subprocess.run([*cli, f"s3://clients/{key}"], env={**environment, **extra}, check=True, capture_output=True,
                       timeout=120)

    assert s3.get_object(Bucket="clients", Key="single")["Body"].read() == data[:1000]
    for key in ("boto3-multipart", "cli-multipart", "cli-single"):
        assert s3.get_object(Bucket="clients", Key=key)["Body"].read() == data, key
    assert s3.head_object(Bucket="clients", Key="boto3-multipart")["ETag"].endswith('-2"')
    assert s3.head_object(Bucket="clients", Key="cli-multipart")["ETag"].endswith('-2"')
    assert not s3.head_object(Bucket="clients", Key="cli-single")["ETag"].endswith('-2"')


def test_no_cors_preflight_is_answered_and_no_response_allows_any_origin(locked) -> None:
    origin = {"Origin": "https://attacker.example"}
    preflight = _send("OPTIONS", f"{locked.endpoint}/", headers={
        **origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "authorization"})
    request = _signed(locked.credentials, "s3", "GET", f"{locked.endpoint}/", headers=origin)
    signed = _send("GET", str(request.url), headers=dict(request.headers))

    assert preflight[0] == 403
    assert signed[0] == 200, signed[2]
    for _, headers, _ in (preflight, signed):
        assert "access-control-allow-origin" not in {name.lower() for name in headers}


def test_a_job_of_another_script_is_refused_and_runs_nothing(locked, tmp_path) -> None:
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.py"
    evil.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    glue, s3 = locked.client("glue"), locked.client("s3")
    s3.create_bucket(Bucket="scripts")
    s3.put_object(Bucket="scripts", Key="evil.py", Body=evil.read_bytes())
    refusals = []
    for name, location, arguments in [
        ("local-path", str(evil), {}),
        ("file-uri", evil.as_uri(), {}),
        ("s3-object", "s3://scripts/evil.py", {}),
        ("fixture", str(FIXTURES / "plain_job.py"), {}),  # the tests' fixtures too: the tests allow them, not this
        ("pipeline-with-extra-py", str(PIPELINE_SCRIPT), {"--extra-py-files": str(evil)}),
    ]:
        glue.create_job(Name=name, Role="arn:aws:iam::123456789012:role/glue",
                        Command={"Name": "glueetl", "ScriptLocation": location})
        with pytest.raises(ClientError) as refused:
            glue.start_job_run(JobName=name, Arguments=arguments)
        refusals.append(refused.value.response["Error"])

    time.sleep(1)
    assert not marker.exists()
    assert {error["Code"] for error in refusals} == {"AccessDeniedException"}
    assert all(str(PIPELINE_SCRIPT) in error["Message"] for error in refusals)
    assert "is not the pipeline's" in refusals[0]["Message"] and "--extra-py-files" in refusals[-1]["Message"]
    assert glue.get_job_runs(JobName="local-path")["JobRuns"] == []


# --- the verifier in-process: what a live server cannot easily show ---------------------------------------------------

def _environ_of(request: AWSRequest, body: bytes | None = None) -> dict[str, Any]:
    url = str(request.url)
    path_and_query = url.split("://", 1)[1].partition("/")[2]
    path, _, query = path_and_query.partition("?")
    environ = EnvironBuilder(method=str(request.method), path="/" + path, query_string=query,
                             headers=list(request.headers.items()), data=request.body if body is None else body,
                             base_url="http://127.0.0.1:4566").get_environ()
    environ["RAW_URI"] = "/" + path_and_query
    return environ


def _verdict(verifier: SigV4Verifier, environ: dict[str, Any]) -> tuple[str, bytes]:
    seen: list[str] = []
    body = b"".join(verifier(environ, lambda status, headers: seen.append(status)))
    return seen[0], body


def test_a_request_dated_beyond_fifteen_minutes_is_refused() -> None:
    credentials = generate_credentials()
    served = lambda environ, start: start("200 OK", []) or [environ["wsgi.input"].read()]  # noqa: E731
    request = _signed(credentials, "sqs", "POST", "http://127.0.0.1:4566/", b"Action=ListQueues",
                      {"Content-Type": "application/x-www-form-urlencoded"})
    now = time.time()

    assert _verdict(SigV4Verifier(served, credentials, clock=lambda: now), _environ_of(request)) == \
        ("200 OK", b"Action=ListQueues"), "the body reaches moto intact"
    status, body = _verdict(SigV4Verifier(served, credentials, clock=lambda: now + 16 * 60), _environ_of(request))
    assert status.startswith("403") and b"<Code>RequestExpired</Code>" in body


def test_the_canonical_query_sorts_and_encodes_as_sigv4_does() -> None:
    assert canonical_query("prefix=a%2Fb&list-type=2&uploads&x=%7e%2B") == "list-type=2&prefix=a%2Fb&uploads=&x=~%2B"
    # The AWS SDK for Java (the S3A connector) sends a space in a query value as `+` and signs it as `%20`.
    assert canonical_query("prefix=late+batch%2Forders%2B1") == "prefix=late%20batch%2Forders%2B1"


# AWS's worked example of a chunk-signed upload ("Signature Calculations for the Authorization Header: Transferring
# Payload in Multiple Chunks", https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html): 66560 bytes
# of "a" in chunks of 64 KiB, 1 KiB and 0, with the documented seed and chunk signatures.
_DOC_CREDENTIALS = EmulatorCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
_DOC_TIME = calendar.timegm(time.strptime("20130524T000000Z", "%Y%m%dT%H%M%SZ"))
_DOC_SCOPE = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
_DOC_CHUNK_SIGNATURES = ("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                         "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                         "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9")


def _chunked(chunks: list[bytes], signatures: tuple[str, ...] | None, trailer: str = "") -> bytes:
    out = b""
    for index, data in enumerate([*chunks, b""]):
        extension = f";chunk-signature={signatures[index]}" if signatures else ""
        out += f"{len(data):x}{extension}\r\n".encode() + data + (b"\r\n" if data else b"")
    return out + trailer.encode() + b"\r\n"


def _doc_environ(body: bytes) -> dict[str, Any]:
    headers = {
        "x-amz-date": "20130524T000000Z", "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "66560",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={_DOC_SCOPE},SignedHeaders=content-encoding;content-length;"
                         "host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"
                         "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"}
    environ = EnvironBuilder(method="PUT", path="/examplebucket/chunkObject.txt", headers=list(headers.items()),
                             data=body,
                             base_url="http://s3.amazonaws.com").get_environ()
    environ["CONTENT_LENGTH"] = "66824"  # signed: the documented length, whatever the body a test sends
    environ["RAW_URI"] = "/examplebucket/chunkObject.txt"
    return environ


def test_a_chunk_signed_upload_passes_only_with_every_chunk_as_signed() -> None:
    served = lambda environ, start: start("200 OK", []) or [environ["wsgi.input"].read()]  # noqa: E731
    verifier = SigV4Verifier(served, _DOC_CREDENTIALS, clock=lambda: _DOC_TIME)
    documented = _chunked([b"a" * 65536, b"a" * 1024], _DOC_CHUNK_SIGNATURES)
    assert len(documented) == 66824

    assert _verdict(verifier, _doc_environ(documented)) == ("200 OK", documented), "moto decodes it, intact"
    changed = documented.replace(b"a\r\n400;", b"b\r\n400;")
    status, body = _verdict(verifier, _doc_environ(changed))
    assert status.startswith("403") and b"<Code>SignatureDoesNotMatch</Code>" in body
    swapped = _chunked([b"a" * 65536, b"a" * 1024], (_DOC_CHUNK_SIGNATURES[0], _DOC_CHUNK_SIGNATURES[0],
                                                      _DOC_CHUNK_SIGNATURES[2]))
    assert _verdict(verifier, _doc_environ(swapped))[0].startswith("403")
    truncated = documented[:65600]  # no final chunk: the upload was cut
    status, body = _verdict(verifier, _doc_environ(truncated))
    assert status.startswith("400") and b"<Code>IncompleteBody</Code>" in body
    # x-amz-decoded-content-length is signed: a client that declares one length and sends another is refused.
    seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    check = _PayloadCheck(_DOC_CREDENTIALS, _doc_claim(seed, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), "20130524",
                          "us-east-1", seed)
    check.check(_payload_environ(documented, x_amz_decoded_content_length="66560"))
    with pytest.raises(sigv4_auth.AuthError) as refused:
        check.check(_payload_environ(documented, x_amz_decoded_content_length="66000"))
    assert refused.value.kind == "incomplete-body"


def _doc_claim(seed: str, payload: str) -> _SignatureClaim:
    return _SignatureClaim(credential=_DOC_SCOPE, signed="host", signature=seed, amz_date="20130524T000000Z",
                           payload_hash=payload, query_exclude=(), expires=None)


def _payload_environ(body: bytes, **headers: str) -> dict[str, Any]:
    return EnvironBuilder(method="PUT", path="/b/k", data=body,
                          headers=[(name.replace("_", "-"), value) for name, value in headers.items()]).get_environ()


def test_a_chunk_signed_upload_with_a_trailer_checks_the_trailer_signature_and_its_checksum() -> None:
    # The documented example with a trailing CRC32C (.../sigv4-streaming-trailers.html): its seed, chunk and
    # trailer signatures; the CRC32C of 66560 "a" is sOO8/Q==.
    seed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
    signatures = ("b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
                  "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
                  "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992")
    trailer = ("x-amz-checksum-crc32c:sOO8/Q==\r\n"
               "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n")
    check = _PayloadCheck(_DOC_CREDENTIALS, _doc_claim(seed, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
                          "20130524", "us-east-1", seed)
    headers = {"x_amz_decoded_content_length": "66560", "x_amz_trailer": "x-amz-checksum-crc32c"}

    check.check(_payload_environ(_chunked([b"a" * 65536, b"a" * 1024], signatures, trailer), **headers))
    for forged in (trailer.replace("sOO8/Q==", "AAAAAA=="), trailer.replace("d81f82fc", "d81f82fd")):
        with pytest.raises(sigv4_auth.AuthError) as refused:
            check.check(_payload_environ(_chunked([b"a" * 65536, b"a" * 1024], signatures, forged), **headers))
        assert refused.value.kind == "bad-signature"


def test_an_unsigned_chunked_upload_is_held_to_its_decoded_length_and_trailing_checksum() -> None:
    """STREAMING-UNSIGNED-PAYLOAD-TRAILER: what the SDKs send over https (JS SDK v3 streams, boto3's streaming
    uploads); no chunk is signed, so the trailer's checksum is what covers the body."""
    data = b'{"id": 1}\n' * 5000
    crc32 = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    check = _PayloadCheck(_DOC_CREDENTIALS, _doc_claim("0" * 64, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"), "20130524",
                          "us-east-1", "0" * 64)
    headers = {"x_amz_decoded_content_length": str(len(data)), "x_amz_trailer": "x-amz-checksum-crc32"}
    chunks = [data[:30000], data[30000:]]

    check.check(_payload_environ(_chunked(chunks, None, f"x-amz-checksum-crc32:{crc32}\r\n"), **headers))
    refusals = []
    for body, length in [
        (_chunked([data[:30000], data[30001:] + b"x"], None, f"x-amz-checksum-crc32:{crc32}\r\n"), len(data)),
        (_chunked(chunks, None, f"x-amz-checksum-crc32:{crc32}\r\n"), len(data) + 1),
        (_chunked(chunks, None, ""), len(data)),
    ]:
        with pytest.raises(sigv4_auth.AuthError) as refused:
            check.check(_payload_environ(body, **{**headers, "x_amz_decoded_content_length": str(length)}))
        refusals.append(refused.value.kind)
    assert refusals == ["bad-digest", "incomplete-body", "incomplete-body"]


def test_sigv4a_and_unknown_payload_modes_are_refused() -> None:
    for mode in ("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "whatever"):
        check = _PayloadCheck(_DOC_CREDENTIALS, _doc_claim("0" * 64, mode), "20130524", "us-east-1", "0" * 64)
        with pytest.raises(sigv4_auth.AuthError):
            check.check(_payload_environ(b"body"))

