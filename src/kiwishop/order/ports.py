"""What order's handlers need from the world, as Protocols: the payment store (a unit of work over the orders
and their outbox rows), the PSP, catalog's products, ids and counters. The adapters implement them
(``store.py`` over ``repository.py`` and the outbox, ``psp.py``, ``catalog_client.py``, ``metrics.py``); the
unit tests implement them with in-memory fakes.

A transaction holds the order's row lock from ``load_for_update`` until it ends; leaving it without
``commit()`` writes nothing. Never await the PSP or catalog inside one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from kiwishop.order.cancellation import Cancel, CancelAnswer
from kiwishop.order.domain import CatalogProduct, Event, Payment, PaymentStatus
from kiwishop.order.psp_sync import PspRead
from kiwishop.order.verdicts import PspResult


class IdSource(Protocol):
    def next_id(self) -> int: ...


class ProductCatalog(Protocol):
    async def find(self, product_nos: list[int]) -> dict[int, CatalogProduct]:
        """The products that exist and are sold, by number (unknown ones are absent); an outage raises
        ``AppError(OrderError.CATALOG_UNAVAILABLE)``."""
        ...


class PaymentGateway(Protocol):
    """The PSP. Every call answers with evidence (``verdicts.PspResult``), never raises for the PSP's sake."""

    @property
    def answered(self) -> int:
        """How many answers were evidence (not in doubt) so far: it grows again once the PSP is back."""
        ...

    async def approve(self, payment_key: str, order_id: str, amount: Decimal) -> PspResult:
        """Ask the PSP to approve (capture) the payment the buyer authorised; one idempotency key per order."""
        ...

    async def lookup(
        self, order_id: str, amount: Decimal, payment_key: str | None, *, by_order: bool = False
    ) -> PspResult:
        """Ask the PSP what it knows about the payment (by paymentKey, or by orderId)."""
        ...

    async def resolve(self, order_id: str, amount: Decimal, payment_key: str) -> PspResult:
        """Find out what became of a payment in doubt, approving it if the buyer authorised it."""
        ...

    async def cancel(self, payment_key: str, order_id: str, *, reason: str, idempotency_key: str) -> PspResult:
        """Cancel the whole payment; DECLINED / PAYMENT_CANCELED once the PSP says it is cancelled."""
        ...

    async def refund(self, payment_key: str, *, amount: Decimal, reason: str, idempotency_key: str) -> CancelAnswer:
        """Give ``amount`` of the payment back (a cancel of some of its lines, or the rest); one key per cancel."""
        ...

    async def read(self, payment_key: str) -> PspRead:
        """The payment as the PSP reports it now, unjudged."""
        ...


class PaymentTransaction(Protocol):
    async def load_for_update(self, order_id: str) -> Payment | None:
        """The order with its lines, under its row lock (taken first: the order's mutex)."""
        ...

    async def insert(self, payment: Payment) -> None:
        """A new order, every line NOT_STARTED, with its history."""
        ...

    async def move(
        self,
        payment: Payment,
        to: PaymentStatus,
        *,
        reason: str,
        changed_by: str,
        values: Mapping[str, object] | None = None,
    ) -> bool:
        """Every line from the status ``payment`` was loaded with to ``to`` (one history row each) and
        ``values`` onto the order; False, writing nothing, when the order is no longer in that status. On
        success ``payment`` shows the new state. Raises ``PaymentKeyTaken`` when ``values`` give it a
        paymentKey another order holds."""
        ...

    async def add_event(self, event: Event) -> None:
        """The event leaves once this transaction commits (the outbox row)."""
        ...

    async def commit(self) -> None: ...


class PaymentStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[PaymentTransaction]: ...

    async def find(self, order_id: str) -> Payment | None:
        """The order as last committed, without a lock."""
        ...

    async def due_for_recovery(self, now: dt.datetime, limit: int) -> list[str]:
        """Orders whose ``next_attempt_at`` has come, the longest due first."""
        ...

    async def bring_forward_unknown(self, now: dt.datetime) -> int:
        """Every UNKNOWN order still backing off becomes due now (its own transaction); how many."""
        ...


class CancelTransaction(PaymentTransaction, Protocol):
    """A payment transaction that also reads and writes the order's cancels (under the order's row lock)."""

    async def cancels_of(self, order_id: str) -> list[Cancel]:
        """The order's cancels, oldest first."""
        ...

    async def add_cancel(self, cancel: Cancel) -> None: ...

    async def update_cancel(self, cancel: Cancel, values: Mapping[str, object]) -> None:
        """``values`` (attribute → value of ``Cancel``) onto the stored cancel and onto ``cancel``."""
        ...

    async def cancel_lines(self, payment: Payment, cancel: Cancel, *, reason: str, changed_by: str) -> bool:
        """The cancel's lines SUCCESS → CANCELED, one history row each; False, writing nothing, unless every one
        of them was SUCCESS. On success ``payment`` shows the new state."""
        ...


class CancelStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[CancelTransaction]: ...

    async def find(self, order_id: str) -> Payment | None: ...

    async def find_with_cancels(self, order_id: str) -> tuple[Payment | None, list[Cancel]]:
        """The order and its cancels as last committed, without a lock (no order: ``(None, [])``)."""
        ...

    async def due_cancels(self, now: dt.datetime, limit: int) -> list[tuple[str, int]]:
        """(orderId, cancelNo) of the undecided cancels whose ``next_attempt_at`` has come, the longest due first."""
        ...

    async def bring_forward_cancels(self, now: dt.datetime) -> int:
        """Make every UNKNOWN cancel still backing off due at ``now``; returns how many."""
        ...


@dataclass(frozen=True)
class SettlementCheck:
    """When a paid order's settlement by wallet is checked next, and how often PAYMENT_CONFIRM went out again."""

    check_at: dt.datetime | None
    republished: int


class SettlementTransaction(Protocol):
    async def lock_settlement_check(self, order_id: str) -> SettlementCheck | None:
        """The order's settlement check, under the order's row lock; None for an unknown order."""
        ...

    async def load(self, order_id: str) -> Payment | None:
        """The order with its lines (the lock is already held)."""
        ...

    async def end_settlement_check(self, order_id: str) -> None: ...

    async def reschedule_settlement_check(self, order_id: str, at: dt.datetime) -> None:
        """The next check at ``at``, one more re-publish counted."""
        ...

    async def requeue_event(self, idempotency_key: str) -> bool:
        """The outbox row of ``idempotency_key`` goes out again (same eventId, same bytes); False if retention
        removed it."""
        ...

    async def add_event(self, event: Event) -> None: ...

    async def commit(self) -> None: ...


class SettlementStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[SettlementTransaction]: ...

    async def due_for_settlement_check(self, now: dt.datetime, limit: int) -> list[str]:
        """Paid orders whose settlement check has come, the oldest first."""
        ...


class WalletSettlements(Protocol):
    async def mark_wallet_settled(self, order_id: str) -> bool:
        """A paid order is settled by wallet: no more checks. False if ``order_id`` is no paid order."""
        ...


class PaymentCounters(Protocol):
    def verdict_recorded(self, status: PaymentStatus, code: str | None) -> None: ...

    def confirm_republished(self) -> None: ...
