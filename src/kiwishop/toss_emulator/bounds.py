"""How big the emulator's stores may grow: every one of them grows with its callers (anyone can authorise a
payment), in memory or on disk, so each has a cap in the settings and a rule for what happens at it.

- Payments (``max_payments``): a new authorisation at the cap first forgets the oldest *finished* payments,
  down to a tenth below the cap — any but those IN_PROGRESS within ``expire_after`` (an older IN_PROGRESS one
  has expired: it goes without its EXPIRED webhook). A payment in progress is never forgotten: when all are
  in progress the authorisation is refused, 503 EMULATOR_FULL with Retry-After, until the first of them
  expires or any payment changes (a confirm finishes it), so a full book is not scanned again on every try.
- Stored idempotent responses (``max_stored_responses``): the oldest go (``store.IdempotencyStore``); a retry
  of a forgotten one executes again (a confirm then answers ALREADY_PROCESSED_PAYMENT).
- Pending webhook deliveries (``max_pending_webhooks``): the oldest are dropped and counted (``webhooks``).
- Cancels of one payment (``max_cancels_per_payment``): one more is refused, 403 NOT_CANCELABLE_PAYMENT.
- Requests in flight hold an idempotency claim only while they run; the counters are fixed in number.
"""

from __future__ import annotations

import datetime as dt
import math

from kiwishop.platform.errors import AppError
from kiwishop.toss_emulator.domain import PaymentStatus
from kiwishop.toss_emulator.errors import EmulatorError
from kiwishop.toss_emulator.store import Book, trimmed


class PaymentRoom:
    def __init__(self, cap: int, expire_after: dt.timedelta) -> None:
        self.cap = cap
        self.expire_after = expire_after
        self._full_until: dt.datetime | None = None

    def make(self, book: Book, now: dt.datetime) -> None:
        """Room for one more payment in ``book``, or ``AppError(EMULATOR_FULL)``."""
        if not book.holds(self.cap):
            return
        if self._full_until is not None and now < self._full_until:
            raise self._full(now)
        wanted = len(book) + 1 - trimmed(self.cap)  # with the new one: a tenth below the cap
        victims: list[str] = []
        first_expiry: dt.datetime | None = None
        for key, status, requested_at in book.oldest():
            if status is PaymentStatus.IN_PROGRESS and now - requested_at < self.expire_after:
                expiry = requested_at + self.expire_after
                first_expiry = expiry if first_expiry is None else min(first_expiry, expiry)
                continue
            victims.append(key)
            if len(victims) >= wanted:
                break
        if victims:
            book.forget(victims)
            self._full_until = None
            return
        self._full_until = first_expiry
        raise self._full(now)

    def changed(self) -> None:
        """A payment changed its status: the book may hold a finished one now."""
        self._full_until = None

    def _full(self, now: dt.datetime) -> AppError:
        wait = 1.0 if self._full_until is None else (self._full_until - now).total_seconds()
        return AppError(EmulatorError.EMULATOR_FULL, headers={"Retry-After": str(max(1, math.ceil(wait)))})
