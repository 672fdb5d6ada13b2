"""An in-memory ledger implementing ``kiwishop.wallet.ports`` exactly, for the handlers' unit tests, and the
events they handle.

A transaction works on a copy of the ledger's state and replaces it on ``commit``; leaving without commit
keeps nothing — like the SQL unit of work. Wallets are kept by seller number, as the ledger finds them.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kiwishop.contracts.events import EventType
from kiwishop.platform.db import ConflictError
from kiwishop.platform.envelope import Envelope
from kiwishop.wallet.domain import HeldLine, LockedWallet, PaymentLine, credit_key, debit_key
from kiwishop.wallet.ports import (
    CANCELED_WHILE_HELD,
    HELD,
    RELEASED,
    Entry,
    HeldEntry,
    Ledger,
    LedgerTransaction,
    Lookup,
    RefundLookup,
)
from tests.payloads import ConfirmLine, payment_canceled, payment_confirm

_event_ids = iter(range(1, 1_000_000))


def paid(order_id: str, *lines: tuple[int, int, str, str]) -> Envelope:
    """A PAYMENT_CONFIRM with lines (paymentOrderNo, sellerNo, amount, status), as order builds it
    (tests/payloads.py)."""
    order_lines = [ConfirmLine(no, s, a, st) for no, s, a, st in lines]
    return payment_confirm(order_id, order_lines, event_id=next(_event_ids))


def canceled(
    order_id: str,
    *lines: tuple[int, int, str],
    of: Sequence[tuple[int, int, str]] = (),
    cancel_no: int = 1,
    event_id: int | None = None,
) -> Envelope:
    """A PAYMENT_CANCELED of lines (paymentOrderNo, sellerNo, amount) of the paid order with lines ``of``
    (default: these lines alone), as order builds it (tests/payloads.py)."""
    gone = [ConfirmLine(no, s, a) for no, s, a in lines]
    order_lines = [ConfirmLine(no, s, a) for no, s, a in of] or gone
    return payment_canceled(order_id, order_lines, gone, cancel_no=cancel_no, event_id=event_id or next(_event_ids))


@dataclass
class Wallet:
    wallet_no: int
    balance: Decimal
    version: int


@dataclass(frozen=True)
class Credit:
    wallet_no: int
    amount: Decimal
    order_id: str
    payment_order_no: int


@dataclass
class Held:
    line: HeldLine
    event_id: int
    released: bool = False
    canceled: bool = False  # released by a cancel: never credited


@dataclass
class Message:
    """An outbox row: ``sends`` counts how often it was made due (added, then re-queued)."""

    type: str
    key: str
    payload: dict[str, Any]
    sends: int = 1


@dataclass
class State:
    wallets: dict[int, Wallet] = field(default_factory=dict)  # seller number → wallet
    credits: dict[str, Credit] = field(default_factory=dict)  # idempotency key → credit
    debits: dict[str, Credit] = field(default_factory=dict)  # idempotency key → debit (its amount positive)
    held: dict[str, Held] = field(default_factory=dict)  # idempotency key → held line
    deliveries: list[tuple[str, int]] = field(default_factory=list)  # (consumer, event id), in order
    outbox: dict[str, Message] = field(default_factory=dict)  # idempotency key → message


class FakeLedger:
    def __init__(self) -> None:
        self.state = State()
        self.commits = 0
        self.calls: list[str] = []  # the transaction methods called, in order, across transactions
        # Sellers whose wallet a writer that bypassed the lock changes between the read and the balance update
        # (once each): the update then finds another version.
        self.moved_before_update: set[int] = set()
        self._numbers = 9_000

    def add_wallet(self, seller_no: int, *, wallet_no: int | None = None, balance: str = "0.00") -> int:
        wallet_no = wallet_no if wallet_no is not None else self.next_number()
        self.state.wallets[seller_no] = Wallet(wallet_no, Decimal(balance), 0)
        return wallet_no

    def next_number(self) -> int:
        self._numbers += 1
        return self._numbers

    def balance(self, seller_no: int) -> Decimal:
        return self.state.wallets[seller_no].balance

    def ledger_sum(self, seller_no: int) -> Decimal:
        """Σ CREDIT − Σ DEBIT of the seller's wallet: its balance, whatever happened."""
        wallet_no = self.state.wallets[seller_no].wallet_no
        credits = sum((c.amount for c in self.state.credits.values() if c.wallet_no == wallet_no), Decimal("0.00"))
        debits = sum((d.amount for d in self.state.debits.values() if d.wallet_no == wallet_no), Decimal("0.00"))
        return credits - debits

    def messages(self, event_type: EventType) -> list[Message]:
        return [m for m in self.state.outbox.values() if m.type == event_type.name]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeTransaction]:
        yield FakeTransaction(self, copy.deepcopy(self.state))


