"""The pipeline's own ASL (state-machines/convert-manifest.asl.json) runs on the emulator, both ways.

A Spark-free stand-in for the Glue job keeps the job's argument, result and outcome contract (docs/architecture.md),
so this checks the emulator against what the state machine really uses: DynamoDB conditions, intrinsic functions,
the context object, Glue .sync, getObject's Body, SNS to the outbox, Retry and Catch. The local Glue runner reports
a failed run as Glue does ("Command failed with exit code 1"), so every decision here comes from the outcome
document.
"""

import json
from email import message_from_bytes, policy

import pytest

from emulator_harness import FIXTURES, REGION, REPO_ROOT, wait_for

ASL = REPO_ROOT / "state-machines" / "convert-manifest.asl.json"
ROLE = "arn:aws:iam::123456789012:role/states"


@pytest.fixture
def stack(emulator, unique):
    return make_stack(emulator, unique, None)


@pytest.fixture
def short_timeout_stack(emulator, unique):
    return make_stack(emulator, unique + "t", 5)


def make_stack(emulator, unique, timeout_seconds):
    ddb, s3, sns, glue, sfn = (emulator.client(s) for s in ("dynamodb", "s3", "sns", "glue", "stepfunctions"))
    names = {"table": f"state-{unique}", "bucket": f"curated-{unique}", "job": f"convert-{unique}"}
    ddb.create_table(TableName=names["table"], BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}])
    s3.create_bucket(Bucket=names["bucket"])
    topic_arn = sns.create_topic(Name=f"alerts-{unique}")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=f"ops-{unique}@example.com")
    # The arguments that are the same for every run are the job's defaults, as the stack and the local mode set
    # them; the state machine passes only the per-manifest ones.
    glue.create_job(Name=names["job"], Role=ROLE, ExecutionProperty={"MaxConcurrentRuns": 1},
                    Command={"Name": "glueetl", "ScriptLocation": str(FIXTURES / "contract_job.py")},
                    DefaultArguments={"--curated_path": f"s3://{names['bucket']}/curated/",
                                      "--quarantine_path": f"s3://{names['bucket']}/quarantine/"})
    definition = ASL.read_text()
    if timeout_seconds is not None:
        definition = json.dumps({**json.loads(definition), "TimeoutSeconds": timeout_seconds})
    for placeholder, value in {"StateTableName": names["table"], "GlueJobName": names["job"],
                               "AlertTopicArn": topic_arn, "CuratedBucketName": names["bucket"], "Region": REGION,
                               "AlertSubjectPrefix": "Ingest pipeline"}.items():
        definition = definition.replace(f"${{{placeholder}}}", value)
    assert "${" not in definition, "every placeholder of the ASL is filled"
    arn = sfn.create_state_machine(name=f"convert-{unique}", roleArn=ROLE, definition=definition)["stateMachineArn"]

    def run(manifest_id: str, record: dict | None = None, name: str | None = None) -> dict:
        ddb.put_item(TableName=names["table"], Item=record or {"pk": {"S": f"MANIFEST#{manifest_id}"},
                                                               "sk": {"S": "META"}, "status": {"S": "SEALED"}})
        prefix = f"s3://{names['bucket']}/manifests/orders/{manifest_id}"
        execution_input = {"manifestId": manifest_id, "dataset": "orders", "manifestUri": f"{prefix}.json",
                           "resultUri": f"{prefix}.result.json",
                           "resultKey": f"manifests/orders/{manifest_id}.result.json", "ingestDate": "2026-11-23",
                           "fileCount": 2, "totalBytes": 2048}
        execution_arn = sfn.start_execution(stateMachineArn=arn, name=name or manifest_id,
                                            input=json.dumps(execution_input))["executionArn"]
        execution = wait_for(lambda: (d := sfn.describe_execution(executionArn=execution_arn))["status"] != "RUNNING"
                             and d, 150, what=f"execution {manifest_id}")
        item = ddb.get_item(TableName=names["table"], ConsistentRead=True,
                            Key={"pk": {"S": f"MANIFEST#{manifest_id}"}, "sk": {"S": "META"}})["Item"]
        history = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        return {"execution": execution, "record": {k: next(iter(v.values())) for k, v in item.items()},
                "history": history}

    return run, f"ops-{unique}@example.com"


