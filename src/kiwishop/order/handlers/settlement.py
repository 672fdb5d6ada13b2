"""Settlement that heals itself: order owns ``is_wallet_done`` and keeps PAYMENT_CONFIRM moving until wallet
answers WALLET_SETTLED. One pass at a time (the loop is in ``order/workers.py``).

A paid order gets ``settle_check_at = approved + grace`` (``KIWI_ORDER_SETTLEMENT_GRACE_S``, 30 s). When that
time comes and the order is still not ``is_wallet_done``, its PAYMENT_CONFIRM goes out again through the
outbox — the same row made due again (same eventId, same bytes), or, when retention already removed the
row, the same event rebuilt from the order's rows with its stored ``confirm_event_id`` — and the next check
is pushed back exponentially (capped at ``KIWI_ORDER_SETTLEMENT_REPUBLISH_MAX_S``), at most
``KIWI_ORDER_SETTLEMENT_REPUBLISH_BATCH`` orders per pass, oldest first. Every consumer dedupes by eventId,
and wallet answers a repeated PAYMENT_CONFIRM with its WALLET_SETTLED again, so this heals a record the
broker lost, one parked in a DLT once its cause is gone, and a consumer that was stalled.
"""

from __future__ import annotations

import datetime as dt
import logging

from kiwishop.order.domain import payment_confirmed
from kiwishop.order.ports import PaymentCounters, SettlementStore
from kiwishop.platform.clock import utcnow

log = logging.getLogger("kiwishop.order.settlement")


class RepublishUnsettled:
    def __init__(
        self,
        store: SettlementStore,
        *,
        grace_s: float,
        republish_max_s: float,
        batch_size: int,
        counters: PaymentCounters | None = None,
    ) -> None:
        self._store = store
        self._grace = dt.timedelta(seconds=grace_s)
        self._max = dt.timedelta(seconds=max(republish_max_s, grace_s))
        self._batch = batch_size
        self._counters = counters

    async def step(self) -> bool:
        """At most ``batch_size`` re-publishes per interval: when wallet is down for a while, thousands of
        orders come due together, and re-sending them all at once would only bury the consumer deeper."""
        await self.check_once()
        return False

    async def check_once(self) -> int:
        """Re-publish PAYMENT_CONFIRM for every paid order whose settlement check is due; returns how many."""
        due = await self._store.due_for_settlement_check(utcnow(), self._batch)
        count = 0
        for order_id in due:
            count += await self.republish(order_id)
        return count

    async def republish(self, order_id: str) -> int:
        async with self._store.transaction() as tx:
            check = await tx.lock_settlement_check(order_id)
            now = utcnow()
            if check is None or check.check_at is None or check.check_at > now:
                return 0  # settled, or another instance just did it
            payment = await tx.load(order_id)
            if payment is None or payment.is_wallet_done or not payment.is_payment_done:
                await tx.end_settlement_check(order_id)
                await tx.commit()
                return 0
            wait = min(self._max, self._grace * (2 ** min(check.republished + 1, 20)))
            await tx.reschedule_settlement_check(order_id, now + wait)
            event = payment_confirmed(payment)
            if not await tx.requeue_event(event.idempotency_key):  # retention removed the row: the same event again
                await tx.add_event(event)
            await tx.commit()
        log.warning(
            "order %s paid at %s is not settled by wallet yet: PAYMENT_CONFIRM published again (#%d, next check in %s)",
            order_id, payment.approved_at, check.republished + 1, wait,
        )  # fmt: skip
        if self._counters is not None:
            self._counters.confirm_republished()
        return 1
