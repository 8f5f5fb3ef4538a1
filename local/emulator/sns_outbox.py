"""Email delivery of SNS topics into a local outbox folder.

moto accepts `email` and `email-json` subscriptions but delivers nothing to them. Here each message published
to a topic becomes one RFC 5322 `.eml` file per email subscription in the outbox, named so that a plain sort
lists them in publish order. Subscriptions need no confirmation locally.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from moto.sns import models as sns_models

LOG = logging.getLogger("emulator.outbox")

SENDER = "AWS Notifications <no-reply@sns.amazonaws.com>"
# SNS's subject when the publisher gives none.
DEFAULT_SUBJECT = "AWS Notification Message"
EMAIL_PROTOCOLS = ("email", "email-json")
# CRLF line ends as RFC 5322 wants; long ARNs in headers stay on one line rather than becoming encoded words.
_POLICY = SMTP.clone(max_line_length=998)


class Outbox:
    """Writes one `.eml` file per (message, email subscription) into a folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def write(self, *, subscription: Any, message: str, message_id: str, subject: str | None) -> Path:
        """Writes the email for one message to one subscription; the file appears complete or not at all."""
        now = datetime.now(UTC)
        with self._lock:
            sequence = next(self._counter)
        topic_name = subscription.topic_arn.rsplit(":", 1)[-1]
        if subscription.protocol == "email-json":
            body = json.dumps(subscription.get_post_data(message, message_id, subject), indent=2, ensure_ascii=False)
        else:
            body = message
        email = EmailMessage(policy=_POLICY)
        email["From"] = SENDER
        email["To"] = subscription.endpoint
        email["Subject"] = subject or DEFAULT_SUBJECT
        email["Date"] = format_datetime(now)
        email["Message-ID"] = f"<{message_id}@sns.local>"
        email["X-SNS-Topic-Arn"] = subscription.topic_arn
        email["X-SNS-Subscription-Arn"] = subscription.arn
        email["X-SNS-Message-Id"] = message_id
        try:
            # 8bit keeps the UTF-8 text readable in the file; lines past RFC 5322's limit need quoted-printable.
            email.set_content(body, charset="utf-8", cte="8bit")
        except ValueError:
            email.set_content(body, charset="utf-8", cte="quoted-printable")
        safe_topic = re.sub(r"[^A-Za-z0-9_.-]", "_", topic_name)
        name = f"{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{sequence:06d}-{safe_topic}.eml"
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / name
        partial = self.directory / f".{name}.part"
        partial.write_bytes(email.as_bytes())
        os.replace(partial, final)
        LOG.info("email for %s on topic %s written to %s", subscription.endpoint, topic_name, final.name)
        return final


def install(outbox: Outbox) -> None:
    """Makes SNS deliver messages for email subscriptions to `outbox`; other protocols keep moto's delivery."""
    original_publish = sns_models.Subscription.publish

    def publish(self: Any, message: str, message_id: str, subject: str | None = None,
                message_attributes: dict[str, Any] | None = None, group_id: str | None = None,
                deduplication_id: str | None = None, message_structure: str | None = None) -> None:
        if self.protocol not in EMAIL_PROTOCOLS:
            return original_publish(self, message, message_id, subject=subject,
                                    message_attributes=message_attributes, group_id=group_id,
                                    deduplication_id=deduplication_id, message_structure=message_structure)
        if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(
                message_attributes, message):
            return None
        if message_structure == "json":
            message = self._parse_message_structure(message, self.protocol)
        try:
            outbox.write(subscription=self, message=message, message_id=message_id, subject=subject)
        except OSError:
            # Delivery is asynchronous in SNS: a failed email never fails the Publish call.
            LOG.exception("email for topic %s could not be written to the outbox", self.topic_arn)
        return None

    sns_models.Subscription.publish = publish  # type: ignore[method-assign]