@pytest.mark.skipif(not ASL.exists(), reason="the pipeline's ASL is not in this checkout")
def test_a_manifest_converts_and_its_counts_are_recorded(stack) -> None:
    run, _ = stack

    outcome = run("orders-20261123-000101")

    assert outcome["execution"]["status"] == "SUCCEEDED", outcome["execution"].get("cause")
    record = outcome["record"]
    assert record["status"] == "SUCCEEDED"
    counts = (record["linesIn"], record["rowsOut"], record["rowsQuarantined"], record["blankLines"])
    assert counts == ("10", "8", "1", "1")
    assert record["executionArn"] == outcome["execution"]["executionArn"]
    assert record["glueJobRunId"].startswith("jr_")


@pytest.mark.skipif(not ASL.exists(), reason="the pipeline's ASL is not in this checkout")
def test_a_retryable_failure_is_run_again_whatever_its_text_says(stack, emulator) -> None:
    run, email = stack

    outcome = run("orders-20261123-fail02")

    assert outcome["execution"]["status"] == "FAILED"
    # The outcome says retryable; its message and its failed file's key hold "[NotRetryable]" and "NoSuchKey",
    # which decide nothing: the run is run twice more.
    assert len(_glue_runs(outcome["history"])) == 3
    record = outcome["record"]
    assert (record["status"], record["error"], record["failedState"]) == (
        "FAILED", "Pipeline.Job.transient_error", "Convert")
    assert record["cause"] == ("[NotRetryable] NoSuchKey: cannot read incoming/orders/[NotRetryable]NoSuchKey.ndjson: "
                               "connection reset")
    [alert] = _alerts(emulator, email)
    body = alert.get_content()
    assert alert["Subject"] == "Ingest pipeline: manifest failed" and "Manifest orders-20261123-fail02 " in body
    assert "Error: Pipeline.Job.transient_error" in body and "connection reset" in body
    assert "Command failed" not in body


@pytest.mark.skipif(not ASL.exists(), reason="the pipeline's ASL is not in this checkout")
def test_a_run_that_died_without_an_outcome_is_retried_and_alerted_with_glues_message(stack, emulator) -> None:
    run, email = stack

    outcome = run("orders-20261123-died11")

    record = outcome["record"]
    assert len(_glue_runs(outcome["history"])) == 3, "retryable up to the retry limit"
    assert (record["status"], record["error"], record["failedState"]) == ("FAILED", "States.TaskFailed", "Convert")
    [alert] = _alerts(emulator, email)
    assert "Cause: Command failed with exit code 137" in alert.get_content()


@pytest.mark.skipif(not ASL.exists(), reason="the pipeline's ASL is not in this checkout")
def test_an_outcome_document_of_an_earlier_run_is_not_this_runs_word(stack, emulator) -> None:
    run, email = stack

    outcome = run("orders-20261123-stale12")

    # The document says SUCCEEDED, for another run: each run here died without its own, so the manifest fails.
    record = outcome["record"]
    assert len(_glue_runs(outcome["history"])) == 3
    assert (record["status"], record["error"]) == ("FAILED", "States.TaskFailed")
    assert "linesIn" not in record
    assert len(_alerts(emulator, email)) == 1


@pytest.mark.skipif(not ASL.exists(), reason="the pipeline's ASL is not in this checkout")
def test_200_failed_files_with_1024_byte_keys_keep_the_state_small(stack, emulator) -> None:
    run, email = stack

    outcome = run("orders-20261123-bigfail13")

    record = outcome["record"]
    assert len(_glue_runs(outcome["history"])) == 1
    assert (record["status"], record["error"]) == ("FAILED", "Pipeline.Job.no_readable_file")
    # Every state's input and output in the history: far below Step Functions' 256 KB (the document lists 5 files).
    sizes = [len(json.dumps(details).encode()) for e in outcome["history"] for key, details in e.items()
             if key.endswith("EventDetails")]
    assert max(sizes) < 32 * 1024, max(sizes)
    [alert] = _alerts(emulator, email)
    assert len(alert.get_content().encode()) < 8 * 1024


def _glue_runs(history: list) -> list:
    return [e for e in history
            if e["type"] == "TaskSubmitted" and e["taskSubmittedEventDetails"]["resourceType"] == "glue"]


