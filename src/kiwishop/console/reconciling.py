"""Reconcile from the console (``ports.Reconciles``): ``kiwishop.ops.reconcile`` — the same proof as ``kiwishop
reconcile``, reading order's and wallet's schemas read-only and asking the PSP as order — run on demand by an
operator or on a schedule, one run at a time in a process, each report kept in ``reconcile_runs``."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Protocol

from kiwishop.console.domain import ConsoleError
from kiwishop.console.ports import Json
from kiwishop.console.settings import ConsoleSettings
from kiwishop.ops.reconcile import Findings, Sources, reconcile, render
from kiwishop.platform.clock import utcnow
from kiwishop.platform.errors import AppError
from kiwishop.platform.jsonutil import utc_iso

log = logging.getLogger("kiwishop.console.reconciling")
SCHEDULE = "schedule"
PROBLEMS_SHOWN = 100


class Runs(Protocol):
    def next_run_no(self) -> int: ...

    async def save(self, started: dt.datetime, finished: dt.datetime, report: Json) -> None: ...

    async def last(self) -> Json | None: ...


def sources_of(settings: ConsoleSettings) -> Sources:
    """What ``kiwishop reconcile`` builds from order's and wallet's settings, from the console's own."""
    return Sources(
        infra=settings.infra,
        order_db=settings.order_db_name,
        wallet_db=settings.wallet_db_name,
        psp_url=settings.psp_url,
        psp_secret=settings.psp_secret_key.get_secret_value(),
        lag_bound_s=settings.reconcile_lag_bound_s,
        recovery_window_s=settings.reconcile_recovery_window_s,
    )


def report_of(
    findings: Findings, *, run_no: int, triggered_by: str, started: dt.datetime, finished: dt.datetime
) -> Json:
    held = {kind: {"lines": lines, "amount": amount} for kind, (lines, amount) in findings.held.items()}
    return {
        "runNo": run_no,
        "triggeredBy": triggered_by,
        "startedAt": utc_iso(started),
        "finishedAt": utc_iso(finished),
        "clean": findings.clean,
        "discrepancies": len(findings.problems),
        "problems": findings.problems[:PROBLEMS_SHOWN],
        "orders": dict(findings.order_counts),
        "cancels": dict(findings.cancel_counts),
        "givenBack": dict(findings.given_back),
        "heldSettlements": held,
        "deadLetters": {topic: n for topic, n in findings.dlt.items() if n},
        "text": render(findings),
    }


class Reconciler:
    def __init__(self, sources: Sources, runs: Runs) -> None:
        self._sources = sources
        self._runs = runs
        self._lock = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._lock.locked()

    async def run(self, triggered_by: str) -> Json:
        """Reconcile now and keep the report; 409 while another run of this process is under way, 503 when a
        source (a database, the PSP, the broker) cannot be read."""
        if self._lock.locked():
            raise AppError(ConsoleError.RECONCILE_RUNNING)
        async with self._lock:
            started = utcnow()
            try:
                findings = await reconcile(self._sources)
            except Exception as exc:  # a source is down (or the proof itself broke): this run has no report
                log.warning("reconcile (%s) failed", triggered_by, exc_info=True)
                raise AppError(ConsoleError.RECONCILE_FAILED, reason=f"{type(exc).__name__}: {exc}"[:300]) from exc
            finished = utcnow()
            report = report_of(
                findings, run_no=self._runs.next_run_no(), triggered_by=triggered_by, started=started, finished=finished
            )
            await self._runs.save(started, finished, report)
            return report

    async def last(self) -> Json | None:
        return await self._runs.last()

    async def scheduled(self, interval_s: float) -> bool:
        """The scheduled run (a ``Periodic`` step): only when the last report, by anyone, is older than
        ``interval_s`` and none runs here now."""
        last = await self.last()
        if last is not None and (utcnow() - _naive(last["finishedAt"])).total_seconds() < interval_s:
            return False
        if not self.running:
            await self.run(SCHEDULE)
        return False


def _naive(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(dt.UTC).replace(tzinfo=None)
