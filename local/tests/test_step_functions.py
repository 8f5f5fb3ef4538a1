"""A conversion-shaped state machine runs in the emulator: DynamoDB, Glue .sync, S3 getObject, SNS, Retry, Catch."""

import json
import re
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes, policy

import pytest
from botocore.exceptions import ClientError

from emulator_harness import FIXTURES, wait_for

ROLE = "arn:aws:iam::123456789012:role/states"


def _definition(table: str, job: str, bucket: str, topic_arn: str) -> dict:
    record_failure_values = {":s": {"S": "FAILED"}, ":e": {"S.$": "$.error.Error"}, ":c": {"S.$": "$.error.Cause"}}
    return {
        "Comment": "Shaped like the pipeline's conversion state machine",
        "TimeoutSeconds": 600,
        "StartAt": "MarkRunning",
        "States": {
            "MarkRunning": {
                "Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {"TableName": table, "Key": {"pk": {"S.$": "$.manifestId"}},
                               "UpdateExpression": "SET #s = :s, startedAt = :t",
                               "ExpressionAttributeNames": {"#s": "status"},
                               "ExpressionAttributeValues": {":s": {"S": "RUNNING"},
                                                             ":t": {"S.$": "$$.State.EnteredTime"}}},
                "ResultPath": None, "Next": "Convert",
            },
            "Convert": {
                "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
                "Parameters": {"JobName": job, "Arguments": {
                    "--fail_with.$": "$.failWith", "--sleep_seconds.$": "$.sleepSeconds",
                    "--rows_out.$": "States.Format('{}', $.rowsOut)",
                    "--result_uri.$": f"States.Format('s3://{bucket}/results/{{}}.json', $.manifestId)"}},
                "ResultSelector": {"jobRunId.$": "$.Id", "state.$": "$.JobRunState", "seconds.$": "$.ExecutionTime"},
                "ResultPath": "$.glue",
                "Retry": [
                    {"ErrorEquals": ["Glue.ConcurrentRunsExceededException"], "IntervalSeconds": 2, "MaxAttempts": 20,
                     "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"},
                    {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 5, "MaxAttempts": 1},
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}],
                "Next": "ReadResult",
            },
            "ReadResult": {
                "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket": bucket, "Key.$": "States.Format('results/{}.json', $.manifestId)"},
                "ResultSelector": {"counts.$": "States.StringToJson($.Body)"},
                "ResultPath": "$.result",
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}],
                "Next": "RecordSuccess",
            },
            "RecordSuccess": {
                "Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {"TableName": table, "Key": {"pk": {"S.$": "$.manifestId"}},
                               "UpdateExpression": "SET #s = :s, rowsOut = :r, note = :n",
                               "ExpressionAttributeNames": {"#s": "status"},
                               "ExpressionAttributeValues": {
                                   ":s": {"S": "SUCCEEDED"},
                                   ":r": {"N.$": "States.Format('{}', $.result.counts.rowsOut)"},
                                   ":n": {"S.$": "$.result.counts.note"}}},
                "ResultPath": None, "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
            "RecordFailure": {
                "Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {"TableName": table, "Key": {"pk": {"S.$": "$.manifestId"}},
                               "UpdateExpression": "SET #s = :s, #e = :e, #c = :c",
                               "ExpressionAttributeNames": {"#s": "status", "#e": "error", "#c": "cause"},
                               "ExpressionAttributeValues": record_failure_values},
                "ResultPath": None, "Next": "NotifyFailure",
            },
            "NotifyFailure": {
                "Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": topic_arn,
                               "Subject.$": "States.Format('Manifest {} failed', $.manifestId)",
                               "Message.$": "States.Format('Manifest {} failed: {}', $.manifestId, $.error.Error)"},
                "ResultPath": None, "Next": "Failed",
            },
            "Failed": {"Type": "Fail", "Error": "ConversionFailed", "Cause": "See the manifest record"},
        },
    }


