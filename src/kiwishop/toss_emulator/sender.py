"""The webhook sender: a background task that POSTs the due deliveries (``webhooks``) to ``webhook_url``.

- Started with the app (only when ``webhook_url`` is set), stopped before the state file closes. An attempt cut
  off by the stop stays due, and is made again by the next emulator on the file (at least once, not once).
- Up to ``BATCH`` attempts at a time, each with the short ``webhook_timeout_s``; anything but a 200 — another
  status, a refused connection, a timeout, a bad URL — is a failed attempt, logged, and the delivery waits its
  next rung. Nothing a receiver does can block the API or stop this task.
- Wakes at once when a delivery is added, else when the next one is due (at least every ``IDLE_POLL_S``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx

from kiwishop.toss_emulator.emulator import Emulator
from kiwishop.toss_emulator.webhooks import Delivery

log = logging.getLogger("kiwishop.toss_emulator.webhooks")

BATCH = 16
IDLE_POLL_S = 1.0
MIN_SLEEP_S = 0.001
HEADERS = {"Content-Type": "application/json", "User-Agent": "kiwi-shop toss emulator"}


class WebhookSender:
    def __init__(self, emulator: Emulator, url: str, timeout_s: float) -> None:
        self._emulator = emulator
        self._url = url
        self._timeout_s = timeout_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False)
        self._wake = asyncio.Event()
        self._emulator.webhooks.wake = self._wake.set
        self._task = asyncio.create_task(self._run(), name="toss-emulator-webhooks")

    async def stop(self) -> None:
        self._emulator.webhooks.wake = lambda: None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before looking: a delivery added from here on wakes the sleep below
            try:
                due = self._due()
            except Exception:
                log.exception("webhook deliveries unreadable")
                due = []
            if due:
                outcomes = await asyncio.gather(*(self._attempt(d) for d in due), return_exceptions=True)
                errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
                for error in errors:
                    log.error("webhook attempt not recorded", exc_info=error)
                if not errors:
                    continue  # more may be due
            await self._sleep()

    def _due(self) -> list[Delivery]:
        webhooks = self._emulator.webhooks
        return webhooks.deliveries.due(webhooks.wall(), BATCH)

    async def _attempt(self, delivery: Delivery) -> None:
        delivered = await self._post(delivery)
        with self._emulator.transaction():
            self._emulator.webhooks.record(delivery, delivered, self._emulator.stats)

    async def _post(self, delivery: Delivery) -> bool:
        assert self._client is not None
        try:
            response = await self._client.post(self._url, content=delivery.body, headers=HEADERS)
        except Exception as exc:  # refused, timed out, a bad URL…: a failed attempt, never a crash
            log.info("webhook %s for %s not delivered: %r", delivery.id, delivery.payment_key, exc)
            return False
        if response.status_code != 200:
            log.info("webhook %s for %s answered %s", delivery.id, delivery.payment_key, response.status_code)
            return False
        return True

    async def _sleep(self) -> None:
        webhooks = self._emulator.webhooks
        try:
            next_due = webhooks.deliveries.next_due_us()
        except Exception:
            log.exception("webhook schedule unreadable")
            next_due = None
        wait = IDLE_POLL_S if next_due is None else (next_due - webhooks.wall()) / 1_000_000
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=min(IDLE_POLL_S, max(MIN_SLEEP_S, wait)))
