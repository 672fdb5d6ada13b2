"""An operator's actions on an order in doubt against fakes of the ports: what the PSP is asked, and that a verdict
is recorded only on the PSP's word — a cancel never turns into an approval, a refused or unanswered cancel never
into a FAILURE."""

from __future__ import annotations

import datetime as dt

from kiwishop.order.domain import PaymentStatus
from kiwishop.order.handlers.ops import OpsActions, ops_cancel_key
from kiwishop.order.handlers.recovery import RecoverPayments
from kiwishop.order.handlers.verdict import RecordVerdict
from kiwishop.order.verdicts import Evidence, PspResult
from kiwishop.platform.clock import utcnow
from tests.unit.order.fakes import TIMING, FakeGateway, FakeIds, FakePaymentStore, an_order

ACTOR = "ops:5"
APPROVED = PspResult.approved(dt.datetime(2026, 11, 25, 2, 40, 58), "pk-order-1")
CANCELED = PspResult.declined("PAYMENT_CANCELED", "cancelled")
AUTHORISED = PspResult(Evidence.AUTHORISED, "PSP_NOT_CONFIRMED", "authorised", payment_key="pk-order-1")
NO_ANSWER = PspResult.in_doubt("PSP_UNREACHABLE", "no answer")


def actions(store: FakePaymentStore, gateway: FakeGateway) -> OpsActions:
    record = RecordVerdict(store, gateway, FakeIds(), TIMING)
    return OpsActions(gateway, record, RecoverPayments(store, gateway, record, lease=TIMING.lease))


def held(status: PaymentStatus = PaymentStatus.QUARANTINED, *, lease_left_s: float = 3600) -> FakePaymentStore:
    """An order in doubt whose next look is far away (QUARANTINED), or EXECUTING under a live lease."""
    return FakePaymentStore(
        an_order("order-1", status=status, payment_key="pk-order-1", confirm_started_at=utcnow(),
                 in_doubt_since=utcnow(), next_attempt_at=utcnow() + dt.timedelta(seconds=lease_left_s))
    )  # fmt: skip


async def test_a_cancel_the_psp_confirms_fails_the_order_with_the_operator_named() -> None:
    store, gateway = held(), FakeGateway(lookups=[APPROVED], cancels=[CANCELED])
    outcome = await actions(store, gateway).cancel_at_psp(store.stored("order-1"), actor=ACTOR, reason="dup")
    assert outcome.payment is not None
    assert outcome.payment.status is PaymentStatus.FAILURE
    assert (outcome.before, outcome.psp) == (PaymentStatus.QUARANTINED, "PAYMENT_CANCELED")
    assert gateway.cancellations[0].idempotency_key == ops_cancel_key("order-1", "pk-order-1")
    assert store.stored("order-1").failure_code == "CANCELED_BY_OPS"
    assert {h.changed_by for h in store.rows.history} == {ACTOR}
    assert store.rows.events == []  # nothing to settle


async def test_an_unanswered_cancel_keeps_the_order_in_doubt() -> None:
    store, gateway = held(), FakeGateway(lookups=[APPROVED, NO_ANSWER], cancels=[NO_ANSWER])
    outcome = await actions(store, gateway).cancel_at_psp(store.stored("order-1"), actor=ACTOR, reason="dup")
    assert outcome.payment is not None
    assert outcome.payment.status in (PaymentStatus.UNKNOWN, PaymentStatus.QUARANTINED)
    assert [q for q, _, _ in gateway.asked] == ["lookup", "cancel", "lookup"]


async def test_a_payment_only_authorised_is_never_approved_by_a_cancel() -> None:
    refused = PspResult.in_doubt("NOT_CANCELABLE_PAYMENT", "not cancelable")
    store, gateway = held(), FakeGateway(lookups=[AUTHORISED, AUTHORISED], cancels=[refused])
    outcome = await actions(store, gateway).cancel_at_psp(store.stored("order-1"), actor=ACTOR, reason="dup")
    assert "approve" not in [q for q, _, _ in gateway.asked]
    assert "resolve" not in [q for q, _, _ in gateway.asked]
    assert outcome.payment is not None
    assert outcome.payment.status is not PaymentStatus.SUCCESS
    assert store.rows.events == []


async def test_nothing_is_asked_about_an_order_a_confirm_is_working_on_or_one_not_in_doubt() -> None:
    for store in (held(PaymentStatus.EXECUTING), held(PaymentStatus.SUCCESS)):
        gateway = FakeGateway()
        ops = actions(store, gateway)
        assert (await ops.cancel_at_psp(store.stored("order-1"), actor=ACTOR, reason="x")).payment is None
        assert (await ops.recheck(store.stored("order-1"), actor=ACTOR)).payment is None
        assert gateway.asked == []
        assert store.rows.history == []


async def test_recheck_asks_a_quarantined_order_now_whatever_its_backoff() -> None:
    store, gateway = held(), FakeGateway(resolutions=[APPROVED])
    outcome = await actions(store, gateway).recheck(store.stored("order-1"), actor=ACTOR)
    assert outcome.payment is not None
    assert outcome.payment.status is PaymentStatus.SUCCESS
    assert [h.reason for h in store.rows.history][::2] == ["OPS_RECHECK", "PSP_APPROVED"]
    assert [e.key for e in store.rows.events] == ["order-1"]