class FakeTransaction:
    def __init__(self, ledger: FakeLedger, work: State) -> None:
        self._ledger = ledger
        self._work = work

    def _call(self, name: str) -> None:
        self._ledger.calls.append(name)

    async def record_delivery(self, consumer: str, event: Envelope) -> bool:
        self._call("record_delivery")
        first = (consumer, event.event_id) not in self._work.deliveries
        self._work.deliveries.append((consumer, event.event_id))
        return first

    async def answer(self, event_type: EventType, *, key: str, payload: dict[str, Any], idempotency_key: str) -> None:
        self._call("answer")
        known = self._work.outbox.get(idempotency_key)
        if known is None:
            self._work.outbox[idempotency_key] = Message(event_type.name, key, payload)
        else:
            known.sends += 1  # the first row, its payload unchanged, made due again

    async def reply(self, event_type: EventType, *, key: str, payload: dict[str, Any], idempotency_key: str) -> None:
        self._call("reply")
        assert idempotency_key not in self._work.outbox, "the outbox's idempotency keys are unique"
        self._work.outbox[idempotency_key] = Message(event_type.name, key, payload)

    async def lookup(self, sellers: Collection[int], keys: Collection[str]) -> Lookup:
        self._call("lookup")
        wallets = {s: LockedWallet(w.wallet_no, w.version) for s, w in self._work.wallets.items() if s in sellers}
        canceled = {k for k in keys if k in self._work.held and self._work.held[k].canceled}
        return Lookup(wallets=wallets, credited={k for k in keys if k in self._work.credits}, canceled=canceled)

    async def refund_lookup(self, sellers: Collection[int], keys: Collection[str]) -> RefundLookup:
        self._call("refund_lookup")
        wallets = {s: LockedWallet(w.wallet_no, w.version) for s, w in self._work.wallets.items() if s in sellers}
        entries = {
            k: Entry(row.wallet_no, row.amount)
            for k in keys
            for row in (self._work.credits.get(k), self._work.debits.get(k))
            if row is not None
        }
        held = {
            k: HeldEntry(h.line.line.seller_no, h.line.line.amount, _state(h))
            for k in keys
            if (h := self._work.held.get(k)) is not None
        }
        return RefundLookup(wallets=wallets, entries=entries, held=held)

    async def wallet_for_update(self, seller_no: int) -> LockedWallet | None:
        self._call("wallet_for_update")
        wallet = self._work.wallets.get(seller_no)
        return None if wallet is None else LockedWallet(wallet.wallet_no, wallet.version)

    async def wallet_of(self, seller_no: int) -> int | None:
        self._call("wallet_of")
        wallet = self._work.wallets.get(seller_no)
        return None if wallet is None else wallet.wallet_no

    async def open_wallet(self, seller_no: int) -> int:
        self._call("open_wallet")
        if seller_no in self._work.wallets:
            raise ConflictError(f"wallet of seller {seller_no} created concurrently")
        wallet_no = self._ledger.next_number()
        self._work.wallets[seller_no] = Wallet(wallet_no, Decimal("0.00"), 0)
        return wallet_no

    async def add_to_balances(self, totals: Mapping[int, Decimal], wallets: Mapping[int, LockedWallet]) -> None:
        self._call("add_to_balances")
        for seller_no in set(totals) & self._ledger.moved_before_update:
            self._ledger.moved_before_update.discard(seller_no)
            self._work.wallets[seller_no].version += 1
        by_number = {w.wallet_no: w for w in self._work.wallets.values()}
        moved = [s for s in totals if by_number[wallets[s].wallet_no].version != wallets[s].version]
        if moved:
            raise ConflictError(f"{len(moved)} wallet(s) changed since they were read")
        for seller_no, amount in totals.items():
            wallet = by_number[wallets[seller_no].wallet_no]
            wallet.balance += amount
            wallet.version += 1

    async def credited(self, keys: Collection[str]) -> set[str]:
        self._call("credited")
        return {k for k in keys if k in self._work.credits}

    async def credit(self, order_id: str, lines: Sequence[PaymentLine], wallet_no_of: Mapping[int, int]) -> None:
        self._call("credit")
        for line in lines:
            key = credit_key(order_id, line.payment_order_no)
            if key in self._work.credits:
                raise ConflictError(f"order {order_id} was credited concurrently")
            self._work.credits[key] = Credit(wallet_no_of[line.seller_no], line.amount, order_id, line.payment_order_no)

    async def debit(self, order_id: str, lines: Sequence[PaymentLine], wallet_no_of: Mapping[int, int]) -> None:
        self._call("debit")
        for line in lines:
            key = debit_key(order_id, line.payment_order_no)
            if key in self._work.debits:
                raise ConflictError(f"order {order_id} was debited concurrently")
            self._work.debits[key] = Credit(wallet_no_of[line.seller_no], line.amount, order_id, line.payment_order_no)

    async def hold(self, event_id: int, order_id: str, lines: Sequence[PaymentLine]) -> int:
        self._call("hold")
        new = 0
        for line in lines:
            key = credit_key(order_id, line.payment_order_no)
            if key not in self._work.held:
                self._work.held[key] = Held(HeldLine(key, order_id, line), event_id)
                new += 1
        return new

    async def held_for_update(self, seller_no: int) -> list[HeldLine]:
        self._call("held_for_update")
        return [
            h.line for k, h in sorted(self._work.held.items()) if h.line.line.seller_no == seller_no and not h.released
        ]

    async def mark_released(self, keys: Collection[str]) -> None:
        self._call("mark_released")
        for key in keys:
            self._work.held[key].released = True

    async def cancel_held(self, keys: Collection[str]) -> None:
        self._call("cancel_held")
        for key in keys:
            held = self._work.held[key]
            if held.released:
                raise ConflictError("a held line was released since it was read")
            held.released = held.canceled = True

    async def hold_canceled(self, event_id: int, order_id: str, lines: Sequence[PaymentLine]) -> None:
        self._call("hold_canceled")
        for line in lines:
            key = credit_key(order_id, line.payment_order_no)
            if key in self._work.held:
                raise ConflictError(f"order {order_id}: a canceled line was held meanwhile")
            self._work.held[key] = Held(HeldLine(key, order_id, line), event_id, released=True, canceled=True)

    async def commit(self) -> None:
        self._call("commit")
        self._ledger.state = self._work
        self._ledger.commits += 1


def _state(held: Held) -> str:
    return CANCELED_WHILE_HELD if held.canceled else RELEASED if held.released else HELD


def _fakes_are_the_ports(ledger: FakeLedger, tx: FakeTransaction) -> tuple[Ledger, LedgerTransaction]:
    return ledger, tx  # mypy checks the fakes against the Protocols here
