"""The buyer's confirm against fakes of its ports: what is refused before the PSP is asked, and the verdict each
answer of the PSP allows, with what it records and publishes."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest

from kiwishop.contracts.events import PAYMENT_CONFIRM
from kiwishop.order.domain import OrderError, PaymentStatus, compensation_key, confirm_payload, seoul_iso
from kiwishop.order.handlers.confirm import ConfirmPayment
from kiwishop.order.handlers.verdict import RecordVerdict
from kiwishop.order.verdicts import Evidence, PspResult
from kiwishop.platform.clock import utcnow
from kiwishop.platform.errors import AppError
from tests.unit.order.fakes import AMOUNT, TIMING, FakeCounters, FakeGateway, FakeIds, FakePaymentStore, an_order

APPROVED_AT = dt.datetime(2026, 11, 25, 2, 40, 58)
APPROVED = PspResult.approved(APPROVED_AT, "pk_1")
NOT_FOUND = PspResult(Evidence.NOT_FOUND, "NOT_FOUND_PAYMENT", "no such payment")
MISMATCH = PspResult(Evidence.MISMATCH, "PSP_AMOUNT_MISMATCH", "approved 5000 for 6000", payment_key="pk_1")


def confirm_payment(
    store: FakePaymentStore, gateway: FakeGateway, counters: FakeCounters | None = None, *, wait_s: float = 1.0
) -> ConfirmPayment:
    record = RecordVerdict(store, gateway, FakeIds(), TIMING, counters=counters)
    return ConfirmPayment(store, gateway, record, lease=TIMING.lease, wait_s=wait_s)


async def refused(confirm: ConfirmPayment, payment_key: str = "pk_1", amount: Decimal = AMOUNT) -> OrderError:
    with pytest.raises(AppError) as error:
        await confirm(payment_key, "order-1", amount)
    code = error.value.code
    assert isinstance(code, OrderError)
    return code


async def test_an_amount_that_is_not_the_orders_is_refused_before_the_psp_is_asked() -> None:
    store, gateway = FakePaymentStore(an_order()), FakeGateway()
    assert await refused(confirm_payment(store, gateway), amount=AMOUNT - 1) is OrderError.INVALID_PAYMENT_AMOUNT
    assert gateway.asked == []
    assert store.stored("order-1").status is PaymentStatus.NOT_STARTED


async def test_an_unknown_order_is_not_found() -> None:
    gateway = FakeGateway()
    assert await refused(confirm_payment(FakePaymentStore(), gateway)) is OrderError.ORDER_NOT_FOUND
    assert gateway.asked == []


async def test_a_payment_key_other_than_the_one_the_order_is_paid_with_is_refused() -> None:
    order = an_order(status=PaymentStatus.UNKNOWN, payment_key="pk_other", next_attempt_at=utcnow())
    store, gateway = FakePaymentStore(order), FakeGateway()
    assert await refused(confirm_payment(store, gateway)) is OrderError.PAYMENT_KEY_MISMATCH
    assert gateway.asked == []


FORBIDDEN = PspResult.declined("FORBIDDEN_REQUEST", "허용되지 않은 요청입니다.")
FOREIGN = PspResult(Evidence.FOREIGN, "PSP_FOREIGN_PAYMENT", "the paymentKey belongs to another order")


async def test_another_orders_payment_key_is_released_and_the_order_stays_payable_with_its_real_key() -> None:
    other = an_order("order-2", status=PaymentStatus.SUCCESS, payment_key="pk_other")
    store = FakePaymentStore(an_order(), other)
    gateway = FakeGateway(approvals=[FORBIDDEN, APPROVED], lookups=[FOREIGN])
    confirm = confirm_payment(store, gateway)
    assert await refused(confirm, payment_key="pk_other") is OrderError.PAYMENT_KEY_NOT_OF_ORDER
    stored = store.stored("order-1")
    assert (stored.status, stored.payment_key, stored.pending_payment_key) == (PaymentStatus.NOT_STARTED, None, None)
    assert (stored.failure_code, stored.confirm_started_at, stored.next_attempt_at) == (None, None, None)
    assert [(h.new, h.reason) for h in store.rows.history][-2:] == [
        (PaymentStatus.NOT_STARTED, "PSP_KEY_NOT_OF_ORDER")
    ] * 2
    assert gateway.asked == [("approve", "order-1", "pk_other"), ("lookup", "order-1", "pk_other")]
    payment = await confirm("pk_1", "order-1", AMOUNT)  # the buyer's own key still pays the order
    assert (payment.status, store.stored("order-1").payment_key) == (PaymentStatus.SUCCESS, "pk_1")
    assert store.stored("order-2").payment_key == "pk_other"


async def test_a_made_up_payment_key_refused_as_not_found_is_released() -> None:
    store = FakePaymentStore(an_order())
    gateway = FakeGateway(approvals=[NOT_FOUND], lookups=[NOT_FOUND])
    assert (
        await refused(confirm_payment(store, gateway), payment_key="pk_made_up") is OrderError.PAYMENT_KEY_NOT_OF_ORDER
    )
    assert store.stored("order-1").status is PaymentStatus.NOT_STARTED
    assert store.rows.events == []


async def test_a_refusal_whose_key_the_psp_cannot_be_asked_about_leaves_the_order_payable_and_answers_503() -> None:
    store = FakePaymentStore(an_order())
    gateway = FakeGateway(approvals=[FORBIDDEN], lookups=[PspResult.in_doubt("PSP_UNREACHABLE", "down")])
    assert await refused(confirm_payment(store, gateway)) is OrderError.PSP_UNAVAILABLE
    assert (store.stored("order-1").status, store.stored("order-1").pending_payment_key) == (
        PaymentStatus.NOT_STARTED,
        None,
    )


async def test_an_answer_in_doubt_for_another_orders_key_is_released_not_kept_in_doubt() -> None:
    store = FakePaymentStore(an_order())
    gateway = FakeGateway(approvals=[PspResult.in_doubt("PSP_TIMEOUT", "no answer")], lookups=[FOREIGN])
    assert await refused(confirm_payment(store, gateway)) is OrderError.PAYMENT_KEY_NOT_OF_ORDER
    assert store.stored("order-1").status is PaymentStatus.NOT_STARTED


async def test_while_one_key_is_in_doubt_another_key_is_refused_without_asking_the_psp() -> None:
    order = an_order(status=PaymentStatus.UNKNOWN, pending_payment_key="pk_1", next_attempt_at=utcnow())
    store, gateway = FakePaymentStore(order), FakeGateway()
    assert await refused(confirm_payment(store, gateway), payment_key="pk_2") is OrderError.PAYMENT_KEY_MISMATCH
    assert gateway.asked == []


@pytest.mark.parametrize("status", [PaymentStatus.SUCCESS, PaymentStatus.FAILURE, PaymentStatus.QUARANTINED])
async def test_a_finished_order_returns_what_is_stored_without_asking_the_psp(status: PaymentStatus) -> None:
    store = FakePaymentStore(an_order(status=status, payment_key="pk_1", failure_code="X"))
    gateway = FakeGateway()
    payment = await confirm_payment(store, gateway)("pk_1", "order-1", AMOUNT)
    assert (payment.status, payment.failure_code) == (status, "X")
    assert gateway.asked == []
    assert store.rows.history == []


async def test_an_unknown_order_still_backing_off_gets_the_stored_state_without_asking_the_psp() -> None:
    order = an_order(
        status=PaymentStatus.UNKNOWN, payment_key="pk_1", next_attempt_at=utcnow() + dt.timedelta(minutes=1)
    )
    store, gateway = FakePaymentStore(order), FakeGateway()
    payment = await confirm_payment(store, gateway)("pk_1", "order-1", AMOUNT)
    assert payment.status is PaymentStatus.UNKNOWN
    assert gateway.asked == []
    assert store.rows.history == []


async def test_an_unknown_order_that_is_due_asks_the_psp_like_the_recovery_step() -> None:
    order = an_order(
        status=PaymentStatus.UNKNOWN, payment_key="pk_1", next_attempt_at=utcnow() - dt.timedelta(seconds=1)
    )
    store, gateway = FakePaymentStore(order), FakeGateway(approvals=[APPROVED])
    payment = await confirm_payment(store, gateway)("pk_1", "order-1", AMOUNT)
    assert payment.status is PaymentStatus.SUCCESS
    assert gateway.asked == [("approve", "order-1", "pk_1")]


async def test_an_approval_is_success_with_one_payment_confirm_built_from_the_updated_rows() -> None:
    store, gateway, counters = FakePaymentStore(an_order()), FakeGateway(approvals=[APPROVED]), FakeCounters()
    before = utcnow()
    payment = await confirm_payment(store, gateway, counters)("pk_1", "order-1", AMOUNT)
    stored = store.stored("order-1")
    assert payment.status is stored.status is PaymentStatus.SUCCESS
    assert (stored.payment_key, stored.approved_at, stored.is_payment_done) == ("pk_1", APPROVED_AT, True)
    assert stored.next_attempt_at is None
    assert stored.confirm_event_id is not None
    [event] = store.rows.events
    assert (event.type, event.key, event.event_id) == (PAYMENT_CONFIRM.name, "order-1", stored.confirm_event_id)
    assert event.idempotency_key == "PAYMENT_CONFIRM:order-1"
    assert event.payload == dict(confirm_payload(stored))
    assert (event.payload["paymentKey"], event.payload["paymentDone"]) == ("pk_1", True)
    assert event.payload["approvedDateTime"] == seoul_iso(APPROVED_AT)
    assert [line.status for line in stored.lines] == [PaymentStatus.SUCCESS, PaymentStatus.SUCCESS]
    check = store.rows.checks["order-1"].check_at
    assert check is not None
    assert before + TIMING.settlement_grace <= check <= utcnow() + TIMING.settlement_grace
    assert [(h.previous, h.new, h.reason) for h in store.rows.history] == [
        (PaymentStatus.NOT_STARTED, PaymentStatus.EXECUTING, "CONFIRM_STARTED"),
    ] * 2 + [(PaymentStatus.EXECUTING, PaymentStatus.SUCCESS, "PSP_APPROVED")] * 2
    assert gateway.asked == [("approve", "order-1", "pk_1")]
    assert counters.verdicts == [(PaymentStatus.SUCCESS, None)]


async def test_a_decline_is_failure_with_the_psps_code_and_no_event() -> None:
    store = FakePaymentStore(an_order())
    declined = PspResult.declined("REJECT_CARD_COMPANY", "declined")
    gateway = FakeGateway(approvals=[declined], lookups=[declined])  # the lookup: this order's payment, ABORTED
    payment = await confirm_payment(store, gateway)("pk_1", "order-1", AMOUNT)
    stored = store.stored("order-1")
    assert payment.status is stored.status is PaymentStatus.FAILURE
    assert (stored.failure_code, stored.failure_message, stored.next_attempt_at) == (
        "REJECT_CARD_COMPANY",
        "declined",
        None,
    )
    assert store.rows.events == []
    assert store.rows.history[-1].reason == "PSP_DECLINED:REJECT_CARD_COMPANY"


async def test_an_answer_in_doubt_is_unknown_asked_again_later_and_publishes_nothing() -> None:
    store = FakePaymentStore(an_order())
    in_doubt = PspResult.in_doubt("PSP_TIMEOUT", "no answer")
    gateway = FakeGateway(approvals=[in_doubt], lookups=[in_doubt])
    before = utcnow()
    payment = await confirm_payment(store, gateway)("pk_1", "order-1", AMOUNT)
    stored = store.stored("order-1")
    assert payment.status is stored.status is PaymentStatus.UNKNOWN
    assert stored.next_attempt_at is not None
    assert stored.next_attempt_at > before
    assert stored.in_doubt_since is not None
    assert (stored.pending_payment_key, stored.failure_code, stored.recovery_attempts) == ("pk_1", "PSP_TIMEOUT", 0)
    assert stored.payment_key is None  # bound only once the PSP vouches for it
    assert store.rows.events == []


async def test_not_found_inside_the_authorisation_window_is_unknown() -> None:
    started = utcnow() - dt.timedelta(seconds=5)
    order = an_order(
        status=PaymentStatus.UNKNOWN, pending_payment_key="pk_1", confirm_started_at=started, in_doubt_since=started,
        next_attempt_at=utcnow() - dt.timedelta(seconds=1),
    )  # fmt: skip
    store = FakePaymentStore(order)
    payment = await confirm_payment(store, FakeGateway(approvals=[NOT_FOUND]))("pk_1", "order-1", AMOUNT)
    assert payment.status is PaymentStatus.UNKNOWN
    assert store.rows.events == []


async def test_not_found_after_the_authorisation_window_is_failure() -> None:
    started = utcnow() - TIMING.policy.authorization_window - dt.timedelta(seconds=1)
    order = an_order(
        status=PaymentStatus.UNKNOWN, payment_key="pk_1", confirm_started_at=started, in_doubt_since=started,
        next_attempt_at=utcnow() - dt.timedelta(seconds=1),
    )  # fmt: skip
    store = FakePaymentStore(order)
    payment = await confirm_payment(store, FakeGateway(approvals=[NOT_FOUND]))("pk_1", "order-1", AMOUNT)
    stored = store.stored("order-1")
    assert payment.status is stored.status is PaymentStatus.FAILURE
    assert (stored.failure_code, stored.confirm_started_at) == ("NOT_FOUND_PAYMENT", started)
    assert store.rows.events == []


async def test_an_approval_for_another_amount_is_cancelled_once_with_the_compensation_key_then_failure() -> None:
    store = FakePaymentStore(an_order())
    gateway = FakeGateway(approvals=[MISMATCH], cancels=[PspResult.declined("PAYMENT_CANCELED", "cancelled")])
    payment = await confirm_payment(store, gateway)("pk_1", "order-1", AMOUNT)
    [cancellation] = gateway.cancellations
    assert (cancellation.payment_key, cancellation.order_id) == ("pk_1", "order-1")
    assert cancellation.idempotency_key == compensation_key("order-1", "pk_1") == "compensate-order-1-pk_1"
    assert [question for question, _, _ in gateway.asked] == ["approve", "cancel"]
    assert payment.status is store.stored("order-1").status is PaymentStatus.FAILURE
    assert store.stored("order-1").failure_code == "PSP_AMOUNT_MISMATCH"
    assert store.rows.events == []


async def test_a_compensating_cancel_in_doubt_quarantines_the_order() -> None:
    store = FakePaymentStore(an_order())
    gateway = FakeGateway(approvals=[MISMATCH], cancels=[PspResult.in_doubt("PSP_UNREACHABLE", "cancel failed")])
    before = utcnow()
    payment = await confirm_payment(store, gateway)("pk_1", "order-1", AMOUNT)
    stored = store.stored("order-1")
    assert payment.status is stored.status is PaymentStatus.QUARANTINED
    assert stored.failure_code == "PSP_AMOUNT_MISMATCH_CANCEL_IN_DOUBT"
    assert stored.next_attempt_at is not None
    assert stored.next_attempt_at >= before + TIMING.quarantine_recheck
    assert len(gateway.cancellations) == 1
    assert store.rows.events == []


async def test_a_confirm_finding_the_order_executing_gets_the_verdict_recorded_meanwhile() -> None:
    executing = an_order(status=PaymentStatus.EXECUTING, payment_key="pk_1", next_attempt_at=utcnow())
    store, gateway = FakePaymentStore(executing), FakeGateway()
    record = RecordVerdict(store, gateway, FakeIds(), TIMING)
    confirm = ConfirmPayment(store, gateway, record, lease=TIMING.lease, wait_s=5.0)
    waiting = asyncio.create_task(confirm("pk_1", "order-1", AMOUNT))
    await asyncio.sleep(0)  # the confirm finds the order executing and waits
    await record(executing, APPROVED, changed_by="recovery")
    payment = await asyncio.wait_for(waiting, timeout=1.0)
    assert payment.status is PaymentStatus.SUCCESS
    assert gateway.asked == []


async def test_a_confirm_finding_the_order_executing_answers_in_progress_when_no_verdict_comes() -> None:
    executing = an_order(status=PaymentStatus.EXECUTING, payment_key="pk_1", next_attempt_at=utcnow())
    store, gateway = FakePaymentStore(executing), FakeGateway()
    assert await refused(confirm_payment(store, gateway, wait_s=0.05)) is OrderError.PAYMENT_IN_PROGRESS
    assert gateway.asked == []
