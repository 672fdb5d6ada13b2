"""A buyer's cancel against fakes of its ports: what is refused before the PSP is asked (nothing changes), and
what each answer of the PSP records — lines, history, the cancel, PAYMENT_CANCELED."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kiwishop.contracts.events import PAYMENT_CANCELED
from kiwishop.order.cancellation import CancelAnswer, CancelStatus
from kiwishop.order.domain import OrderError, Payment, PaymentStatus
from kiwishop.platform.errors import AppError
from tests.unit.order.cancel_fakes import FakeCancelStore, handlers, lines_of
from tests.unit.order.fakes import FakeGateway, an_order

CANCELED_AT = dt.datetime(2026, 11, 25, 3, 0, 0)  # UTC: 12:00:00+09:00
DONE = CancelAnswer.done(CANCELED_AT, Decimal(4000))
S, C = PaymentStatus.SUCCESS, PaymentStatus.CANCELED


def paid(order_id: str = "order-1", *, amount: Decimal = Decimal(6000), lines: int = 3) -> Payment:
    """Products 1, 2, 3 at 2000 each (lines 100, 101, 102), paid with pk_1."""
    return an_order(
        order_id, status=PaymentStatus.SUCCESS, amount=amount, lines=lines, payment_key="pk_1", is_payment_done=True
    )


def setup(*answers: CancelAnswer, order: Payment | None = None) -> tuple[FakeCancelStore, FakeGateway]:
    return FakeCancelStore(order or paid()), FakeGateway(refunds=list(answers))


async def refused(
    store: FakeCancelStore, gateway: FakeGateway, lines: list[int] | None, order_id: str = "order-1"
) -> OrderError:
    cancel, _ = handlers(store, gateway)
    with pytest.raises(AppError) as error:
        await cancel(order_id, "changed my mind", lines)
    code = error.value.code
    assert isinstance(code, OrderError)
    return code


async def test_a_line_is_given_back_on_the_psps_word_with_history_and_one_event() -> None:
    store, gateway = setup(DONE)
    cancel, _ = handlers(store, gateway)

    result = await cancel("order-1", "changed my mind", [101])

    assert (result.cancel.status, result.cancel.cancel_no, result.changed) == (CancelStatus.DONE, 1, [101])
    assert result.payment.status is PaymentStatus.PARTIAL_CANCELED
    assert (result.refunded, result.refundable) == (Decimal(2000), Decimal(4000))
    assert lines_of(result) == {100: S, 101: C, 102: S}
    assert [(r.payment_key, r.amount, r.idempotency_key) for r in gateway.refunded] == [
        ("pk_1", Decimal(2000), "cancel-order-1-1")
    ]
    assert store.stored("order-1").status is PaymentStatus.PARTIAL_CANCELED
    assert [(h.payment_order_no, h.previous, h.new, h.reason) for h in store.rows.history] == [
        (101, S, C, "PSP_CANCELED:1")
    ]
    [event] = store.rows.events
    assert (event.type, event.key, event.idempotency_key) == (
        PAYMENT_CANCELED.name,
        "order-1",
        "PAYMENT_CANCELED:order-1:1",
    )
    assert event.event_id == store.cancels()[0].event_id is not None
    assert event.payload == {
        "paymentEventNo": 1, "memberNo": 7, "orderId": "order-1", "paymentKey": "pk_1", "cancelNo": 1,
        "cancelReason": "changed my mind", "canceledDateTime": "2026-11-25T12:00:00+09:00",
        "cancelAmount": Decimal(2000),
        "lines": [{"paymentOrderNo": 101, "productNo": 2, "sellerNo": 1, "amount": Decimal(2000)}],
        "orderStatus": "PARTIAL_CANCELED",
    }  # fmt: skip
    assert store.cancels()[0].psp_balance == Decimal(4000)


async def test_the_same_cancel_again_returns_the_stored_result_without_asking_the_psp() -> None:
    store, gateway = setup(DONE)
    cancel, _ = handlers(store, gateway)
    await cancel("order-1", "changed my mind", [101])

    again = await cancel("order-1", "changed my mind", [101])

    assert (again.cancel.cancel_no, again.cancel.status, again.changed) == (1, CancelStatus.DONE, [])
    assert len(gateway.refunded) == 1
    assert len(store.rows.events) == 1
    assert len(store.cancels()) == 1


async def test_without_lines_the_rest_is_cancelled_then_the_order_is_canceled_and_a_repeat_changes_nothing() -> None:
    store, gateway = setup(DONE, CancelAnswer.done(CANCELED_AT, Decimal(0)))
    cancel, _ = handlers(store, gateway)
    await cancel("order-1", "one", [101])

    rest = await cancel("order-1", "the rest", None)

    assert (rest.cancel.cancel_no, rest.cancel.line_nos, rest.cancel.amount) == (2, [100, 102], Decimal(4000))
    assert rest.payment.status is PaymentStatus.CANCELED
    assert (rest.refunded, rest.refundable) == (Decimal(6000), Decimal(0))
    assert gateway.refunded[1].idempotency_key == "cancel-order-1-2"
    assert [e.payload["orderStatus"] for e in store.rows.events] == ["PARTIAL_CANCELED", "CANCELED"]
    again = await cancel("order-1", "the rest", None)
    assert again.cancel.cancel_no == 2
    assert len(gateway.refunded) == 2
    assert len(store.rows.events) == 2


async def test_an_answer_in_doubt_leaves_the_cancel_unknown_the_lines_paid_and_nothing_published() -> None:
    store, gateway = setup(CancelAnswer.in_doubt("PSP_TIMEOUT", "no answer"))
    cancel, _ = handlers(store, gateway)

    result = await cancel("order-1", "changed my mind", [101])

    assert result.cancel.status is CancelStatus.UNKNOWN
    assert result.payment.status is PaymentStatus.SUCCESS
    assert store.rows.events == []
    assert store.rows.history == []
    stored = store.cancels()[0]
    assert (stored.status, stored.attempts, stored.failure_code) == (CancelStatus.UNKNOWN, 1, "PSP_TIMEOUT")
    assert stored.next_attempt_at is not None
    assert stored.in_doubt_since is not None
    assert stored.next_attempt_at > stored.in_doubt_since


async def test_while_a_cancel_is_in_doubt_the_same_lines_get_it_back_and_other_lines_must_wait() -> None:
    store, gateway = setup(CancelAnswer.in_doubt("PSP_TIMEOUT", "no answer"))
    cancel, _ = handlers(store, gateway)
    await cancel("order-1", "changed my mind", [101])

    same = await cancel("order-1", "changed my mind", [101])

    assert (same.cancel.cancel_no, same.cancel.status) == (1, CancelStatus.UNKNOWN)
    assert len(gateway.refunded) == 1
    assert await refused(store, gateway, [100]) is OrderError.CANCEL_IN_PROGRESS
    assert await refused(store, gateway, None) is OrderError.CANCEL_IN_PROGRESS  # the rest is 100, 101, 102
    assert len(gateway.refunded) == 1
    assert len(store.cancels()) == 1


async def test_a_refusal_fails_the_cancel_and_changes_no_line_and_a_new_request_is_a_new_cancel() -> None:
    store, gateway = setup(CancelAnswer.refused("NOT_CANCELABLE_AMOUNT", "취소 할 수 없는 금액 입니다."), DONE)
    cancel, _ = handlers(store, gateway)

    failed = await cancel("order-1", "changed my mind", [101])

    assert (failed.cancel.status, failed.cancel.failure_code) == (CancelStatus.FAILED, "NOT_CANCELABLE_AMOUNT")
    assert failed.cancel.next_attempt_at is None
    assert lines_of(failed) == {100: S, 101: S, 102: S}
    assert store.rows.events == []
    assert store.rows.history == []
    retried = await cancel("order-1", "changed my mind", [101])
    assert (retried.cancel.cancel_no, retried.cancel.status) == (2, CancelStatus.DONE)
    assert [r.idempotency_key for r in gateway.refunded] == ["cancel-order-1-1", "cancel-order-1-2"]


@pytest.mark.parametrize(
    "lines",
    [[999], [], [101, 101], [100, 999]],
    ids=["unknown line", "empty list", "repeated line", "one unknown among known"],
)
async def test_lines_that_are_not_the_orders_once_each_are_refused_before_anything(lines: list[int]) -> None:
    store, gateway = setup()
    assert await refused(store, gateway, lines) is OrderError.INVALID_CANCEL_LINES
    assert gateway.refunded == []
    assert store.cancels() == []


async def test_a_line_of_another_order_is_refused() -> None:
    store = FakeCancelStore(paid(), paid("order-2"))
    store.rows.payments["order-2"].lines[0].payment_order_no = 900
    gateway = FakeGateway()
    assert await refused(store, gateway, [900]) is OrderError.INVALID_CANCEL_LINES
    assert gateway.refunded == []
    assert store.cancels() == []


@pytest.mark.parametrize(
    "status", [PaymentStatus.NOT_STARTED, PaymentStatus.EXECUTING, PaymentStatus.UNKNOWN, PaymentStatus.FAILURE]
)
async def test_an_order_that_is_not_paid_is_not_cancelled(status: PaymentStatus) -> None:
    store, gateway = setup(order=an_order(status=status, lines=3))
    assert await refused(store, gateway, [101]) is OrderError.ORDER_NOT_PAID
    assert await refused(store, gateway, None) is OrderError.ORDER_NOT_PAID
    assert gateway.refunded == []
    assert store.cancels() == []


async def test_an_unknown_order_is_not_found() -> None:
    store, gateway = setup()
    assert await refused(store, gateway, [101], order_id="no-such-order") is OrderError.ORDER_NOT_FOUND


async def test_cancelled_lines_mixed_with_others_are_refused() -> None:
    store, gateway = setup(DONE)
    cancel, _ = handlers(store, gateway)
    await cancel("order-1", "one", [101])
    assert await refused(store, gateway, [100, 101]) is OrderError.LINES_ALREADY_CANCELED
    assert len(gateway.refunded) == 1
    assert len(store.cancels()) == 1


async def test_a_sum_that_is_not_whole_won_is_refused() -> None:
    store, gateway = setup(order=paid(amount=Decimal("2469.00"), lines=2))  # 1234.50 each
    assert await refused(store, gateway, [100]) is OrderError.NON_INTEGER_AMOUNT
    assert gateway.refunded == []