def _alerts(emulator, email: str) -> list:
    return [m for m in (message_from_bytes(p.read_bytes(), policy=policy.default)
                        for p in sorted((emulator.state_dir / "outbox").glob("*.eml"))) if m["To"] == email]


def test_a_failure_the_job_names_not_retryable_is_not_run_again(stack, emulator) -> None:
    run, email = stack

    outcome = run("orders-20261123-perm03")

    assert outcome["execution"]["status"] == "FAILED"
    assert len(_glue_runs(outcome["history"])) == 1
    assert (outcome["record"]["status"], outcome["record"]["error"]) == ("FAILED", "Pipeline.Job.no_readable_file")
    assert outcome["record"]["cause"] == "manifest orders-20261123-perm03: no file could be read"
    assert len([m for m in _alerts(emulator, email) if "Manifest orders-20261123-perm03 " in m.get_content()]) == 1
    # The outbox: the alert was written with the status, then cleared once SNS accepted it.
    assert outcome["record"]["alertSubject"] == "Ingest pipeline: manifest failed"
    assert "Manifest orders-20261123-perm03 " in outcome["record"]["alertMessage"]
    assert "alertPending" not in outcome["record"] and "alertSk" not in outcome["record"]
    assert outcome["record"]["alertSentAt"]


def test_the_execution_gives_back_its_capacity_slot_once_its_outcome_is_recorded(stack, emulator, unique) -> None:
    run, _ = stack
    ddb = emulator.client("dynamodb")
    key = {"pk": {"S": "SLOTS"}, "sk": {"S": "META"}}
    names = ["orders-20261123-000131", "orders-20261123-partial32", "orders-20261123-perm33", "orders-20261123-000034"]
    holder = {"M": {"manifestId": {"S": "m"}, "takenAt": {"S": "2026-11-23T00:00:00.000Z"}}}
    ddb.put_item(TableName=f"state-{unique}", Item={**key, "holders": {"M": dict.fromkeys(names, holder)}})

    def holders() -> set[str]:
        return set(ddb.get_item(TableName=f"state-{unique}", Key=key, ConsistentRead=True)["Item"]["holders"]["M"])

    # Each run gives back the slot held under its own name once its outcome is recorded, whatever the outcome.
    assert run(names[0])["execution"]["status"] == "SUCCEEDED"
    assert holders() == set(names[1:])
    assert run(names[1])["record"]["status"] == "PARTIAL"
    assert holders() == {names[2], names[3]}
    assert run(names[2])["record"]["status"] == "FAILED"
    assert holders() == {names[3]}
    # A run that holds no slot (none taken for it) changes nothing and still ends as its outcome says.
    outcome = run("orders-20261123-000135")
    assert outcome["execution"]["status"] == "SUCCEEDED"
    assert holders() == {names[3]}


def test_an_alert_sns_refuses_stays_pending_on_the_record_for_the_sweeper(stack, emulator, unique) -> None:
    run, email = stack
    # SNS refuses every publish: the topic is gone (NotFound), as in an outage that outlasts the retries.
    emulator.client("sns").delete_topic(TopicArn=f"arn:aws:sns:{REGION}:123456789012:alerts-{unique}")

    outcome = run("orders-20261123-perm09")

    record = outcome["record"]
    assert outcome["execution"]["status"] == "FAILED"
    assert record["status"] == "FAILED"
    # Published with retries, then left in the outbox: the alerts index holds it until the sweeper publishes it.
    publishes = [e for e in outcome["history"] if e["type"] == "TaskScheduled"
                 and e["taskScheduledEventDetails"]["resourceType"] == "sns"]
    assert len(publishes) == 7, "the first attempt and six retries"
    assert (record["alertPending"], record["alertSk"].split("#")[-1]) == ("PENDING", "orders-20261123-perm09")
    assert record["alertSubject"] == "Ingest pipeline: manifest failed"
    assert "Manifest orders-20261123-perm09 of dataset orders" in record["alertMessage"]
    assert "npx pipeline replay orders-20261123-perm09" in record["alertMessage"]
    assert not [m for m in _alerts(emulator, email) if "Manifest orders-20261123-perm09 " in m.get_content()]


