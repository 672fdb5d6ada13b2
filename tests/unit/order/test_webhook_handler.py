"""A Toss webhook against fakes: the payment is read again at the PSP, and the order moves only forward on that
word — an approval the shop never confirmed becomes SUCCESS through RecordVerdict, a cancel made outside the shop
becomes a DONE cancel of the lines it took, with PAYMENT_CANCELED; anything else changes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kiwishop.contracts.events import PAYMENT_CANCELED, PAYMENT_CONFIRM
from kiwishop.order.cancellation import CancelAnswer, CancelStatus
from kiwishop.order.domain import OrderError, Payment, PaymentStatus
from kiwishop.order.handlers.verdict import RecordVerdict
from kiwishop.order.handlers.webhook import Synced, SyncFromPsp
from kiwishop.order.psp_sync import PspRead
from kiwishop.order.verdicts import PspResult
from kiwishop.platform.errors import AppError
from tests.unit.order.cancel_fakes import FakeCancelStore, handlers
from tests.unit.order.fakes import TIMING, FakeGateway, FakeIds, an_order

S, C = PaymentStatus.SUCCESS, PaymentStatus.CANCELED


def at_psp(status: str = "DONE", *, balance: int = 6000, **overrides: Any) -> PspRead:
    payment = {
        "paymentKey": "pk_1", "orderId": "order-1", "status": status, "totalAmount": 6000, "balanceAmount": balance,
        "approvedAt": "2026-11-25T11:40:58+09:00",
        "cancels": [{"cancelAmount": 6000 - balance, "cancelReason": "콘솔 취소",
                     "canceledAt": "2026-11-25T12:00:00+09:00"}] if balance < 6000 else None,
        **overrides,
    }  # fmt: skip
    return PspRead(payment)


def paid(amounts: tuple[int, ...] = (1000, 2000, 3000)) -> Payment:
    order = an_order(status=S, lines=len(amounts), payment_key="pk_1", is_payment_done=True)
    for line, amount in zip(order.lines, amounts, strict=True):
        line.amount = Decimal(amount)
    return order


def sync(store: FakeCancelStore, gateway: FakeGateway) -> SyncFromPsp:
    record = RecordVerdict(store, gateway, FakeIds(), TIMING)
    return SyncFromPsp(store, gateway, record, FakeIds(5000), lease=TIMING.lease)


async def test_an_unknown_order_changes_nothing_and_the_psp_is_not_asked() -> None:
    store, gateway = FakeCancelStore(), FakeGateway()
    assert await sync(store, gateway)("order-1", "pk_1") is Synced.UNKNOWN_ORDER
    assert gateway.asked == []


@pytest.mark.parametrize(
    ("read", "expected"),
    [(PspRead(None), Synced.NOT_THIS_ORDER), (at_psp(orderId="order-2"), Synced.NOT_THIS_ORDER)],
    ids=["no such payment", "another order's payment"],
)
async def test_a_payment_the_psp_does_not_know_for_this_order_changes_nothing(read: PspRead, expected: Synced) -> None:
    store, gateway = FakeCancelStore(an_order()), FakeGateway(reads=[read])
    assert await sync(store, gateway)("order-1", "pk_1") is expected
    assert store.stored("order-1").status is PaymentStatus.NOT_STARTED
    assert store.rows.history == []


async def test_a_psp_that_cannot_be_asked_is_an_error_so_the_webhook_comes_again() -> None:
    store, gateway = FakeCancelStore(an_order()), FakeGateway(reads=[PspRead(None, in_doubt=True)])
    with pytest.raises(AppError) as error:
        await sync(store, gateway)("order-1", "pk_1")
    assert error.value.code is OrderError.PSP_UNAVAILABLE
    assert store.rows.history == []


@pytest.mark.parametrize("status", [PaymentStatus.NOT_STARTED, PaymentStatus.UNKNOWN, PaymentStatus.QUARANTINED])
async def test_an_approval_the_shop_never_confirmed_is_recorded_as_a_confirm_would(status: PaymentStatus) -> None:
    store, gateway = FakeCancelStore(an_order(status=status)), FakeGateway(reads=[at_psp()])

    assert await sync(store, gateway)("order-1", "pk_1") is Synced.RECORDED

    order = store.stored("order-1")
    assert (order.status, order.payment_key, order.is_payment_done) == (S, "pk_1", True)
    assert [h.reason for h in store.rows.history][::2] == ["PSP_WEBHOOK", "PSP_APPROVED"]
    assert {h.changed_by for h in store.rows.history} == {"webhook"}
    assert [e.type for e in store.rows.events] == [PAYMENT_CONFIRM.name]


async def test_an_approval_of_another_amount_is_compensated_not_recorded_as_paid() -> None:
    cancelled = PspResult.declined("PAYMENT_CANCELED", "cancelled")
    gateway = FakeGateway(reads=[at_psp(totalAmount=5000)], cancels=[cancelled])
    store = FakeCancelStore(an_order())
    assert await sync(store, gateway)("order-1", "pk_1") is Synced.RECORDED
    assert store.stored("order-1").status is PaymentStatus.FAILURE
    assert [c.idempotency_key for c in gateway.cancellations] == ["compensate-order-1-pk_1"]
    assert store.rows.events == []


@pytest.mark.parametrize("status", [S, PaymentStatus.EXECUTING, PaymentStatus.FAILURE])
async def test_an_approval_the_order_already_shows_or_is_deciding_changes_nothing(status: PaymentStatus) -> None:
    store, gateway = FakeCancelStore(an_order(status=status)), FakeGateway(reads=[at_psp()])
    assert await sync(store, gateway)("order-1", "pk_1") is Synced.UNCHANGED
    assert store.rows.history == []
    assert store.rows.events == []


async def test_a_full_cancel_made_outside_the_shop_cancels_every_line_with_one_event() -> None:
    store, gateway = FakeCancelStore(paid()), FakeGateway(reads=[at_psp("CANCELED", balance=0)])

    assert await sync(store, gateway)("order-1", "pk_1") is Synced.CANCELED

    assert store.stored("order-1").status is C
    [cancel] = store.cancels()
    assert (cancel.status, cancel.amount, cancel.line_nos, cancel.reason) == (
        CancelStatus.DONE, Decimal(6000), [100, 101, 102], "콘솔 취소",
    )  # fmt: skip
    assert cancel.psp_balance == Decimal(0)
    assert {h.reason for h in store.rows.history} == {"PSP_CANCELED_OUTSIDE:1"}
    [event] = store.rows.events
    assert (event.type, event.payload["orderStatus"], event.payload["cancelAmount"]) == (
        PAYMENT_CANCELED.name, "CANCELED", Decimal(6000),
    )  # fmt: skip
    assert event.payload["canceledDateTime"] == "2026-11-25T12:00:00+09:00"


async def test_a_partial_cancel_made_outside_the_shop_takes_the_one_set_of_lines_that_adds_up_to_it() -> None:
    store, gateway = FakeCancelStore(paid()), FakeGateway(reads=[at_psp("PARTIAL_CANCELED", balance=3000)])
    assert await sync(store, gateway)("order-1", "pk_1") is Synced.UNRESOLVED  # 3000 = line 3, or lines 1 + 2
    assert store.cancels() == []

    gateway.reads.append(at_psp("PARTIAL_CANCELED", balance=4000))
    assert await sync(store, gateway)("order-1", "pk_1") is Synced.CANCELED  # 2000: line 2 alone
    assert [line.status for line in store.stored("order-1").lines] == [S, C, S]
    assert store.rows.events[0].payload["orderStatus"] == "PARTIAL_CANCELED"


async def test_cancels_the_shop_made_itself_are_not_counted_again() -> None:
    store = FakeCancelStore(paid())
    gateway = FakeGateway(
        refunds=[CancelAnswer.done(None, Decimal(4000))], reads=[at_psp("PARTIAL_CANCELED", balance=4000)]
    )
    cancel, _ = handlers(store, gateway)
    await cancel("order-1", "mine", [101])
    assert await sync(store, gateway)("order-1", "pk_1") is Synced.UNCHANGED
    assert len(store.cancels()) == 1
    assert len(store.rows.events) == 1


async def test_while_a_cancel_of_the_shop_is_undecided_nothing_is_synced_and_the_webhook_comes_again() -> None:
    store = FakeCancelStore(paid())
    gateway = FakeGateway(
        refunds=[CancelAnswer.in_doubt("PSP_TIMEOUT", "slow")], reads=[at_psp("PARTIAL_CANCELED", balance=4000)]
    )
    cancel, _ = handlers(store, gateway)
    await cancel("order-1", "mine", [101])
    with pytest.raises(AppError) as error:
        await sync(store, gateway)("order-1", "pk_1")
    assert error.value.code is OrderError.CANCEL_IN_PROGRESS
    assert [c.status for c in store.cancels()] == [CancelStatus.UNKNOWN]
    assert store.rows.events == []


@pytest.mark.parametrize("status", [S, PaymentStatus.PARTIAL_CANCELED, PaymentStatus.CANCELED])
async def test_a_done_hint_for_an_order_paid_with_that_key_does_not_ask_the_psp(status: PaymentStatus) -> None:
    order = paid()
    for line in order.lines:
        line.status = status
    store, gateway = FakeCancelStore(order), FakeGateway(reads=[])  # a read would fail: none is queued
    assert await sync(store, gateway)("order-1", "pk_1", hinted="DONE") is Synced.UNCHANGED
    assert store.rows.history == []


@pytest.mark.parametrize(("hint", "key"), [("CANCELED", "pk_1"), ("DONE", "pk_other"), (None, "pk_1")])
async def test_any_other_hint_is_checked_at_the_psp(hint: str | None, key: str) -> None:
    store, gateway = FakeCancelStore(paid()), FakeGateway(reads=[at_psp("CANCELED", balance=0)])
    synced = await sync(store, gateway)("order-1", key, hinted=hint)
    assert gateway.reads == []  # the PSP was asked, and what it said counted:
    assert synced is Synced.CANCELED


async def test_a_done_hint_for_an_unpaid_order_is_checked_at_the_psp() -> None:
    store, gateway = FakeCancelStore(an_order()), FakeGateway(reads=[at_psp()])
    assert await sync(store, gateway)("order-1", "pk_1", hinted="DONE") is Synced.RECORDED
    assert gateway.reads == []
