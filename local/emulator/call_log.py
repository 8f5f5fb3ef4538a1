"""The AWS calls each pipeline component makes, as IAM authorizes them: one JSON line per distinct call.

The local mode gives each component an access key of its own (the manifest builder, the sweeper, the canary, the
state machine and the Glue job; the operator CLI and the tests keep the instance's key), so the emulator knows which
component signed a request (sigv4_auth.py). For each request of a component it writes to `<state-dir>/iam-calls.jsonl`
what IAM would evaluate for it: `{"component", "action", "resource", "context"?}` (the IAM action name, the ARN of
the resource the action is on, and the condition keys the pipeline's policies test), one line per distinct
call. A request IAM authorizes as several actions or on several resources (a copy reads one object and writes
another, a Glue catalog call is checked on the catalog, the database and the table, a DynamoDB transaction on
each item) gives one line for each. A request this module cannot tell the action or resource of is written with
`"unmapped"` saying why, so the check that reads the file (test/e2e/support/iam-check.ts) reports it instead of
passing over it.

Which actions and resources an API call needs follows AWS's documentation:
- S3: "Required permissions for Amazon S3 API operations",
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html (a versionId asks for
  the `...Version` action; HeadObject is authorized as GetObject; HeadBucket as ListBucket; multipart uploads as
  PutObject; DeleteObjects as DeleteObject on each key; a copy as GetObject on the source and PutObject on the
  target).
- DynamoDB: each action on the table or index ARN, with `dynamodb:LeadingKeys` the partition key values the request
  names ("Using IAM policy conditions for fine-grained access control",
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html); TransactWriteItems
  needs the action of each of its items ("Using IAM with DynamoDB transactions",
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
- Glue Data Catalog: a table call needs the catalog, the database and the table ("Specifying AWS Glue resource
  ARNs", https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html).
- SQS: a batch call needs its single action (DeleteMessageBatch is sqs:DeleteMessage), "Amazon SQS API permissions:
  Actions and resource reference",
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html.
What a service does on a component's behalf with its role and that the emulator never sees (Step Functions polling a
`.sync` Glue run beyond what moto does, SNS using the topic's KMS key, Lambda polling its queue) is added by the
check from the synthesized template, not here.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

LOG = logging.getLogger("emulator.calls")

CALLS_FILE = "iam-calls.jsonl"

Call = dict[str, Any]


class CallLog:
    """Appends each distinct call of a component to the calls file, once; thread-safe."""

    def __init__(self, path: Path, account_id: str) -> None:
        self.path = path
        self.account_id = account_id
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def record(self, component: str, environ: dict[str, Any], service: str, region: str, body: bytes) -> None:
        """Writes the calls `environ` (a request of `component`, signed for `service` in `region`) stands for."""
        try:
            calls = calls_of(environ, service, region, self.account_id, body)
        except Exception as error:  # noqa: BLE001 - an odd request must not fail the call; the check reports it
            LOG.warning("could not tell the IAM action of a %s request: %s", service, error)
            calls = [{"action": f"{service}:?", "unmapped": f"{type(error).__name__}: {error}"}]
        lines = []
        for call in calls:
            line = json.dumps({"component": component, **call}, sort_keys=True)
            if line not in self._seen:
                lines.append(line)
        if not lines:
            return
        with self._lock:
            fresh = [line for line in lines if line not in self._seen]
            self._seen.update(fresh)
            if fresh:
                with self.path.open("a", encoding="utf-8") as out:
                    out.write("".join(f"{line}\n" for line in fresh))


def calls_of(environ: dict[str, Any], service: str, region: str, account: str, body: bytes) -> list[Call]:
    """The IAM calls one request stands for (see the module's docstring)."""
    if service == "s3":
        return _s3_calls(environ, body)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        operation = target.rpartition(".")[2]
        params = json.loads(body or b"{}")
    else:  # query protocol: Action=... in the form body or the query string
        form = parse_qs(body.decode("utf-8") if body else environ.get("QUERY_STRING", ""), keep_blank_values=True)
        operation = form.get("Action", [""])[0]
        params = {name: values[0] for name, values in form.items()}
    if not operation:
        return [{"action": f"{service}:?", "unmapped": "no operation in the request"}]
    handler = _HANDLERS.get(service)
    if handler is None:
        return [{"action": f"{service}:{operation}", "unmapped": f"no mapping for {service} requests"}]
    return handler(operation, params, region, account)


# --- S3 ---------------------------------------------------------------------------------------------------------

# Subresources of an object request and the action each is authorized as (GET, PUT, DELETE).
_OBJECT_SUBRESOURCES = {
    "tagging": ("GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging"),
    "acl": ("GetObjectAcl", "PutObjectAcl", None),
    "retention": ("GetObjectRetention", "PutObjectRetention", None),
    "legal-hold": ("GetObjectLegalHold", "PutObjectLegalHold", None),
    "attributes": ("GetObjectAttributes", None, None),
}
_VERSIONED = {"GetObject", "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging", "GetObjectAcl",
              "PutObjectAcl", "GetObjectAttributes", "DeleteObject"}
# Bucket subresources read with GET and the action each is authorized as.
_BUCKET_GET = {
    "versions": "ListBucketVersions",
    "uploads": "ListBucketMultipartUploads",
    "location": "GetBucketLocation",
    "versioning": "GetBucketVersioning",
    "notification": "GetBucketNotification",
    "policy": "GetBucketPolicy",
    "acl": "GetBucketAcl",
    "tagging": "GetBucketTagging",
    "encryption": "GetEncryptionConfiguration",
    "lifecycle": "GetLifecycleConfiguration",
    "cors": "GetBucketCORS",
    "object-lock": "GetBucketObjectLockConfiguration",
    "ownershipControls": "GetBucketOwnershipControls",
    "publicAccessBlock": "GetBucketPublicAccessBlock",
}


def _wsgi_text(value: str) -> str:
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _s3_bucket_and_key(environ: dict[str, Any]) -> tuple[str, str]:
    """The bucket and key a request names: path-style (`/bucket/key`, the SDKs the local mode configures so), or
    virtual-hosted (`bucket.localhost`, botocore's default for a bucket whose name is a DNS label, as moto's Step
    Functions tasks send it)."""
    path = _wsgi_text(environ.get("PATH_INFO", "/")).lstrip("/")
    host = environ.get("HTTP_HOST", "").rpartition(":")[0] or environ.get("HTTP_HOST", "")
    if host.endswith(".localhost"):
        return host.removesuffix(".localhost"), path
    bucket, _, key = path.partition("/")
    return bucket, key


def _s3_calls(environ: dict[str, Any], body: bytes) -> list[Call]:
    bucket, key = _s3_bucket_and_key(environ)
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    method = environ.get("REQUEST_METHOD", "GET").upper()
    if not bucket:
        return [{"action": "s3:ListAllMyBuckets", "resource": "*"}]
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if not key:
        return _s3_bucket_calls(method, query, bucket, bucket_arn, body)
    arn = _object_arn(bucket, key)
    versioned = "versionId" in query
    action = _s3_object_action(method, query, environ)
    if action is None:
        return [{"action": f"s3:{method}", "resource": arn, "unmapped": f"S3 {method} of an object with "
                                                                        f"{sorted(query)}"}]
    if versioned and action in _VERSIONED:
        action = action.replace("Object", "ObjectVersion", 1)
    calls: list[Call] = [{"action": f"s3:{action}", "resource": arn}]
    if action in ("GetObjectAttributes", "GetObjectVersionAttributes"):
        # "you need both the s3:GetObjectVersion and s3:GetObjectVersionAttributes permissions" with a version id, else
        # "s3:GetObject and s3:GetObjectAttributes" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html).
        calls.append({"action": "s3:GetObjectVersion" if versioned else "s3:GetObject", "resource": arn})
    copy_source = environ.get("HTTP_X_AMZ_COPY_SOURCE")
    if copy_source and method == "PUT":
        source, _, source_query = unquote(copy_source).lstrip("/").partition("?")
        source_bucket, _, source_key = source.partition("/")
        read = "GetObjectVersion" if "versionId=" in source_query else "GetObject"
        calls.append({"action": f"s3:{read}", "resource": _object_arn(source_bucket, source_key)})
    if method == "PUT" and "partNumber" not in query:
        if environ.get("HTTP_X_AMZ_TAGGING"):
            calls.append({"action": "s3:PutObjectTagging", "resource": arn})
        if environ.get("HTTP_X_AMZ_ACL"):
            calls.append({"action": "s3:PutObjectAcl", "resource": arn})
    return calls


def _s3_object_action(method: str, query: dict[str, list[str]], environ: dict[str, Any]) -> str | None:
    for name, (get, put, delete) in _OBJECT_SUBRESOURCES.items():
        if name in query:
            return {"GET": get, "HEAD": get, "PUT": put, "DELETE": delete}.get(method)
    if method in ("GET", "HEAD"):
        return "ListMultipartUploadParts" if "uploadId" in query else "GetObject"
    if method == "PUT":
        return "PutObject"  # PutObject, CopyObject, UploadPart, UploadPartCopy
    if method == "POST":
        if "uploads" in query or "uploadId" in query:
            return "PutObject"  # CreateMultipartUpload, CompleteMultipartUpload
        if "restore" in query:
            return "RestoreObject"
        return None
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
    return None


def _s3_bucket_calls(method: str, query: dict[str, list[str]], bucket: str, bucket_arn: str, body: bytes) -> list[Call]:
    if method == "POST" and "delete" in query:
        calls: list[Call] = []
        for element in ET.fromstring(body).iter():
            if element.tag.rpartition("}")[2] != "Object":
                continue
            fields = {child.tag.rpartition("}")[2]: (child.text or "") for child in element}
            action = "s3:DeleteObjectVersion" if fields.get("VersionId") else "s3:DeleteObject"
            calls.append({"action": action, "resource": _object_arn(bucket, fields.get("Key", ""))})
        return calls
    if method == "HEAD":
        return [{"action": "s3:ListBucket", "resource": bucket_arn}]
    if method == "GET":
        subresource = next((name for name in _BUCKET_GET if name in query), None)
        action = _BUCKET_GET[subresource] if subresource else "ListBucket"
        call: Call = {"action": f"s3:{action}", "resource": bucket_arn}
        if action in ("ListBucket", "ListBucketVersions") and "prefix" in query:
            call["context"] = {"s3:prefix": query["prefix"][0]}
        return [call]
    return [{"action": f"s3:{method}", "resource": bucket_arn,
             "unmapped": f"S3 {method} of a bucket with {sorted(query)}"}]


# --- DynamoDB ---------------------------------------------------------------------------------------------------

_TRANSACT_ITEM_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                          "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def _dynamodb_table(region: str, account: str, name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415

    return dynamodb_backends[account][region].get_table(name)


def _scalar(value: dict[str, Any]) -> str:
    return str(next(iter(value.values())))


def _table_arn(region: str, account: str, name: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def _leading_key(region: str, account: str, table_name: str, item: dict[str, Any]) -> list[str]:
    hash_key = _dynamodb_table(region, account, table_name).hash_key_attr
    return [_scalar(item[hash_key])] if hash_key in item else []


def _query_leading_keys(params: dict[str, Any], table: Any) -> list[str]:
    """The partition key value(s) a Query's key condition names, on the table or the index it reads."""
    index_name = params.get("IndexName")
    hash_key = table.hash_key_attr
    if index_name:
        index = next(index for index in table.all_indexes() if index.name == index_name)
        hash_key = next(key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH")
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    found = []
    for name, placeholder in re.findall(r"([#\w.]+)\s*=\s*(:\w+)", params.get("KeyConditionExpression") or ""):
        if names.get(name, name) == hash_key and placeholder in values:
            found.append(_scalar(values[placeholder]))
    for name, condition in (params.get("KeyConditions") or {}).items():
        if name == hash_key:
            found.extend(_scalar(value) for value in condition.get("AttributeValueList", []))
    return found


def _dynamodb(operation: str, params: dict[str, Any], region: str, account: str) -> list[Call]:
    def call(action: str, table_name: str, leading: list[str] | None, index: str | None = None) -> Call:
        out: Call = {"action": f"dynamodb:{action}", "resource": _table_arn(region, account, table_name, index)}
        if leading is not None:
            out["context"] = {"dynamodb:LeadingKeys": leading}
        return out

    if operation == "TransactWriteItems" or operation == "TransactGetItems":
        calls = []
        for entry in params.get("TransactItems", []):
            for kind, request in entry.items():
                item = request.get("Key") or request.get("Item") or {}
                name = request["TableName"]
                calls.append(call(_TRANSACT_ITEM_ACTIONS[kind], name, _leading_key(region, account, name, item)))
        return calls
    if operation in ("BatchGetItem", "BatchWriteItem"):
        calls = []
        for name, requests in (params.get("RequestItems") or {}).items():
            items = requests.get("Keys", []) if operation == "BatchGetItem" else [
                next(iter(request.values())).get("Key") or next(iter(request.values())).get("Item") or {}
                for request in requests]
            leading = sorted({key for item in items for key in _leading_key(region, account, name, item)})
            calls.append(call(operation, name, leading))
        return calls
    name = params.get("TableName", "")
    if operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        item = params.get("Key") or params.get("Item") or {}
        return [call(operation, name, _leading_key(region, account, name, item))]
    if operation == "Query":
        table = _dynamodb_table(region, account, name)
        return [call(operation, name, _query_leading_keys(params, table), params.get("IndexName"))]
    if operation == "Scan":
        return [call(operation, name, None, params.get("IndexName"))]
    if name:
        return [call(operation, name, None)]
    return [{"action": f"dynamodb:{operation}", "unmapped": "no TableName"}]


# --- Step Functions, SNS, SQS, Glue -----------------------------------------------------------------------------

def _states(operation: str, params: dict[str, Any], region: str, account: str) -> list[Call]:
    resource = params.get("executionArn") or params.get("stateMachineArn")
    if not resource:
        return [{"action": f"states:{operation}", "unmapped": "no stateMachineArn nor executionArn"}]
    return [{"action": f"states:{operation}", "resource": resource}]


def _sns(operation: str, params: dict[str, Any], region: str, account: str) -> list[Call]:
    resource = params.get("TopicArn") or params.get("TargetArn")
    if not resource:
        return [{"action": f"sns:{operation}", "unmapped": "no TopicArn"}]
    return [{"action": f"sns:{operation}", "resource": resource}]


_SQS_BATCHES = {"DeleteMessageBatch": "DeleteMessage", "SendMessageBatch": "SendMessage",
                "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


def _sqs(operation: str, params: dict[str, Any], region: str, account: str) -> list[Call]:
    action = f"sqs:{_SQS_BATCHES.get(operation, operation)}"
    url = params.get("QueueUrl")
    if operation == "GetQueueUrl":
        owner = params.get("QueueOwnerAWSAccountId") or account
        return [{"action": action, "resource": f"arn:aws:sqs:{region}:{owner}:{params.get('QueueName', '')}"}]
    if not url:
        return [{"action": action, "unmapped": "no QueueUrl"}]
    owner, name = url.rstrip("/").split("/")[-2:]
    return [{"action": action, "resource": f"arn:aws:sqs:{region}:{owner}:{name}"}]


# Glue job operations (on the job) and catalog operations (on the catalog, the database and maybe a table).
_GLUE_JOB_OPERATIONS = {"StartJobRun", "GetJobRun", "GetJobRuns", "BatchStopJobRun", "GetJob", "UpdateJob",
                        "DeleteJob", "GetJobBookmark", "ResetJobBookmark"}
_GLUE_DATABASE_OPERATIONS = {"GetDatabase", "UpdateDatabase", "DeleteDatabase"}
_GLUE_TABLES_OPERATIONS = {"GetTables", "SearchTables"}


def _glue(operation: str, params: dict[str, Any], region: str, account: str) -> list[Call]:
    action = f"glue:{operation}"
    if operation in _GLUE_JOB_OPERATIONS:
        name = params.get("JobName")
        if not name:
            return [{"action": action, "unmapped": "no JobName"}]
        return [{"action": action, "resource": f"arn:aws:glue:{region}:{account}:job/{name}"}]
    catalog_id = params.get("CatalogId") or account
    catalog = f"arn:aws:glue:{region}:{catalog_id}:catalog"
    if operation == "GetDatabases":
        return [{"action": action, "resource": catalog},
                {"action": action, "resource": f"arn:aws:glue:{region}:{catalog_id}:database/*"}]
    if operation in _GLUE_DATABASE_OPERATIONS:
        database = params.get("Name", "")
        return [{"action": action, "resource": catalog},
                {"action": action, "resource": f"arn:aws:glue:{region}:{catalog_id}:database/{database}"}]
    database = params.get("DatabaseName")
    if not database:
        return [{"action": action, "unmapped": "no DatabaseName nor JobName"}]
    if operation in _GLUE_TABLES_OPERATIONS:
        table = "*"
    elif operation in ("CreateTable", "UpdateTable"):
        table = (params.get("TableInput") or {}).get("Name", "")
    else:  # GetTable, DeleteTable (Name); the partition calls (TableName)
        table = params.get("TableName") or params.get("Name") or ""
    return [{"action": action, "resource": resource} for resource in (
        catalog,
        f"arn:aws:glue:{region}:{catalog_id}:database/{database}",
        f"arn:aws:glue:{region}:{catalog_id}:table/{database}/{table}",
    )]


_HANDLERS = {"dynamodb": _dynamodb, "states": _states, "sns": _sns, "sqs": _sqs, "glue": _glue}
