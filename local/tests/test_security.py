"""The emulator runs no code for whoever reaches its port: SigV4 with the instance's own key, no CORS, and a Glue
runner that runs only the pipeline's script.

The emulator here is started as `npx pipeline local start` starts it, without the tests' allow-list of fixture jobs,
and without a key in its environment, so it generates one and writes it to `<state-dir>/credentials.json`.
"""

from __future__ import annotations

import json
import stat
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from werkzeug.test import EnvironBuilder

from emulator_harness import FIXTURES, REPO_ROOT, Emulator, launch
from sigv4_auth import EmulatorCredentials, SigV4Verifier, canonical_query, generate_credentials

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
