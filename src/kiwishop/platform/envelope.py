"""The one record shape on every topic.

``{"eventId": 123, "type": "PAYMENT_CONFIRM", "occurredAt": "2026-11-25T02:40:58.123Z", "version": 1,
"payload": {...}}``; the Kafka key is the aggregate id (orderId, productNo, sellerNo), never a
computed partition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from kiwishop.platform import jsonutil
from kiwishop.platform.clock import utcnow_aware


class EnvelopeError(ValueError):
    """A record that is not a well-formed envelope (undecodable, missing fields, wrong types)."""


@dataclass(frozen=True)
class Envelope:
    event_id: int
    type: str
    payload: dict[str, Any]
    key: str
    occurred_at: dt.datetime = field(default_factory=utcnow_aware)
    version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "eventId": self.event_id,
            "type": self.type,
            "occurredAt": jsonutil.utc_iso(self.occurred_at),
            "version": self.version,
            "payload": self.payload,
        }

    def to_json(self) -> bytes:
        return jsonutil.dumps(self.to_dict())

    @classmethod
    def from_record(cls, key: bytes | None, value: bytes | None) -> Envelope:
        if value is None:
            raise EnvelopeError("record has no value")
        try:
            raw = jsonutil.loads(value)
        except (ValueError, UnicodeDecodeError) as exc:
            raise EnvelopeError(f"value is not JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise EnvelopeError("envelope must be a JSON object")
        event_id, event_type, payload = raw.get("eventId"), raw.get("type"), raw.get("payload")
        if isinstance(event_id, str) and event_id.isdigit():
            event_id = int(event_id)
        if not isinstance(event_id, int) or isinstance(event_id, bool):
            raise EnvelopeError("eventId must be an integer")
        if not isinstance(event_type, str) or not event_type:
            raise EnvelopeError("type must be a non-empty string")
        if not isinstance(payload, dict):
            raise EnvelopeError("payload must be an object")
        version = raw.get("version", 1)
        if not isinstance(version, int):
            raise EnvelopeError("version must be an integer")
        occurred = raw.get("occurredAt")
        try:
            occurred_at = dt.datetime.fromisoformat(occurred) if isinstance(occurred, str) else utcnow_aware()
        except ValueError as exc:
            raise EnvelopeError(f"occurredAt is not ISO-8601: {occurred!r}") from exc
        return cls(
            event_id=event_id,
            type=event_type,
            payload=payload,
            key=key.decode("utf-8", "replace") if key else "",
            occurred_at=occurred_at,
            version=version,
        )
