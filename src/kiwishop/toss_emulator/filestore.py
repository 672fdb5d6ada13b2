"""The payment book, the stored responses and the webhook deliveries in the state file (``statefile``), read on
demand.

Nothing is cached: every lookup reads the file, so memory stays bounded however many payments the file
holds, and a payment from before a restart is found like any other. A ``Payment`` read here is a fresh
object; whoever changes it hands it back with ``save`` (in the same synchronous step).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from kiwishop.toss_emulator.codec import payment_from_text, payment_to_text
from kiwishop.toss_emulator.domain import Payment, PaymentStatus
from kiwishop.toss_emulator.statefile import StateFile
from kiwishop.toss_emulator.store import Scope, StoredResponse, trimmed
from kiwishop.toss_emulator.webhooks import Delivery

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)
PAGE = 500  # payments read at a time while looking for the oldest finished ones


def to_us(moment: dt.datetime) -> int:
    """Microseconds since the epoch: exact for aware datetimes, and ordered like them."""
    return (moment - EPOCH) // MICROSECOND


def from_us(us: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=us)


class FilePaymentBook:
    def __init__(self, file: StateFile) -> None:
        self._file = file

    def get(self, payment_key: str) -> Payment | None:
        return _decoded(self._file.payment(payment_key))

    def for_order(self, order_id: str) -> Payment | None:
        return _decoded(self._file.payment_of_order(order_id))

    def put(self, payment: Payment) -> None:
        self._file.add_payment(payment.payment_key, payment.order_id, payment_to_text(payment))

    def save(self, payment: Payment) -> None:
        self._file.update_payment(payment.payment_key, payment_to_text(payment))

    def holds(self, count: int) -> bool:
        return self._file.holds("payments", count)

    def oldest(self) -> Iterator[tuple[str, PaymentStatus, dt.datetime]]:
        """Read a page at a time, so no statement stays open while the caller goes on (or deletes)."""
        last = 0
        while page := self._file.payments_after(last, PAGE):
            for rowid, key, status, requested_at in page:
                last = rowid
                yield key, PaymentStatus(status), dt.datetime.fromisoformat(requested_at)

    def forget(self, payment_keys: list[str]) -> None:
        self._file.remove_payments(payment_keys)

    def clear(self) -> None:
        self._file.clear_payments()

    def __len__(self) -> int:
        return self._file.count_payments()


class FileResponses:
    def __init__(self, file: StateFile) -> None:
        self._file = file

    def get(self, scope: Scope) -> tuple[dt.datetime, StoredResponse] | None:
        row = self._file.response(scope)
        if row is None:
            return None
        expires_at_us, status, body = row
        return from_us(expires_at_us), StoredResponse(status, body)

    def put(self, scope: Scope, expires_at: dt.datetime, response: StoredResponse) -> None:
        self._file.put_response(scope, to_us(expires_at), response.status, response.body)

    def purge(self, now: dt.datetime) -> None:
        self._file.purge_responses(to_us(now))

    def trim(self, cap: int) -> int:
        return self._file.trim_responses(cap, trimmed(cap))

    def clear(self) -> None:
        self._file.clear_responses()

    def __len__(self) -> int:
        return self._file.count_responses()


class FileDeliveries:
    def __init__(self, file: StateFile) -> None:
        self._file = file

    def add(self, payment_key: str, body: bytes, due_us: int) -> int:
        return self._file.add_webhook(payment_key, body, due_us)

    def due(self, now_us: int, limit: int) -> list[Delivery]:
        return [Delivery(*row) for row in self._file.due_webhooks(now_us, limit)]

    def next_due_us(self) -> int | None:
        return self._file.next_webhook_due_us()

    def reschedule(self, delivery_id: int, attempts: int, due_us: int) -> bool:
        return self._file.reschedule_webhook(delivery_id, attempts, due_us)

    def remove(self, delivery_id: int) -> bool:
        return self._file.remove_webhook(delivery_id)

    def trim(self, cap: int) -> int:
        return self._file.trim_webhooks(cap, trimmed(cap))

    def clear(self) -> None:
        self._file.clear_webhooks()

    def __len__(self) -> int:
        return self._file.count_webhooks()


def _decoded(text: str | None) -> Payment | None:
    return None if text is None else payment_from_text(text)
