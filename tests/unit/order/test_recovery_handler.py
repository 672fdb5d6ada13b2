"""One recovery pass against fakes of its ports: which orders are claimed, what the PSP is asked, and the
pull-in of every order backing off once the PSP answers again."""

from __future__ import annotations

import datetime as dt

from kiwishop.order.domain import Payment, PaymentStatus
from kiwishop.order.handlers.recovery import RecoverPayments
from kiwishop.order.handlers.verdict import RecordVerdict
from kiwishop.order.verdicts import Evidence, PspResult
from kiwishop.platform.clock import utcnow
from tests.unit.order.fakes import TIMING, FakeGateway, FakeIds, FakePaymentStore, an_order

APPROVED = PspResult.approved(dt.datetime(2026, 11, 25, 2, 40, 58), "pk_1")
IN_DOUBT = PspResult.in_doubt("PSP_UNREACHABLE", "no answer")


def recovery(store: FakePaymentStore, gateway: FakeGateway) -> RecoverPayments:
    record = RecordVerdict(store, gateway, FakeIds(), TIMING)
    return RecoverPayments(store, gateway, record, lease=TIMING.lease)


def in_doubt(
    order_id: str = "order-1", *, due_in_s: float = -1, status: PaymentStatus = PaymentStatus.UNKNOWN
) -> Payment:
    return an_order(
        order_id, status=status, payment_key=f"pk-{order_id}", confirm_started_at=utcnow(), in_doubt_since=utcnow(),
        next_attempt_at=utcnow() + dt.timedelta(seconds=due_in_s),
    )  # fmt: skip


async def test_a_due_order_is_claimed_resolved_at_the_psp_and_recorded() -> None:
    store = FakePaymentStore(in_doubt())
    gateway = FakeGateway(resolutions=[APPROVED])
    assert await recovery(store, gateway).recover_due() == 1
    assert gateway.asked == [("resolve", "order-1", "pk-order-1")]
    assert store.stored("order-1").status is PaymentStatus.SUCCESS
    assert [h.reason for h in store.rows.history][::2] == ["RECOVERY_STARTED", "PSP_APPROVED"]
    assert [e.key for e in store.rows.events] == ["order-1"]


async def test_an_order_backing_off_is_left_alone() -> None:
    store, gateway = FakePaymentStore(in_doubt(due_in_s=60)), FakeGateway()
    assert await recovery(store, gateway).recover_due() == 0
    assert gateway.asked == []
    assert store.rows.history == []


async def test_an_executing_order_whose_lease_ran_out_is_taken_over() -> None:
    store = FakePaymentStore(in_doubt(status=PaymentStatus.EXECUTING))
    gateway = FakeGateway(resolutions=[APPROVED])
    await recovery(store, gateway).recover_due()
    assert store.rows.history[0].reason == "RECOVERY_TOOK_OVER_STALE_EXECUTION"
    assert store.stored("order-1").status is PaymentStatus.SUCCESS


async def test_in_doubt_again_counts_an_attempt_and_backs_off() -> None:
    store, gateway = FakePaymentStore(in_doubt()), FakeGateway(resolutions=[IN_DOUBT])
    assert await recovery(store, gateway).recover_due() == 0
    stored = store.stored("order-1")
    assert (stored.status, stored.recovery_attempts) == (PaymentStatus.UNKNOWN, 1)
    assert stored.next_attempt_at is not None
    assert stored.next_attempt_at > utcnow()


async def test_an_order_without_a_payment_key_is_looked_up_by_its_order_id() -> None:
    order = in_doubt()
    order.payment_key = None
    store, gateway = FakePaymentStore(order), FakeGateway(lookups=[PspResult(Evidence.NOT_FOUND, "NOT_FOUND_PAYMENT")])
    await recovery(store, gateway).recover_due()
    assert gateway.asked == [("lookup_by_order", "order-1", None)]


async def test_when_the_psp_answers_again_every_order_backing_off_is_asked_at_once() -> None:
    store = FakePaymentStore(in_doubt("order-1"), in_doubt("order-2", due_in_s=3600))
    gateway = FakeGateway(resolutions=[IN_DOUBT])
    step = recovery(store, gateway)
    assert await step.step() is False  # order-1 in doubt: the PSP answered none, it is down
    assert store.stored("order-1").status is PaymentStatus.UNKNOWN

    gateway.resolutions = [APPROVED, APPROVED]
    await step.step()  # the PSP has not answered anything since: nothing is brought forward
    assert [q for q in gateway.asked if q[1] == "order-2"] == []

    gateway.answers = 1  # the PSP answers again
    await step.step()
    assert {store.stored(o).status for o in ("order-1", "order-2")} == {PaymentStatus.SUCCESS}