@pytest.fixture
def pipeline(emulator, unique):
    """A table, bucket, email-subscribed topic, Glue job (MaxConcurrentRuns 1) and the state machine over them."""
    ddb, s3, sns, glue, sfn = (emulator.client(s) for s in ("dynamodb", "s3", "sns", "glue", "stepfunctions"))
    table, bucket, job = f"state-{unique}", f"curated-{unique}", f"convert-{unique}"
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    s3.create_bucket(Bucket=bucket)
    topic_arn = sns.create_topic(Name=f"alerts-{unique}")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=f"ops-{unique}@example.com")
    glue.create_job(Name=job, Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": str(FIXTURES / "plain_job.py")},
                    ExecutionProperty={"MaxConcurrentRuns": 1})
    arn = sfn.create_state_machine(name=f"convert-{unique}", roleArn=ROLE,
                                   definition=json.dumps(_definition(table, job, bucket, topic_arn)))["stateMachineArn"]

    class Pipeline:
        state_machine_arn, table_name, email = arn, table, f"ops-{unique}@example.com"

        @staticmethod
        def run(manifest_id: str, fail_with: str = "", rows_out: int = 3, sleep_seconds: str = "0") -> dict:
            execution_input = {"manifestId": manifest_id, "failWith": fail_with, "rowsOut": rows_out,
                               "sleepSeconds": sleep_seconds}
            execution_arn = sfn.start_execution(stateMachineArn=arn, name=manifest_id,
                                                input=json.dumps(execution_input))["executionArn"]
            return wait_for(lambda: (d := sfn.describe_execution(executionArn=execution_arn))["status"] != "RUNNING"
                            and d, 120, what=f"execution {manifest_id}")

        @staticmethod
        def history(execution_arn: str) -> list[dict]:
            return sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]

        @staticmethod
        def item(manifest_id: str) -> dict:
            return ddb.get_item(TableName=table, Key={"pk": {"S": manifest_id}}, ConsistentRead=True)["Item"]

    return Pipeline


