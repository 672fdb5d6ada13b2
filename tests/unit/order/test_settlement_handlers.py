"""Settlement that heals itself, against fakes of its ports: the re-publish pass and wallet's result."""

from __future__ import annotations

import datetime as dt

import pytest

from kiwishop.contracts.events import PAYMENT_CONFIRM
from kiwishop.order.domain import Payment, PaymentStatus, payment_confirmed
from kiwishop.order.handlers.settlement import RepublishUnsettled
from kiwishop.order.handlers.wallet_result import record_wallet_settled
from kiwishop.order.ports import SettlementCheck
from kiwishop.platform.clock import utcnow
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.envelope import Envelope
from tests.unit.order.fakes import FakeCounters, FakePaymentStore, an_order

GRACE_S, MAX_S = 30.0, 600.0


def paid(order_id: str = "order-1", *, wallet_done: bool = False) -> Payment:
    return an_order(
        order_id, status=PaymentStatus.SUCCESS, payment_key="pk_1", approved_at=utcnow(), is_payment_done=True,
        is_wallet_done=wallet_done, confirm_event_id=4242,
    )  # fmt: skip


def watching(*orders: Payment, due_in_s: float = -1, republished: int = 0) -> FakePaymentStore:
    store = FakePaymentStore(*orders)
    for order in orders:
        store.rows.checks[order.order_id] = SettlementCheck(utcnow() + dt.timedelta(seconds=due_in_s), republished)
    return store


def republishing(store: FakePaymentStore, counters: FakeCounters | None = None) -> RepublishUnsettled:
    return RepublishUnsettled(store, grace_s=GRACE_S, republish_max_s=MAX_S, batch_size=100, counters=counters)


async def test_a_paid_order_wallet_has_not_settled_gets_its_payment_confirm_made_due_again() -> None:
    order = paid()
    store, counters = watching(order), FakeCounters()
    store.rows.events.append(payment_confirmed(order))  # the row the confirm wrote
    before = utcnow()
    assert await republishing(store, counters).check_once() == 1
    assert store.rows.requeued == ["PAYMENT_CONFIRM:order-1"]
    assert len(store.rows.events) == 1
    check = store.rows.checks["order-1"]
    assert check.republished == 1
    assert check.check_at is not None
    assert check.check_at >= before + dt.timedelta(seconds=2 * GRACE_S)
    assert counters.republished == 1


async def test_when_retention_removed_the_row_the_same_event_is_written_again() -> None:
    store = watching(paid())
    assert await republishing(store).republish("order-1") == 1
    [event] = store.rows.events
    assert (event.type, event.event_id, event.idempotency_key) == (
        PAYMENT_CONFIRM.name,
        4242,
        "PAYMENT_CONFIRM:order-1",
    )
    assert event.payload == payment_confirmed(store.stored("order-1")).payload


async def test_the_next_check_backs_off_up_to_the_cap() -> None:
    store = watching(paid(), republished=9)
    before = utcnow()
    await republishing(store).republish("order-1")
    check_at = store.rows.checks["order-1"].check_at
    assert check_at is not None
    assert before + dt.timedelta(seconds=MAX_S) <= check_at <= utcnow() + dt.timedelta(seconds=MAX_S)


async def test_a_settled_order_ends_its_checks_and_is_never_published_again() -> None:
    store = watching(paid(wallet_done=True))
    assert await republishing(store).check_once() == 0
    assert store.rows.checks["order-1"].check_at is None
    assert store.rows.events == []


async def test_a_check_that_is_not_due_does_nothing() -> None:
    store = watching(paid(), due_in_s=60)
    assert await republishing(store).republish("order-1") == 0
    assert store.rows.checks["order-1"].republished == 0
    assert store.rows.events == []


def settled(payload: dict[str, object]) -> Envelope:
    return Envelope(event_id=1, type="WALLET_SETTLED", payload=payload, key="order-1")


async def test_wallet_settled_marks_the_paid_order_settled_and_ends_its_checks() -> None:
    store = watching(paid())
    async with store.transaction() as tx:
        await record_wallet_settled(tx, settled({"orderId": "order-1"}))
        await tx.commit()
    assert store.stored("order-1").is_wallet_done is True
    assert store.rows.checks["order-1"].check_at is None


@pytest.mark.parametrize(
    "payload", [{}, {"orderId": ""}, {"orderId": 7}, {"orderId": "order-9"}, {"orderId": "order-1"}]
)
async def test_a_wallet_result_that_names_no_paid_order_here_is_permanent(payload: dict[str, object]) -> None:
    store = FakePaymentStore(an_order())  # order-1 exists but is not paid
    async with store.transaction() as tx:
        with pytest.raises(PermanentError):
            await record_wallet_settled(tx, settled(payload))
    assert store.stored("order-1").is_wallet_done is False
