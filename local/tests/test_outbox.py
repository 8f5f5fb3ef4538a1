"""Messages on a topic with email subscriptions become .eml files in the outbox."""

import json
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime

from emulator_harness import wait_for


def _emails_to(emulator, address: str) -> list:
    paths = sorted((emulator.state_dir / "outbox").glob("*.eml"))
    emails = [(path, message_from_bytes(path.read_bytes(), policy=policy.default)) for path in paths]
    return [(path, email) for path, email in emails if email["To"] == address]


def _text(email) -> str:
    """The body as text with the file's CRLF line ends back to LF."""
    return email.get_content().replace("\r\n", "\n")


def test_each_publish_becomes_one_email_per_email_subscription(emulator, unique) -> None:
    sns, sqs = emulator.client("sns"), emulator.client("sqs")
    topic_arn = sns.create_topic(Name=f"alerts-{unique}")["TopicArn"]
    plain, as_json = f"ops-{unique}@example.com", f"audit-{unique}@example.com"
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=plain)
    sns.subscribe(TopicArn=topic_arn, Protocol="email-json", Endpoint=as_json)
    queue_url = sqs.create_queue(QueueName=f"alerts-copy-{unique}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    long_line = "x" * 1500

    sns.publish(TopicArn=topic_arn, Subject="Manifest orders-1 failed", Message="Données: ligne 3 invalide\nfin")
    sns.publish(TopicArn=topic_arn, Message=f"second\n{long_line}")

    emails = _emails_to(emulator, plain)
    assert len(emails) == 2 and len(_emails_to(emulator, as_json)) == 2
    (first_path, first), (second_path, second) = emails
    assert first_path.name < second_path.name, "file names sort in publish order"
    assert first["From"] == "AWS Notifications <no-reply@sns.amazonaws.com>"
    assert first["Subject"] == "Manifest orders-1 failed"
    assert _text(first) == "Données: ligne 3 invalide\nfin\n"
    assert "Données" in first_path.read_text(encoding="utf-8"), "the body is readable UTF-8 text in the file"
    assert parsedate_to_datetime(first["Date"]).tzinfo is not None
    assert b"\r\n" in first_path.read_bytes(), "RFC 5322 line ends"
    assert second["Subject"] == "AWS Notification Message", "SNS's subject when the publisher gives none"
    assert _text(second).rstrip("\n") == f"second\n{long_line}"
    [(_, first_json)] = [(p, e) for p, e in _emails_to(emulator, as_json) if "Manifest orders-1" in e["Subject"]]
    notification = json.loads(_text(first_json))
    assert notification["Type"] == "Notification" and notification["Message"].startswith("Données")
    assert notification["TopicArn"] == topic_arn
    received = wait_for(lambda: sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"), 10,
                        what="the SQS copy")
    assert json.loads(received[0]["Body"])["Type"] == "Notification", "other protocols keep moto's delivery"
    assert not list((emulator.state_dir / "outbox").glob(".*.part")), "no partial file is left"


def test_a_topic_without_email_subscriptions_writes_nothing(emulator, unique) -> None:
    sns = emulator.client("sns")
    topic_arn = sns.create_topic(Name=f"quiet-{unique}")["TopicArn"]
    before = set((emulator.state_dir / "outbox").iterdir())

    sns.publish(TopicArn=topic_arn, Message="nobody listens")

    assert set((emulator.state_dir / "outbox").iterdir()) == before