def test_a_failure_record_that_cannot_be_written_sends_no_alert_and_is_left_to_the_sweeper(stack, emulator) -> None:
    run, email = stack
    manifest_id = "orders-20261123-perm10"
    # An item so close to DynamoDB's 400 KB that MarkRunning fits and RecordFailure, which adds the alert, does
    # not: a ValidationException, a write failure that is not a lost claim.
    big = {"pk": {"S": f"MANIFEST#{manifest_id}"}, "sk": {"S": "META"}, "status": {"S": "SEALED"},
           "filler": {"S": "x" * 403_900}}

    outcome = run(manifest_id, record=big)

    record = outcome["record"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in outcome["history"] if e["type"].endswith("StateEntered")]
    assert outcome["execution"]["status"] == "FAILED"
    assert "RecordFailure" in entered and "FailureNotRecorded" in entered and "NotifyFailure" not in entered
    # Still under this execution in the running index: the sweeper records it and sends the one alert. (moto
    # applies an update's SET actions before it finds the item too large, so `status` may read FAILED here;
    # DynamoDB applies none of a failed update, and the record stays RUNNING.)
    assert record["runningPk"] == "RUNNING"
    assert record["executionArn"] == outcome["execution"]["executionArn"]
    assert not [m for m in _alerts(emulator, email) if f"Manifest {manifest_id} " in m.get_content()]


def test_unreadable_files_end_the_manifest_partial_with_one_alert_naming_them(stack, emulator) -> None:
    run, email = stack

    outcome = run("orders-20261123-partial04")

    assert outcome["execution"]["status"] == "FAILED"
    assert outcome["execution"]["error"] == "Pipeline.ManifestPartial"
    record = outcome["record"]
    outcome = (record["status"], record["rowsOut"], record["filesRead"], record["filesFailed"])
    assert outcome == ("PARTIAL", "8", "1", "1")
    assert json.loads(record["failedFiles"])[0]["key"] == "incoming/orders/b.ndjson"
    assert "runningPk" not in record
    [alert] = [m for m in _alerts(emulator, email) if "Manifest orders-20261123-partial04 " in m.get_content()]
    assert "incoming/orders/b.ndjson" in alert.get_content() and "missing" in alert.get_content()


def test_an_outcome_document_without_its_counts_fails_the_manifest_through_its_catch_path(stack, emulator) -> None:
    run, email = stack

    outcome = run("orders-20261123-malformed05")

    record = outcome["record"]
    outcome = (record["status"], record["error"], record["failedState"])
    assert outcome == ("FAILED", "Pipeline.MalformedOutcome", "ReadOutcome")
    assert len([m for m in _alerts(emulator, email) if "Manifest orders-20261123-malformed05 " in m.get_content()]) == 1


def test_an_outcome_document_that_is_not_json_is_a_failure_of_read_outcome(stack) -> None:
    run, _ = stack

    outcome = run("orders-20261123-notjson06")

    # The emulator raises the failed States.StringToJson as a catchable error of ReadOutcome; the service may end
    # the execution with States.Runtime instead, which no Catch takes: then the record stays RUNNING in the
    # running index, and the sweeper records it (test/integration/exactly-once.test.ts). Either way, not lost.
    record = outcome["record"]
    assert outcome["execution"]["status"] == "FAILED"
    assert (record["status"], record["failedState"]) == ("FAILED", "ReadOutcome")
    assert "runningPk" not in record


def test_a_manifest_held_by_another_execution_is_not_claimed_nor_touched(stack) -> None:
    run, _ = stack
    manifest_id = "orders-20261123-000107"
    held = {"pk": {"S": f"MANIFEST#{manifest_id}"}, "sk": {"S": "META"}, "status": {"S": "RUNNING"},
            "executionArn": {"S": "arn:aws:states:us-east-1:123456789012:execution:convert:other"}}

    outcome = run(manifest_id, record=held, name=f"{manifest_id}-r1")

    assert outcome["execution"]["status"] == "FAILED"
    assert outcome["execution"]["error"] == "Pipeline.ManifestBusy"
    assert outcome["record"]["executionArn"].endswith(":other")
    assert len(_glue_runs(outcome["history"])) == 0


def test_an_execution_longer_than_its_timeout_times_out_with_the_record_left_to_the_sweeper(
        short_timeout_stack) -> None:
    run, _ = short_timeout_stack

    outcome = run("orders-20261123-slow08")

    assert outcome["execution"]["status"] == "TIMED_OUT"
    assert outcome["record"]["status"] == "RUNNING"
    assert outcome["record"]["runningPk"] == "RUNNING"
