"""The pipeline's own ASL (state-machines/convert-manifest.asl.json) runs on the emulator, both ways.

A Spark-free stand-in for the Glue job keeps the job's argument and result contract (docs/architecture.md), so
this checks the emulator against what the state machine really uses: DynamoDB conditions, intrinsic functions,
the context object, Glue .sync, getObject's Body, SNS to the outbox, Retry and Catch.
"""

import json
from email import message_from_bytes, policy

import pytest
from emulator_harness import FIXTURES, REGION, REPO_ROOT, emulator, unique, wait_for  # noqa: F401 - fixtures

ASL = REPO_ROOT / "state-machines" / "convert-manifest.asl.json"
ROLE = "arn:aws:iam::123456789012:role/states"


@pytest.fixture
def stack(emulator, unique):
    ddb, s3, sns, glue, sfn = (emulator.client(s) for s in ("dynamodb", "s3", "sns", "glue", "stepfunctions"))
    names = {"table": f"state-{unique}", "bucket": f"curated-{unique}", "job": f"convert-{unique}"}
    ddb.create_table(TableName=names["table"], BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}])
    s3.create_bucket(Bucket=names["bucket"])
    topic_arn = sns.create_topic(Name=f"alerts-{unique}")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=f"ops-{unique}@example.com")
    glue.create_job(Name=names["job"], Role=ROLE, ExecutionProperty={"MaxConcurrentRuns": 1},
                    Command={"Name": "glueetl", "ScriptLocation": str(FIXTURES / "contract_job.py")})
    definition = ASL.read_text()
    for placeholder, value in {"StateTableName": names["table"], "GlueJobName": names["job"], "GlueDatabaseName": "",
                               "AlertTopicArn": topic_arn, "CuratedBucketName": names["bucket"],
                               "TargetFileMb": "128", "Region": REGION}.items():
        definition = definition.replace("${%s}" % placeholder, value)
    arn = sfn.create_state_machine(name=f"convert-{unique}", roleArn=ROLE, definition=definition)["stateMachineArn"]

    def run(manifest_id: str) -> dict:
        ddb.put_item(TableName=names["table"], Item={"pk": {"S": f"MANIFEST#{manifest_id}"}, "sk": {"S": "META"},
                                                     "status": {"S": "SEALED"}})
        prefix = f"s3://{names['bucket']}/manifests/orders/{manifest_id}"
        execution_input = {"manifestId": manifest_id, "dataset": "orders", "manifestUri": f"{prefix}.json",
                           "resultUri": f"{prefix}.result.json", "ingestDate": "2026-11-23", "fileCount": 2,
                           "totalBytes": 2048}
        execution_arn = sfn.start_execution(stateMachineArn=arn, name=manifest_id,
                                            input=json.dumps(execution_input))["executionArn"]
        execution = wait_for(lambda: (d := sfn.describe_execution(executionArn=execution_arn))["status"] != "RUNNING"
                             and d, 150, what=f"execution {manifest_id}")
        record = ddb.get_item(TableName=names["table"], ConsistentRead=True,
                              Key={"pk": {"S": f"MANIFEST#{manifest_id}"}, "sk": {"S": "META"}})["Item"]
        history = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        return {"execution": execution, "record": {k: next(iter(v.values())) for k, v in record.items()},
                "history": history}

    return run, f"ops-{unique}@example.com"


@pytest.mark.skipif(not ASL.exists(), reason="the pipeline's ASL is not in this checkout")
def test_a_manifest_converts_and_its_counts_are_recorded(stack) -> None:
    run, _ = stack

    outcome = run("orders-20261123-000101")

    assert outcome["execution"]["status"] == "SUCCEEDED", outcome["execution"].get("cause")
    record = outcome["record"]
    assert record["status"] == "SUCCEEDED"
    assert (record["linesIn"], record["rowsOut"], record["rowsQuarantined"], record["blankLines"]) == ("10", "8", "1", "1")
    assert record["executionArn"] == outcome["execution"]["executionArn"]
    assert record["glueJobRunId"].startswith("jr_")


@pytest.mark.skipif(not ASL.exists(), reason="the pipeline's ASL is not in this checkout")
def test_a_failing_manifest_is_retried_recorded_and_alerted(stack, emulator) -> None:
    run, email = stack

    outcome = run("orders-20261123-fail02")

    assert outcome["execution"]["status"] == "FAILED"
    glue_runs = [e for e in outcome["history"] if e["type"] == "TaskSubmitted"
                 and e["taskSubmittedEventDetails"]["resourceType"] == "glue"]
    assert len(glue_runs) >= 2, "the failed run is retried before the Catch"
    record = outcome["record"]
    assert (record["status"], record["error"], record["failedState"]) == ("FAILED", "States.TaskFailed", "Convert")
    assert json.loads(record["cause"])["ErrorMessage"].startswith("ndjson_to_parquet failed: cannot read manifest")
    [alert] = [m for m in (message_from_bytes(p.read_bytes(), policy=policy.default)
                           for p in sorted((emulator.state_dir / "outbox").glob("*.eml"))) if m["To"] == email]
    body = alert.get_content()
    assert "orders-20261123-fail02" in alert["Subject"] and "orders-20261123-fail02" in body
    assert "cannot read manifest" in body
