"""In-memory implementations of order's ports (``kiwishop.order.ports``) for the handlers' unit tests.

The store keeps its rows in dicts; a transaction works on a copy of them and replaces the store's only when it
commits, so a handler that leaves without committing has written nothing — as with the database.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from kiwishop.order.cancellation import Cancel, CancelAnswer
from kiwishop.order.domain import CatalogProduct, Event, Line, Payment, PaymentKeyTaken, PaymentStatus
from kiwishop.order.ports import SettlementCheck
from kiwishop.order.psp_sync import PspRead
from kiwishop.order.verdicts import Policy, PspResult, Timing

AMOUNT = Decimal("6000.00")
TIMING = Timing(
    policy=Policy(
        authorization_window=dt.timedelta(minutes=15), horizon=dt.timedelta(hours=24),
        backoff_base=dt.timedelta(seconds=1), backoff_max=dt.timedelta(seconds=60),
    ),
    lease=dt.timedelta(seconds=60), quarantine_recheck=dt.timedelta(hours=1), settlement_grace=dt.timedelta(seconds=30),
)  # fmt: skip


class FakeIds:
    def __init__(self, start: int = 1000) -> None:
        self._next = itertools.count(start)

    def next_id(self) -> int:
        return next(self._next)


@dataclass
class FakeCatalog:
    products: dict[int, CatalogProduct]
    asked: list[list[int]] = field(default_factory=list)

    async def find(self, product_nos: list[int]) -> dict[int, CatalogProduct]:
        self.asked.append(list(product_nos))
        return {n: self.products[n] for n in product_nos if n in self.products}


@dataclass(frozen=True)
class Cancellation:
    payment_key: str
    order_id: str
    reason: str
    idempotency_key: str


@dataclass(frozen=True)
class Refund:
    payment_key: str
    amount: Decimal
    reason: str
    idempotency_key: str


@dataclass
class FakeGateway:
    """Answers each kind of question with the next scripted answer; remembers every question asked."""

    approvals: list[PspResult] = field(default_factory=list)
    lookups: list[PspResult] = field(default_factory=list)
    resolutions: list[PspResult] = field(default_factory=list)
    cancels: list[PspResult] = field(default_factory=list)
    refunds: list[CancelAnswer] = field(default_factory=list)  # answers to cancels of lines (``refund``)
    refunded: list[Refund] = field(default_factory=list)
    reads: list[PspRead] = field(default_factory=list)  # what the PSP reports of a payment (``read``)
    asked: list[tuple[str, str, str | None]] = field(default_factory=list)  # (question, orderId, paymentKey)
    cancellations: list[Cancellation] = field(default_factory=list)
    answers: int = 0  # what ``answered`` reports

    @property
    def answered(self) -> int:
        return self.answers

    async def approve(self, payment_key: str, order_id: str, amount: Decimal) -> PspResult:
        self.asked.append(("approve", order_id, payment_key))
        return self.approvals.pop(0)

    async def lookup(
        self, order_id: str, amount: Decimal, payment_key: str | None, *, by_order: bool = False
    ) -> PspResult:
        self.asked.append(("lookup_by_order" if by_order else "lookup", order_id, payment_key))
        return self.lookups.pop(0)

    async def resolve(self, order_id: str, amount: Decimal, payment_key: str) -> PspResult:
        self.asked.append(("resolve", order_id, payment_key))
        return self.resolutions.pop(0)

    async def cancel(self, payment_key: str, order_id: str, *, reason: str, idempotency_key: str) -> PspResult:
        self.asked.append(("cancel", order_id, payment_key))
        self.cancellations.append(Cancellation(payment_key, order_id, reason, idempotency_key))
        return self.cancels.pop(0)

    async def refund(self, payment_key: str, *, amount: Decimal, reason: str, idempotency_key: str) -> CancelAnswer:
        self.refunded.append(Refund(payment_key, amount, reason, idempotency_key))
        return self.refunds.pop(0)

    async def read(self, payment_key: str) -> PspRead:
        self.asked.append(("read", "", payment_key))
        return self.reads.pop(0)


@dataclass(frozen=True)
class History:
    order_id: str
    payment_order_no: int
    previous: PaymentStatus | None
    new: PaymentStatus
    reason: str
    changed_by: str


@dataclass
class Rows:
    payments: dict[str, Payment] = field(default_factory=dict)
    checks: dict[str, SettlementCheck] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)  # the outbox, in the order written
    requeued: list[str] = field(default_factory=list)  # idempotency keys of outbox rows made due again
    history: list[History] = field(default_factory=list)
    cancels: dict[str, list[Cancel]] = field(default_factory=dict)  # an order's cancels (``cancel_fakes``)


class FakeTransaction:
    """``PaymentTransaction``, ``SettlementTransaction`` and ``WalletSettlements`` on a copy of the rows."""

    def __init__(self, store: FakePaymentStore) -> None:
        self._store = store
        self.rows = copy.deepcopy(store.rows)

    async def load_for_update(self, order_id: str) -> Payment | None:
        return await self.load(order_id)

    async def load(self, order_id: str) -> Payment | None:
        return copy.deepcopy(self.rows.payments.get(order_id))

    async def insert(self, payment: Payment) -> None:
        self.rows.payments[payment.order_id] = copy.deepcopy(payment)
        for line in payment.lines:
            self.rows.history.append(
                History(payment.order_id, line.payment_order_no, None, PaymentStatus.NOT_STARTED, "CHECKOUT", "api")
            )

    async def move(
        self,
        payment: Payment,
        to: PaymentStatus,
        *,
        reason: str,
        changed_by: str,
        values: Mapping[str, object] | None = None,
    ) -> bool:
        stored = self.rows.payments.get(payment.order_id)
        if stored is None or stored.status is not payment.status:
            return False
        values = dict(values or {})
        key = values.get("payment_key")
        if key is not None and any(p.payment_key == key for p in self.rows.payments.values() if p is not stored):
            raise PaymentKeyTaken(payment.order_id)
        for line in stored.lines:
            self.rows.history.append(
                History(payment.order_id, line.payment_order_no, payment.status, to, reason, changed_by)
            )
        check_at = values.pop("settle_check_at", None)
        if isinstance(check_at, dt.datetime):
            self.rows.checks[payment.order_id] = SettlementCheck(check_at, 0)
        for row in (stored, payment):
            for line in row.lines:
                line.status = to
            for name, value in values.items():
                setattr(row, name, value)
        return True

    async def add_event(self, event: Event) -> None:
        self.rows.events.append(copy.deepcopy(event))

    async def requeue_event(self, idempotency_key: str) -> bool:
        if not any(e.idempotency_key == idempotency_key for e in self.rows.events):
            return False
        self.rows.requeued.append(idempotency_key)
        return True

    async def lock_settlement_check(self, order_id: str) -> SettlementCheck | None:
        if order_id not in self.rows.payments:
            return None
        return self.rows.checks.get(order_id, SettlementCheck(None, 0))

    async def end_settlement_check(self, order_id: str) -> None:
        check = self.rows.checks.get(order_id, SettlementCheck(None, 0))
        self.rows.checks[order_id] = SettlementCheck(None, check.republished)

    async def reschedule_settlement_check(self, order_id: str, at: dt.datetime) -> None:
        check = self.rows.checks.get(order_id, SettlementCheck(None, 0))
        self.rows.checks[order_id] = SettlementCheck(at, check.republished + 1)

    async def mark_wallet_settled(self, order_id: str) -> bool:
        payment = self.rows.payments.get(order_id)
        if payment is None or not payment.is_payment_done:
            return False
        payment.is_wallet_done = True
        await self.end_settlement_check(order_id)
        return True

    async def commit(self) -> None:
        self._store.rows = self.rows
        self.rows = copy.deepcopy(self.rows)


class FakePaymentStore:
    """``PaymentStore`` and ``SettlementStore`` in dicts; ``rows`` is what is committed."""

    def __init__(self, *payments: Payment) -> None:
        self.rows = Rows()
        self.transactions = 0
        for payment in payments:
            self.rows.payments[payment.order_id] = copy.deepcopy(payment)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeTransaction]:
        self.transactions += 1
        yield FakeTransaction(self)

    async def find(self, order_id: str) -> Payment | None:
        return copy.deepcopy(self.rows.payments.get(order_id))

    async def due_for_recovery(self, now: dt.datetime, limit: int) -> list[str]:
        due = [p for p in self.rows.payments.values() if p.next_attempt_at is not None and p.next_attempt_at <= now]
        return [p.order_id for p in sorted(due, key=lambda p: p.next_attempt_at or now)][:limit]

    async def bring_forward_unknown(self, now: dt.datetime) -> int:
        backing_off = [
            p
            for p in self.rows.payments.values()
            if p.status is PaymentStatus.UNKNOWN and p.next_attempt_at is not None and p.next_attempt_at > now
        ]
        for payment in backing_off:
            payment.next_attempt_at = now
        return len(backing_off)

    async def due_for_settlement_check(self, now: dt.datetime, limit: int) -> list[str]:
        due = [(c.check_at, o) for o, c in self.rows.checks.items() if c.check_at is not None and c.check_at <= now]
        return [order_id for _, order_id in sorted(due)][:limit]

    def stored(self, order_id: str) -> Payment:
        return self.rows.payments[order_id]


@dataclass
class FakeCounters:
    verdicts: list[tuple[PaymentStatus, str | None]] = field(default_factory=list)
    republished: int = 0

    def verdict_recorded(self, status: PaymentStatus, code: str | None) -> None:
        self.verdicts.append((status, code))

    def confirm_republished(self) -> None:
        self.republished += 1


def an_order(
    order_id: str = "order-1",
    *,
    status: PaymentStatus = PaymentStatus.NOT_STARTED,
    amount: Decimal = AMOUNT,
    lines: int = 2,
    **stored: object,
) -> Payment:
    """An order of ``lines`` lines (seller 1, products 1…) adding up to ``amount``, every line in ``status``."""
    share = amount / lines
    payment = Payment(
        payment_event_no=1, member_no=7, order_id=order_id, order_name="상품A 그외", total_amount=amount,
        payment_key=None, approved_at=None, is_payment_done=False, is_wallet_done=False, failure_code=None,
        failure_message=None,
        lines=[Line(100 + n, n + 1, 1, f"상품{n + 1}", share, status) for n in range(lines)],
    )  # fmt: skip
    for name, value in stored.items():
        setattr(payment, name, value)
    return payment
