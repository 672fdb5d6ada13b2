"""The outbox relay: publishes what ``Outbox`` (``platform/outbox.py``) wrote.

One ``OutboxRelay`` per process (several processes may run at once) claims due rows with
``FOR UPDATE SKIP LOCKED`` and a lease, publishes them keyed by aggregate id — with the trace context and request id
the row was written under as headers (``traceparent``, ``tracestate``, ``x-request-id``) — and marks a row SUCCESS only
after the broker acknowledged it; a failed row stays INIT with ``attempts`` + 1 and an exponential
``next_attempt_at``. The relay is woken when a unit of work that wrote to the outbox commits, and polls as
a fallback. Its tunables are ``ServiceSettings.outbox_*``: the constructor's defaults are theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update

from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.metrics import Metrics
from kiwishop.platform.outbox import outbox_table
from kiwishop.platform.settings import ServiceSettings
from kiwishop.platform.tracing import kafka_headers

log = logging.getLogger("kiwishop.outbox")


ob = outbox_table
# The relay's statements, built once (the benchmark's replay sends these same ones).
CLAIM = (
    select(ob.c.outbox_no, ob.c.topic, ob.c.message_key, ob.c.payload, ob.c.attempts, ob.c.trace_context)
    .where(ob.c.status == "INIT", ob.c.next_attempt_at <= bindparam("claim_now"))
    .order_by(ob.c.next_attempt_at, ob.c.outbox_no)
    .limit(bindparam("claim_limit"))
    .with_for_update(skip_locked=True)
)
LEASE = (
    update(ob)
    .where(ob.c.outbox_no.in_(bindparam("lease_nos", expanding=True)))
    .values(next_attempt_at=bindparam("lease_until"), updated_at=bindparam("lease_at"))
)
PUBLISHED = (
    update(ob)
    .where(ob.c.outbox_no.in_(bindparam("done_nos", expanding=True)))
    .values(status="SUCCESS", attempts=ob.c.attempts + 1, published_at=bindparam("done_at"),
            updated_at=bindparam("done_at"), last_error=None)
)  # fmt: skip
NOT_PUBLISHED = (
    update(ob)
    .where(ob.c.outbox_no == bindparam("b_no"))
    .values(attempts=ob.c.attempts + 1, next_attempt_at=bindparam("b_next"), last_error=bindparam("b_error"),
            updated_at=bindparam("b_at"))
)  # fmt: skip


def claim_params(now: dt.datetime, limit: int) -> dict[str, Any]:
    return {"claim_now": now, "claim_limit": limit}


def lease_params(outbox_nos: list[int], until: dt.datetime, now: dt.datetime) -> dict[str, Any]:
    return {"lease_nos": outbox_nos, "lease_until": until, "lease_at": now}


def published_params(outbox_nos: list[int], now: dt.datetime) -> dict[str, Any]:
    return {"done_nos": outbox_nos, "done_at": now}


def backoff_delay(attempts: int, base_s: float, cap_s: float) -> float:
    """Seconds to wait before the next publish attempt of a row that failed ``attempts`` times before."""
    return float(min(cap_s, base_s * (2 ** min(attempts, 30))))


def _setting(name: str) -> Any:
    """The default of ``ServiceSettings.<name>``: the relay's defaults are the settings' (one place), read from the
    class (no environment at import time). The runtime passes the service's settings; tests and benchmarks may
    pass only what they change."""
    return ServiceSettings.model_fields[name].default


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        publisher: KafkaPublisher,
        *,
        metrics: Metrics | None = None,
        batch_size: int = _setting("outbox_batch_size"),
        poll_interval_s: float = _setting("outbox_poll_interval_s"),
        lease_s: float = _setting("outbox_lease_s"),
        backoff_base_s: float = _setting("outbox_backoff_base_s"),
        backoff_max_s: float = _setting("outbox_backoff_max_s"),
        retention_hours: float = _setting("outbox_retention_hours"),
        publish_timeout_s: float = 10.0,
        linger_s: float = 0.005,
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._metrics = metrics
        self._batch = batch_size
        self._poll = poll_interval_s
        self._lease = dt.timedelta(seconds=lease_s)
        self._backoff_base = backoff_base_s
        self._backoff_max = backoff_max_s
        self._retention = dt.timedelta(hours=retention_hours)
        self._publish_timeout = publish_timeout_s
        self._linger = linger_s
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        db.on_outbox_commit(self.wake)

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, drain_s: float = _setting("outbox_drain_on_stop_s")) -> None:
        """Stop the loop, then publish what is due (for up to ``drain_s``): a clean stop leaves nothing behind
        that the broker could have taken. Rows it cannot publish stay pending for the next start."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.drain(drain_s)

    async def drain(self, timeout_s: float) -> int:
        """Publish due rows until none is left, one fails, or ``timeout_s`` passes; returns rows published."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        published = 0
        while loop.time() < deadline:
            try:
                done = await asyncio.wait_for(self.relay_once(), timeout=max(0.1, deadline - loop.time()))
            except Exception:
                log.warning("outbox drain stopped early", exc_info=True)
                break
            published += done
            if done < self._batch:
                break
        return published

    async def _run(self) -> None:
        last_housekeeping = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()  # before claiming: a commit made while this pass runs wakes the next one
            try:
                published = await self.relay_once()
                if loop.time() - last_housekeeping > 5.0:
                    last_housekeeping = loop.time()
                    await self._housekeeping()
            except Exception:
                log.exception("outbox relay iteration failed")
                published = 0
            if published >= self._batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            if self._linger > 0 and not self._stopping:
                await asyncio.sleep(self._linger)  # let the commits of a busy moment share one batch

    async def relay_once(self) -> int:
        """Claim one batch of due rows, publish it, record the outcome. Returns rows published."""
        rows = await self._claim()
        if not rows:
            return 0
        records = [
            OutgoingRecord(r.topic, r.message_key, r.payload.encode(), kafka_headers(r.trace_context)) for r in rows
        ]
        try:
            results = await asyncio.wait_for(self._publisher.send_many(records), timeout=self._publish_timeout)
        except TimeoutError as exc:
            results = [exc] * len(rows)
        done = [r.outbox_no for r, err in zip(rows, results, strict=True) if err is None]
        failed = [(r, err) for r, err in zip(rows, results, strict=True) if err is not None]
        await self._record(done, failed)
        return len(done)

    async def _claim(self) -> list[Any]:
        now = utcnow()
        async with self._db.uow() as uow:
            rows = (await uow.run(CLAIM, claim_params(now, self._batch))).all()
            if rows:
                await uow.run(LEASE, lease_params([r.outbox_no for r in rows], now + self._lease, now))
            await uow.commit()
        return list(rows)

    async def _record(self, done: list[int], failed: list[tuple[Any, BaseException]]) -> None:
        now = utcnow()
        async with self._db.uow() as uow:
            if done:
                await uow.run(PUBLISHED, published_params(done, now))
            if failed:
                await uow.conn.execute(
                    NOT_PUBLISHED,
                    [
                        {
                            "b_no": row.outbox_no,
                            "b_next": now
                            + dt.timedelta(seconds=backoff_delay(row.attempts, self._backoff_base, self._backoff_max)),
                            "b_error": f"{type(err).__name__}: {err}"[:500],
                            "b_at": now,
                        }
                        for row, err in failed
                    ],
                )
            await uow.commit()
        if self._metrics is not None:
            self._metrics.outbox_published.inc(len(done))
            self._metrics.outbox_failures.inc(len(failed))
        if failed:
            log.warning("outbox: %d rows not acknowledged, will retry: %s", len(failed), failed[0][1])

    async def _housekeeping(self) -> None:
        async with self._db.uow() as uow:
            pending = (await uow.conn.execute(select(func.count()).where(outbox_table.c.status == "INIT"))).scalar_one()
            await uow.conn.execute(
                delete(outbox_table)
                .where(
                    outbox_table.c.status == "SUCCESS",
                    outbox_table.c.published_at < utcnow() - self._retention,
                )
                .with_dialect_options(mysql_limit=10000)
            )
            await uow.commit()
        if self._metrics is not None:
            self._metrics.outbox_pending.set(pending)
