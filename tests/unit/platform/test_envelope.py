from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kiwishop.platform.envelope import Envelope, EnvelopeError


def test_envelope_round_trips_with_its_five_fields_and_exact_money() -> None:
    env = Envelope(
        event_id=136068476671279104,
        type="PAYMENT_CONFIRM",
        payload={"orderId": "o-1", "amount": Decimal("1000.10")},
        key="o-1",
        occurred_at=dt.datetime(2026, 11, 25, 2, 40, 58, 123000, tzinfo=dt.UTC),
    )
    raw = env.to_json()
    assert raw.decode() == (
        '{"eventId":136068476671279104,"type":"PAYMENT_CONFIRM","occurredAt":"2026-11-25T02:40:58.123Z",'
        '"version":1,"payload":{"orderId":"o-1","amount":1000.10}}'
    )
    back = Envelope.from_record(b"o-1", raw)
    assert back.event_id == env.event_id
    assert back.payload["amount"] == Decimal("1000.10")
    assert back.key == "o-1"
    assert back.occurred_at == env.occurred_at
    assert back.version == 1


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"not json",
        b"\xff\xfe",
        b"[1,2]",
        b'{"type":"X","payload":{}}',
        b'{"eventId":"abc","type":"X","payload":{}}',
        b'{"eventId":true,"type":"X","payload":{}}',
        b'{"eventId":1,"type":"","payload":{}}',
        b'{"eventId":1,"type":"X","payload":[]}',
        b'{"eventId":1,"type":"X","payload":{},"occurredAt":"yesterday"}',
        b'{"eventId":1,"type":"X","payload":{},"version":"one"}',
    ],
)
def test_malformed_records_are_rejected_as_envelope_errors(value: bytes | None) -> None:
    with pytest.raises(EnvelopeError):
        Envelope.from_record(b"k", value)
