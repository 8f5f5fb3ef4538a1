"""S3 notifications reach SQS as S3 sends them: URL-encoded keys and a sequencer per write."""

import json
from urllib.parse import unquote_plus

import pytest

from s3_events import Sequencer, encode_event_key


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("incoming/orders/a b.ndjson", "incoming/orders/a+b.ndjson"),
        ("incoming/orders/a+b.ndjson", "incoming/orders/a%2Bb.ndjson"),
        ("incoming/orders/100%.ndjson", "incoming/orders/100%25.ndjson"),
        ("incoming/orders/café €.ndjson", "incoming/orders/caf%C3%A9+%E2%82%AC.ndjson"),
        ("incoming/orders/x=1&y=2.ndjson", "incoming/orders/x%3D1%26y%3D2.ndjson"),
    ],
)
def test_event_key_is_form_encoded_with_slashes_kept(key: str, encoded: str) -> None:
    assert encode_event_key(key) == encoded
    assert unquote_plus(encoded) == key


def test_sequencers_are_hex_and_strictly_increasing() -> None:
    sequencer = Sequencer()
    values = [sequencer.next() for _ in range(1000)]
    assert all(int(value, 16) > 0 for value in values)
    assert values == sorted(values)
    assert len(set(values)) == len(values)


def _notified_records(emulator, unique: str, *, versioned: bool, writes: list[tuple[str, bytes]]) -> tuple[list, list]:
    s3, sqs = emulator.client("s3"), emulator.client("sqs")
    bucket = f"ingest-{unique}"
    s3.create_bucket(Bucket=bucket)
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    queue_url = sqs.create_queue(QueueName=f"ingest-{unique}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"],
             "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}}},
        ]},
    )
    for key, body in writes:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    bodies = []
    while True:
        received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages = received.get("Messages", [])
        if not messages:
            break
        bodies += [json.loads(message["Body"]) for message in messages]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    test_events = [body for body in bodies if body.get("Event") == "s3:TestEvent"]
    records = [record for body in bodies if "Records" in body for record in body["Records"]]
    return test_events, records


def test_notifications_carry_encoded_keys_and_sequencers(emulator, unique) -> None:
    keys = ["incoming/orders/a b.ndjson", "incoming/orders/a+b.ndjson", "incoming/orders/50%.ndjson",
            "incoming/orders/été/ü.ndjson"]
    writes = [(key, b'{"n": 1}\n') for key in keys] + [(keys[0], b'{"n": 1}\n{"n": 2}\n')]

    test_events, records = _notified_records(emulator, unique, versioned=False, writes=writes)

    assert len(test_events) == 1, "moto's s3:TestEvent is kept, once per configuration"
    encoded = sorted(record["s3"]["object"]["key"] for record in records)
    assert encoded == sorted([
        "incoming/orders/a+b.ndjson", "incoming/orders/a%2Bb.ndjson", "incoming/orders/50%25.ndjson",
        "incoming/orders/%C3%A9t%C3%A9/%C3%BC.ndjson", "incoming/orders/a+b.ndjson"])
    assert sorted(unquote_plus(key) for key in encoded) == sorted(key for key, _ in writes)
    for record in records:
        obj = record["s3"]["object"]
        assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
        assert record["s3"]["bucket"]["name"] == f"ingest-{unique}"
        int(obj["sequencer"], 16)
        assert len(obj["eTag"]) == 32 and "versionId" not in obj
    by_size = {r["s3"]["object"]["size"]: r["s3"]["object"]
               for r in records if r["s3"]["object"]["key"] == "incoming/orders/a+b.ndjson"}
    first, rewrite = by_size[9], by_size[18]
    assert rewrite["sequencer"] > first["sequencer"], "a later write of a key has a greater sequencer"
    assert rewrite["eTag"] != first["eTag"]
    assert len({record["s3"]["object"]["sequencer"] for record in records}) == len(records)


def test_notifications_of_a_versioned_bucket_carry_the_version_id(emulator, unique) -> None:
    s3 = emulator.client("s3")

    _, records = _notified_records(emulator, unique, versioned=True, writes=[("incoming/events/x y.json", b"{}\n")])

    [record] = records
    version = s3.head_object(Bucket=f"ingest-{unique}", Key="incoming/events/x y.json")["VersionId"]
    assert record["s3"]["object"]["versionId"] == version
    assert record["s3"]["object"]["key"] == "incoming/events/x+y.json"
