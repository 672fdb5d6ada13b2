"""Order's background loops: each runs a handler's pass every interval (``Periodic``) and then refreshes its
gauges (at most every ``REPORT_EVERY_S``): the recovery (orders in doubt, then cancels in doubt) and the
settlement watch (paid orders wallet has not settled yet)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from kiwishop.order import queries
from kiwishop.order.handlers.cancel_recovery import RecoverCancels
from kiwishop.order.handlers.recovery import RecoverPayments
from kiwishop.order.handlers.settlement import RepublishUnsettled
from kiwishop.order.metrics import PaymentMetrics
from kiwishop.platform.db import Database
from kiwishop.platform.periodic import Periodic

REPORT_EVERY_S = 5.0
IN_DOUBT_STATES = ("EXECUTING", "UNKNOWN", "QUARANTINED")
CANCEL_STATES = ("EXECUTING", "UNKNOWN")  # cancels in doubt: kiwi_payments_by_state{state="CANCEL_UNKNOWN"} …


class Loop:
    """A ``Periodic`` running ``step`` (True: a full batch, run again at once), then ``report`` now and then."""

    def __init__(
        self,
        name: str,
        step: Callable[[], Awaitable[bool]],
        interval_s: float,
        *,
        report: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._step = step
        self._report = report
        self._reported_at = 0.0
        self._periodic = Periodic(name, self._run_step, interval_s)

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def _run_step(self) -> bool:
        more = await self._step()
        if self._report is not None and time.monotonic() - self._reported_at >= REPORT_EVERY_S:
            self._reported_at = time.monotonic()
            await self._report()
        return more


def recovery_loop(
    recovery: RecoverPayments, cancels: RecoverCancels, db: Database, metrics: PaymentMetrics, *, interval_s: float
) -> Loop:
    async def step() -> bool:
        payments_left = await recovery.step()
        cancels_left = await cancels.step()
        return payments_left or cancels_left

    async def report() -> None:
        counts = await queries.orders_in_doubt(db)
        for status in IN_DOUBT_STATES:
            metrics.orders.labels(status).set(counts.get(status, 0))
        cancels = await queries.cancels_in_doubt(db)
        for status in CANCEL_STATES:
            metrics.orders.labels(f"CANCEL_{status}").set(cancels.get(status, 0))

    return Loop("payment-recovery", step, interval_s, report=report)


def settlement_loop(
    settlement: RepublishUnsettled, db: Database, metrics: PaymentMetrics, *, interval_s: float
) -> Loop:
    async def report() -> None:
        waiting, overdue = await queries.settlement_backlog(db)
        metrics.orders.labels("AWAITING_SETTLEMENT").set(waiting)
        metrics.orders.labels("OVERDUE_SETTLEMENT").set(overdue)

    return Loop("settlement-watch", settlement.step, interval_s, report=report)