def test_a_successful_run_waits_for_glue_and_reads_the_result_body_as_text(pipeline) -> None:
    execution = pipeline.run("orders-20261123-000001", rows_out=42)

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    output = json.loads(execution["output"])
    assert output["glue"]["state"] == "SUCCEEDED" and output["glue"]["jobRunId"].startswith("jr_")
    assert output["result"]["counts"]["rowsOut"] == 42
    item = pipeline.item("orders-20261123-000001")
    assert item["status"] == {"S": "SUCCEEDED"} and item["rowsOut"] == {"N": "42"} and item["note"] == {"S": "écrit"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", item["startedAt"]["S"]), item["startedAt"]
    read = [e for e in pipeline.history(execution["executionArn"]) if e["type"] == "TaskSucceeded"
            and e["taskSucceededEventDetails"]["resourceType"] == "aws-sdk:s3"]
    body = json.loads(read[0]["taskSucceededEventDetails"]["output"])["Body"]
    assert isinstance(body, str) and json.loads(body)["note"] == "écrit"


def test_a_failing_glue_run_is_retried_then_caught_recorded_and_emailed(pipeline, emulator) -> None:
    execution = pipeline.run("orders-20261123-000002", fail_with="manifest file is missing")

    assert (execution["status"], execution["error"]) == ("FAILED", "ConversionFailed")
    failures = [e["taskFailedEventDetails"] for e in pipeline.history(execution["executionArn"])
                if e["type"] == "TaskFailed" and e["taskFailedEventDetails"].get("resourceType") == "glue"]
    assert [f["error"] for f in failures] == ["States.TaskFailed", "States.TaskFailed"], "one Retry, then the Catch"
    job_run = json.loads(failures[-1]["cause"])
    assert job_run["JobRunState"] == "FAILED"
    assert job_run["ErrorMessage"] == "Command failed with exit code 1", "Glue's generic text, not the script's"
    assert isinstance(job_run["StartedOn"], int) and job_run["CompletedOn"] >= job_run["StartedOn"], "epoch ms"
    item = pipeline.item("orders-20261123-000002")
    assert item["status"] == {"S": "FAILED"} and item["error"] == {"S": "States.TaskFailed"}
    assert "Command failed with exit code 1" in item["cause"]["S"]
    emails = [message_from_bytes(p.read_bytes(), policy=policy.default)
              for p in sorted((emulator.state_dir / "outbox").glob("*.eml"))]
    mine = [m for m in emails if m["To"] == pipeline.email]
    assert len(mine) == 1
    assert mine[0]["Subject"] == "Manifest orders-20261123-000002 failed"
    assert mine[0].get_content().strip() == "Manifest orders-20261123-000002 failed: States.TaskFailed"


def test_runs_refused_for_concurrency_are_retried_until_they_start(pipeline) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        executions = list(pool.map(lambda i: pipeline.run(f"events-20261123-00001{i}", sleep_seconds="2"), range(2)))

    assert [e["status"] for e in executions] == ["SUCCEEDED", "SUCCEEDED"]
    refusals = [e for execution in executions for e in pipeline.history(execution["executionArn"])
                if e["type"] == "TaskFailed"
                and e["taskFailedEventDetails"]["error"] == "Glue.ConcurrentRunsExceededException"]
    assert refusals, "with MaxConcurrentRuns 1, one of two simultaneous runs is refused at least once"


def test_get_object_errors_are_named_as_step_functions_names_them(emulator, unique) -> None:
    s3, sfn = emulator.client("s3"), emulator.client("stepfunctions")
    s3.create_bucket(Bucket=f"results-{unique}")
    definition = {"StartAt": "Read", "States": {
        "Read": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                 "Parameters": {"Bucket": f"results-{unique}", "Key": "missing.json"},
                 "Catch": [{"ErrorEquals": ["S3.NoSuchKeyException"], "ResultPath": "$.error", "Next": "Missing"}],
                 "End": True},
        "Missing": {"Type": "Pass", "End": True}}}
    created = sfn.create_state_machine(name=f"read-{unique}", roleArn=ROLE, definition=json.dumps(definition))
    arn = created["stateMachineArn"]

    execution_arn = sfn.start_execution(stateMachineArn=arn, name="read-1", input="{}")["executionArn"]
    execution = wait_for(lambda: (d := sfn.describe_execution(executionArn=execution_arn))["status"] != "RUNNING" and d,
                         60, what="execution read-1")

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["error"]["Error"] == "S3.NoSuchKeyException"


def test_a_second_start_with_the_same_name_is_refused_once_the_first_ended(pipeline, emulator) -> None:
    sfn = emulator.client("stepfunctions")
    execution = pipeline.run("orders-20261123-000004")
    assert execution["status"] == "SUCCEEDED"

    with pytest.raises(ClientError) as refused:
        sfn.start_execution(stateMachineArn=pipeline.state_machine_arn, name="orders-20261123-000004", input="{}")

    assert refused.value.response["Error"]["Code"] == "ExecutionAlreadyExists"


def test_context_timestamps_are_in_the_services_format(emulator, unique) -> None:
    sfn = emulator.client("stepfunctions")
    definition = {"StartAt": "Stamp", "States": {"Stamp": {
        "Type": "Pass", "Parameters": {"started.$": "$$.Execution.StartTime", "entered.$": "$$.State.EnteredTime"},
        "End": True}}}
    created = sfn.create_state_machine(name=f"stamp-{unique}", roleArn=ROLE, definition=json.dumps(definition))
    arn = created["stateMachineArn"]

    execution_arn = sfn.start_execution(stateMachineArn=arn, name="stamp-1", input="{}")["executionArn"]
    execution = wait_for(lambda: (d := sfn.describe_execution(executionArn=execution_arn))["status"] != "RUNNING" and d,
                         60, what="execution stamp-1")

    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    for value in output.values():
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value), value
    assert output["started"] <= output["entered"]
