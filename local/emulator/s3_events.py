"""S3 event notifications shaped as S3 sends them.

moto's records lack the `sequencer` (and `versionId`, the identity and request fields), and encode `/` in the
key as `%2F`. Real S3 URL-encodes the key as a form value (a space is `+`, other unsafe bytes `%XX` of their
UTF-8), keeps `/`, and gives every write of a key a `sequencer`: a hex string that grows with each write of
that key. The pipeline's handler decodes keys and names files by sequencer, so the emulator sends the same.
moto's `s3:TestEvent` message, posted when a notification is configured, is left as is.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any
from urllib.parse import quote_plus

from moto.core.utils import iso_8601_datetime_with_milliseconds
from moto.s3 import notifications

_PRINCIPAL_ID = "AWS:AIDAEMULATORLOCAL"


def encode_event_key(key: str) -> str:
    """The key as an S3 event record carries it: form-encoded UTF-8, `/` kept."""
    return quote_plus(key, safe="/")


class Sequencer:
    """Hands out increasing hex sequencers; time-based, so they also grow across emulator restarts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> str:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return f"{self._last:018X}"


_SEQUENCER = Sequencer()


def _sequencer_for(key: Any, removed: bool) -> str:
    # Each write makes a new key object in moto, and every notification of one write (several targets, a
    # retried delivery) must carry the same sequencer: keep it on the object.
    attribute = "_emulator_removed_sequencer" if removed else "_emulator_sequencer"
    value = getattr(key, attribute, None)
    if value is None:
        value = _SEQUENCER.next()
        setattr(key, attribute, value)
    return value


def s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, list[dict[str, Any]]]:
    """One S3 event notification (`Records` with one record) for a write or removal of `key`."""
    short_name = event_name[3:] if event_name.startswith("s3:") else event_name
    removed = short_name.startswith(("ObjectRemoved", "LifecycleExpiration"))
    obj: dict[str, Any] = {"key": encode_event_key(key.name)}
    if not removed:
        obj["size"] = key.size
        obj["eTag"] = key.etag.replace('"', "")
    version_id = getattr(key, "_version_id", None)
    if version_id and version_id != "null":
        obj["versionId"] = version_id
    obj["sequencer"] = _sequencer_for(key, removed)
    request_id = uuid.uuid4().hex[:16].upper()
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": bucket.region_name,
                "eventTime": iso_8601_datetime_with_milliseconds(),
                "eventName": short_name,
                "userIdentity": {"principalId": _PRINCIPAL_ID},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": uuid.uuid4().hex},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": notification_id,
                    "bucket": {
                        "name": bucket.name,
                        "ownerIdentity": {"principalId": _PRINCIPAL_ID.split(":", 1)[1]},
                        "arn": bucket.arn,
                    },
                    "object": obj,
                },
            }
        ]
    }


def install() -> None:
    """Makes moto's S3 notifications (to SQS, SNS and Lambda) use `s3_event`."""
    notifications._get_s3_event = s3_event  # type: ignore[assignment]
