"""The PAYMENT_CONFIRM handler against an in-memory read model (``ports.ReadModelWriter``): what it stores,
under which event id, and what it parks."""

from __future__ import annotations

from typing import Any

import pytest

from kiwishop.order_query.domain import InvalidEvent
from kiwishop.order_query.handlers import ReadModelHandlers
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.envelope import Envelope
from tests.unit.order_query.fake_read_model import FakeReadModel
from tests.unit.order_query.test_read_model import confirm_payload


def confirm(event_id: int, **changes: Any) -> Envelope:
    payload = confirm_payload(**changes)
    return Envelope(event_id=event_id, type="PAYMENT_CONFIRM", payload=payload, key=payload["orderId"])


async def test_a_paid_confirm_is_stored_once_as_its_read_model() -> None:
    store = FakeReadModel()
    effects = ReadModelHandlers(store)
    assert await effects.apply_payment_confirm(confirm(1))
    assert not await effects.apply_payment_confirm(confirm(1))  # redelivered
    (model,) = store.models.values()
    assert "totalAmount" not in model
    assert model["paymentOrderList"][0]["productName"] == "상품A"


async def test_an_unpaid_or_malformed_confirm_is_parked_by_the_consumer_and_skipped_by_the_rebuild() -> None:
    store = FakeReadModel()
    effects = ReadModelHandlers(store)
    with pytest.raises(PermanentError):
        await effects.on_payment_confirm(confirm(2, paymentDone=False))
    with pytest.raises(InvalidEvent):
        await effects.apply_payment_confirm(confirm(3, paymentOrderList=[]))
    assert store.applied == set()
