"""The call log: each request of a component, recorded as IAM authorizes it; in-process, no emulator started."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto import mock_aws
from werkzeug.test import EnvironBuilder

from call_log import CallLog, calls_of
from sigv4_auth import EmulatorCredentials, SigV4Verifier, component_keys_from_environment, generate_credentials

ACCOUNT = "123456789012"
REGION = "us-east-1"


def _environ(method: str, path: str, query: str = "", headers: dict[str, str] | None = None,
             body: bytes = b"") -> dict[str, Any]:
    environ = EnvironBuilder(method=method, path=path, query_string=query, headers=list((headers or {}).items()),
                             data=body, base_url="http://127.0.0.1:4566").get_environ()
    environ["RAW_URI"] = path + (f"?{query}" if query else "")
    return environ


def _s3(method: str, path: str, query: str = "", headers: dict[str, str] | None = None, body: bytes = b"") -> list:
    return calls_of(_environ(method, path, query, headers, body), "s3", REGION, ACCOUNT, body)


def _on_k(*actions: str) -> list[dict[str, str]]:
    return [{"action": f"s3:{action}", "resource": "arn:aws:s3:::bucket/k"} for action in actions]


def test_s3_object_reads_writes_and_deletes_are_the_actions_aws_documents() -> None:
    assert _s3("GET", "/bucket/incoming/a b.ndjson") == [
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::bucket/incoming/a b.ndjson"}]
    assert _s3("HEAD", "/bucket/k", "versionId=v1") == _on_k("GetObjectVersion")
    assert _s3("PUT", "/bucket/k") == _on_k("PutObject")
    assert _s3("POST", "/bucket/k", "uploads") == _on_k("PutObject")
    assert _s3("PUT", "/bucket/k", "partNumber=1&uploadId=u") == _on_k("PutObject")
    assert _s3("DELETE", "/bucket/k", "uploadId=u") == _on_k("AbortMultipartUpload")
    assert _s3("DELETE", "/bucket/k") == _on_k("DeleteObject")
    assert _s3("GET", "/bucket/k", "attributes&versionId=v") == _on_k("GetObjectVersionAttributes", "GetObjectVersion")
    assert _s3("GET", "/bucket/k", "attributes") == _on_k("GetObjectAttributes", "GetObject")


def test_a_virtual_hosted_request_names_its_bucket_by_its_host() -> None:
    environ = _environ("GET", "/manifests/orders/m.outcome.json", headers={"Host": "curated.localhost:4566"})
    assert calls_of(environ, "s3", REGION, ACCOUNT, b"") == [
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::curated/manifests/orders/m.outcome.json"}]


def test_a_copy_reads_its_source_and_writes_its_target() -> None:
    source = {"x-amz-copy-source": "/ingest/incoming/x.ndjson?versionId=v2"}
    assert _s3("PUT", "/curated/staging/x", headers=source) == [
        {"action": "s3:PutObject", "resource": "arn:aws:s3:::curated/staging/x"},
        {"action": "s3:GetObjectVersion", "resource": "arn:aws:s3:::ingest/incoming/x.ndjson"}]


def test_a_tagged_put_also_needs_the_tagging_action() -> None:
    assert _s3("PUT", "/bucket/k", headers={"x-amz-tagging": "a=b"}) == _on_k("PutObject", "PutObjectTagging")


def test_bucket_listings_carry_their_prefix_and_deletes_of_many_keys_name_each_key() -> None:
    assert _s3("GET", "/ingest", "list-type=2&prefix=incoming%2Forders%2F") == [
        {"action": "s3:ListBucket", "resource": "arn:aws:s3:::ingest", "context": {"s3:prefix": "incoming/orders/"}}]
    assert _s3("GET", "/ingest/", "versions&prefix=incoming/a") == [
        {"action": "s3:ListBucketVersions", "resource": "arn:aws:s3:::ingest", "context": {"s3:prefix": "incoming/a"}}]
    assert _s3("GET", "/curated", "location") == [
        {"action": "s3:GetBucketLocation", "resource": "arn:aws:s3:::curated"}]
    assert _s3("HEAD", "/curated") == [{"action": "s3:ListBucket", "resource": "arn:aws:s3:::curated"}]
    body = (b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>curated/a</Key></Object>'
            b"<Object><Key>curated/b</Key><VersionId>v</VersionId></Object></Delete>")
    assert _s3("POST", "/curated", "delete", body=body) == [
        {"action": "s3:DeleteObject", "resource": "arn:aws:s3:::curated/curated/a"},
        {"action": "s3:DeleteObjectVersion", "resource": "arn:aws:s3:::curated/curated/b"}]


def test_an_s3_request_of_no_known_action_is_written_as_unmapped() -> None:
    [call] = _s3("POST", "/bucket/k", "select&select-type=2")
    assert call["action"] == "s3:POST" and "unmapped" in call


def _json(service: str, target: str, params: dict[str, Any]) -> list:
    body = json.dumps(params).encode()
    environ = _environ("POST", "/", headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
                       body=body)
    return calls_of(environ, service, REGION, ACCOUNT, body)


@mock_aws
def test_dynamodb_calls_carry_the_partition_keys_they_touch() -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="state", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "status")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "pending", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                                               {"AttributeName": "sk", "KeyType": "RANGE"}]}])
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/state"

    assert _json("dynamodb", "DynamoDB_20120810.UpdateItem", {
        "TableName": "state", "Key": {"pk": {"S": "MANIFEST#m"}, "sk": {"S": "META"}}}) == [
        {"action": "dynamodb:UpdateItem", "resource": table, "context": {"dynamodb:LeadingKeys": ["MANIFEST#m"]}}]
    assert _json("dynamodb", "DynamoDB_20120810.Query", {
        "TableName": "state", "IndexName": "pending", "KeyConditionExpression": "#s = :s AND sk > :t",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": {"S": "PENDING"}, ":t": {"S": "0"}}}) == [
        {"action": "dynamodb:Query", "resource": f"{table}/index/pending",
         "context": {"dynamodb:LeadingKeys": ["PENDING"]}}]
    assert _json("dynamodb", "DynamoDB_20120810.TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "state", "Item": {"pk": {"S": "FILE#a"}, "sk": {"S": "x"}}}},
        {"ConditionCheck": {"TableName": "state", "Key": {"pk": {"S": "OPEN#d"}, "sk": {"S": "x"}},
                            "ConditionExpression": "attribute_exists(pk)"}}]}) == [
        {"action": "dynamodb:PutItem", "resource": table, "context": {"dynamodb:LeadingKeys": ["FILE#a"]}},
        {"action": "dynamodb:ConditionCheckItem", "resource": table, "context": {"dynamodb:LeadingKeys": ["OPEN#d"]}}]


def test_step_functions_glue_sqs_and_sns_calls_name_their_resources() -> None:
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:convert"
    assert _json("states", "AWSStepFunctions.StartExecution", {"stateMachineArn": machine, "name": "m"}) == [
        {"action": "states:StartExecution", "resource": machine}]
    assert _json("glue", "AWSGlue.GetJobRun", {"JobName": "job", "RunId": "jr_1"}) == [
        {"action": "glue:GetJobRun", "resource": f"arn:aws:glue:{REGION}:{ACCOUNT}:job/job"}]
    assert _json("glue", "AWSGlue.UpdateTable", {"DatabaseName": "db", "TableInput": {"Name": "orders"}}) == [
        {"action": "glue:UpdateTable", "resource": f"arn:aws:glue:{REGION}:{ACCOUNT}:{resource}"}
        for resource in ("catalog", "database/db", "table/db/orders")]
    assert _json("sqs", "AmazonSQS.DeleteMessageBatch", {
        "QueueUrl": f"http://127.0.0.1:4566/{ACCOUNT}/ingest", "Entries": []}) == [
        {"action": "sqs:DeleteMessage", "resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:ingest"}]
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
    body = f"Action=Publish&TopicArn={topic}&Message=hi".encode()
    environ = _environ("POST", "/", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body)
    assert calls_of(environ, "sns", REGION, ACCOUNT, body) == [{"action": "sns:Publish", "resource": topic}]


def test_the_log_holds_each_distinct_call_once(tmp_path: Path) -> None:
    log = CallLog(tmp_path / "calls.jsonl", ACCOUNT)
    for _ in range(3):
        log.record("glue-job", _environ("GET", "/bucket/k"), "s3", REGION, b"")
    log.record("sweeper", _environ("GET", "/bucket/k"), "s3", REGION, b"")

    lines = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert lines == [{"component": "glue-job", "action": "s3:GetObject", "resource": "arn:aws:s3:::bucket/k"},
                     {"component": "sweeper", "action": "s3:GetObject", "resource": "arn:aws:s3:::bucket/k"}]


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def record(self, component: str, environ: dict[str, Any], service: str, region: str, body: bytes) -> None:
        self.calls.append((component, service, body.decode()))


def _signed_environ(credentials: EmulatorCredentials) -> dict[str, Any]:
    request = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=b"Action=ListQueues",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(credentials.access_key_id, credentials.secret_access_key), "sqs", REGION).add_auth(request)
    environ = _environ("POST", "/", headers=dict(request.headers.items()), body=b"Action=ListQueues")
    return environ


def test_a_components_key_is_served_and_recorded_as_its_the_instance_key_is_served_unrecorded() -> None:
    instance, builder, stranger = generate_credentials(), generate_credentials(), generate_credentials()
    recorder = _Recorder()
    served = lambda environ, start: start("200 OK", []) or [environ["wsgi.input"].read()]  # noqa: E731
    verifier = SigV4Verifier(served, instance, clock=time.time, components={"manifest-builder": builder},
                             call_log=recorder)

    def status(credentials: EmulatorCredentials) -> tuple[str, bytes]:
        seen: list[str] = []
        body = b"".join(verifier(_signed_environ(credentials), lambda s, headers: seen.append(s)))
        return seen[0], body

    assert status(builder) == ("200 OK", b"Action=ListQueues"), "the body still reaches moto"
    assert status(instance)[0] == "200 OK"
    assert status(stranger)[0].startswith("403")
    assert recorder.calls == [("manifest-builder", "sqs", "Action=ListQueues")]


def test_component_keys_come_from_the_environment_complete_or_not_at_all() -> None:
    pair = {"accessKeyId": "LKIAAAAAAAAAAAAAAAAA", "secretAccessKey": "s"}
    assert component_keys_from_environment({"EMULATOR_COMPONENT_KEYS": json.dumps({"sweeper": pair})}) == {
        "sweeper": EmulatorCredentials("LKIAAAAAAAAAAAAAAAAA", "s")}
    assert component_keys_from_environment({}) == {}
    try:
        component_keys_from_environment({"EMULATOR_COMPONENT_KEYS": json.dumps({"sweeper": {"accessKeyId": "x"}})})
    except ValueError as error:
        assert "sweeper" in str(error)
    else:
        raise AssertionError("a key without its secret was accepted")
