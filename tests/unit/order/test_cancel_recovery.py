"""Cancels in doubt against fakes: the recovery pass asks again with the same Idempotency-Key, decides only on
the PSP's word, backs off per cancel, takes over a cancel whose lease ran out, and a verdict is recorded once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from kiwishop.order.cancellation import CancelAnswer, CancelStatus
from kiwishop.order.domain import PaymentStatus
from kiwishop.order.handlers.cancel_record import RecordCancel
from kiwishop.platform.clock import utcnow
from tests.unit.order.cancel_fakes import FakeCancelStore, handlers, lines_of
from tests.unit.order.fakes import TIMING, FakeGateway, FakeIds, an_order

IN_DOUBT = CancelAnswer.in_doubt("FAILED_INTERNAL_SYSTEM_PROCESSING", "500")
DONE = CancelAnswer.done(dt.datetime(2026, 11, 25, 3, 0, 0), Decimal(4000))


async def in_doubt(*answers: CancelAnswer) -> tuple[FakeCancelStore, FakeGateway]:
    """Order 1 (lines 100–102 at 2000) with cancel 1 of line 101 in doubt, due now; then ``answers``."""
    paid = an_order(status=PaymentStatus.SUCCESS, lines=3, payment_key="pk_1", is_payment_done=True)
    store, gateway = FakeCancelStore(paid), FakeGateway(refunds=[IN_DOUBT, *answers])
    cancel, _ = handlers(store, gateway)
    await cancel("order-1", "changed my mind", [101])
    make_due(store)
    return store, gateway


def make_due(store: FakeCancelStore, at: dt.datetime | None = None) -> None:
    store.cancels()[0].next_attempt_at = at or utcnow() - dt.timedelta(seconds=1)


async def test_a_due_cancel_is_asked_again_with_the_same_key_and_recorded_once_on_the_psps_word() -> None:
    store, gateway = await in_doubt(DONE)
    _, recovery = handlers(store, gateway)

    assert await recovery.recover(await store.due_cancels(utcnow(), 10)) == 1

    assert [r.idempotency_key for r in gateway.refunded] == ["cancel-order-1-1", "cancel-order-1-1"]
    assert {(r.amount, r.reason) for r in gateway.refunded} == {(Decimal(2000), "changed my mind")}
    cancel = store.cancels()[0]
    assert (cancel.status, cancel.next_attempt_at) == (CancelStatus.DONE, None)
    assert store.stored("order-1").status is PaymentStatus.PARTIAL_CANCELED
    assert [(h.reason, h.changed_by) for h in store.rows.history] == [("PSP_CANCELED:1", "recovery")]
    assert len(store.rows.events) == 1
    assert await recovery.step() is False  # nothing is due any more
    assert len(gateway.refunded) == 2


async def test_a_cancel_not_due_yet_is_left_alone() -> None:
    store, gateway = await in_doubt()
    make_due(store, utcnow() + dt.timedelta(seconds=30))
    _, recovery = handlers(store, gateway)
    await recovery.step()
    assert len(gateway.refunded) == 1


async def test_no_number_of_answers_in_doubt_fails_a_cancel_it_backs_off_longer() -> None:
    store, gateway = await in_doubt(*[IN_DOUBT] * 12)
    _, recovery = handlers(store, gateway)
    waits = []
    for _ in range(12):
        make_due(store)
        await recovery.step()
        cancel = store.cancels()[0]
        assert cancel.status is CancelStatus.UNKNOWN
        assert cancel.next_attempt_at is not None
        waits.append(cancel.next_attempt_at - utcnow())
    assert store.cancels()[0].attempts == 13
    assert waits[-1] > waits[0]
    assert waits[-1] <= TIMING.policy.backoff_max
    assert lines_of_order(store) == {100: "SUCCESS", 101: "SUCCESS", 102: "SUCCESS"}


async def test_a_refusal_on_a_later_attempt_fails_the_cancel() -> None:
    store, gateway = await in_doubt(CancelAnswer.refused("NOT_CANCELABLE_PAYMENT", "취소 할 수 없는 결제 입니다."))
    _, recovery = handlers(store, gateway)
    await recovery.step()
    cancel = store.cancels()[0]
    assert (cancel.status, cancel.failure_code) == (CancelStatus.FAILED, "NOT_CANCELABLE_PAYMENT")
    assert store.rows.events == []


async def test_an_executing_cancel_is_taken_over_only_once_its_lease_ran_out() -> None:
    store, gateway = await in_doubt(DONE)
    store.cancels()[0].status = CancelStatus.EXECUTING  # its request died mid-way
    make_due(store, utcnow() + dt.timedelta(seconds=30))
    _, recovery = handlers(store, gateway)
    await recovery.step()
    assert len(gateway.refunded) == 1  # the lease still holds
    make_due(store)
    await recovery.step()
    assert store.cancels()[0].status is CancelStatus.DONE
    assert len(store.rows.events) == 1


async def test_a_verdict_already_recorded_stands_and_is_published_once() -> None:
    store, _gateway = await in_doubt()
    record = RecordCancel(store, FakeIds(), TIMING)
    done = await record("order-1", 1, DONE, changed_by="recovery")  # decisive evidence beats the doubt recorded
    assert done.cancel.status is CancelStatus.DONE
    assert done.changed == [101]
    again = await record("order-1", 1, DONE, changed_by="api")
    late = await record("order-1", 1, IN_DOUBT, changed_by="api")
    assert (again.changed, late.cancel.status) == ([], CancelStatus.DONE)
    assert len(store.rows.events) == 1
    assert len(store.rows.history) == 1
    assert lines_of(late) == {100: PaymentStatus.SUCCESS, 101: PaymentStatus.CANCELED, 102: PaymentStatus.SUCCESS}


async def test_in_doubt_past_the_horizon_it_is_asked_only_every_recheck_interval() -> None:
    store, gateway = await in_doubt(IN_DOUBT)
    store.cancels()[0].in_doubt_since = utcnow() - TIMING.policy.horizon - dt.timedelta(seconds=1)
    _, recovery = handlers(store, gateway)
    await recovery.step()
    cancel = store.cancels()[0]
    assert cancel.status is CancelStatus.UNKNOWN
    assert cancel.next_attempt_at is not None
    assert cancel.next_attempt_at - utcnow() > TIMING.quarantine_recheck - dt.timedelta(seconds=5)


def lines_of_order(store: FakeCancelStore) -> dict[int, str]:
    return {line.payment_order_no: str(line.status) for line in store.stored("order-1").lines}


async def test_when_the_psp_answers_again_every_cancel_backing_off_is_asked_at_once() -> None:
    store, gateway = await in_doubt(IN_DOUBT, DONE)
    _, recovery = handlers(store, gateway)
    await recovery.step()  # asked again, in doubt again: the PSP answered none — it is down
    cancel = store.cancels()[0]
    assert cancel.status is CancelStatus.UNKNOWN
    assert cancel.next_attempt_at is not None
    assert cancel.next_attempt_at > utcnow()  # backing off
    await recovery.step()  # the PSP has answered nothing since: nothing is brought forward
    assert len(gateway.refunded) == 2

    gateway.answers += 1  # the PSP answers something again (a confirm, a lookup)
    await recovery.step()
    assert len(gateway.refunded) == 3  # asked at once, not at the end of its backoff
    assert store.cancels()[0].status is CancelStatus.DONE
