"""What wallet's handlers need from outside, as Protocols: the ledger — wallets, credits, debits, held lines, and
the messages that arrive and leave with them — one transaction at a time.

``repository.py`` implements it over SQL (one statement per method); the unit tests over dictionaries. Every
method works inside the transaction it is called on; nothing is kept unless ``commit`` is awaited, and
leaving the ``transaction()`` block otherwise rolls everything back. A method that finds the ledger moved
under it (a version checked, a key taken meanwhile) raises ``ConflictError``: the caller re-runs the whole
transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from kiwishop.contracts.events import EventType
from kiwishop.platform.envelope import Envelope
from kiwishop.wallet.domain import HeldLine, LockedWallet, PaymentLine


@dataclass(frozen=True)
class Lookup:
    """What settlement reads first: seller number → its wallet (locked), the keys already credited, and the
    keys of lines canceled while they were held (never to be credited)."""

    wallets: dict[int, LockedWallet]
    credited: set[str]
    canceled: set[str] = field(default_factory=set)


HELD, RELEASED, CANCELED_WHILE_HELD = "HELD", "RELEASED", "CANCELED"  # the states of a held line


@dataclass(frozen=True)
class Entry:
    """A ledger row found by its idempotency key: the wallet it went to and its amount."""

    wallet_no: int
    amount: Decimal


@dataclass(frozen=True)
class HeldEntry:
    """A held line found by its credit key: HELD (waiting for the seller's wallet), RELEASED (credited since) or
    CANCELED (canceled while held, or before it arrived: never credited)."""

    seller_no: int
    amount: Decimal
    state: str


@dataclass(frozen=True)
class RefundLookup:
    """What a cancel reads first: seller number → its wallet (locked), the credits and debits already written
    (by idempotency key) and the held lines (by credit key, locked)."""

    wallets: dict[int, LockedWallet]
    entries: dict[str, Entry]
    held: dict[str, HeldEntry]


class LedgerTransaction(Protocol):
    """One transaction on the ledger."""

    # deliveries and the replies to them (processed_messages, outbox)

    async def record_delivery(self, consumer: str, event: Envelope) -> bool:
        """Note ``event`` as handled by ``consumer``; False when it already was."""
        ...

    async def answer(self, event_type: EventType, *, key: str, payload: dict[str, Any], idempotency_key: str) -> None:
        """A reply repeated whenever its request is: a new message, or the one of ``idempotency_key`` — with
        its first event id and payload — sent again."""
        ...

    async def reply(self, event_type: EventType, *, key: str, payload: dict[str, Any], idempotency_key: str) -> None:
        """A reply sent once."""
        ...

    # wallets

    async def lookup(self, sellers: Collection[int], keys: Collection[str]) -> Lookup:
        """The wallets of ``sellers``, locked, and which of ``keys`` are already credited or were canceled
        while held — in one go."""
        ...

    async def refund_lookup(self, sellers: Collection[int], keys: Collection[str]) -> RefundLookup:
        """The wallets of ``sellers`` (locked), the ledger rows of ``keys`` (credit and debit keys) and the held
        lines of ``keys`` (locked) — in one go."""
        ...

    async def wallet_for_update(self, seller_no: int) -> LockedWallet | None:
        """The seller's wallet, locked; None when the seller has none."""
        ...

    async def wallet_of(self, seller_no: int) -> int | None:
        """The seller's wallet number, unlocked; None when the seller has none."""
        ...

    async def open_wallet(self, seller_no: int) -> int:
        """A new empty wallet for the seller; its number. ``ConflictError`` if one was opened meanwhile."""
        ...

    async def add_to_balances(self, totals: Mapping[int, Decimal], wallets: Mapping[int, LockedWallet]) -> None:
        """Each seller's wallet grows by its total (shrinks by a negative one, below zero too) and moves to its
        next version — all or nothing: ``ConflictError`` when any wallet's version is no longer the one in
        ``wallets``."""
        ...

    # credits and held lines

    async def credited(self, keys: Collection[str]) -> set[str]:
        """Which of ``keys`` are already credited."""
        ...

    async def credit(self, order_id: str, lines: Sequence[PaymentLine], wallet_no_of: Mapping[int, int]) -> None:
        """One CREDIT per line into its seller's wallet (``wallet_no_of``: seller number → wallet number),
        keyed ``credit_key(order_id, line)``; ``ConflictError`` when a key was credited meanwhile."""
        ...

    async def debit(self, order_id: str, lines: Sequence[PaymentLine], wallet_no_of: Mapping[int, int]) -> None:
        """One DEBIT per line (its amount, positive) from its seller's wallet, keyed ``debit_key(order_id, line)``;
        ``ConflictError`` when a key was debited meanwhile."""
        ...

    async def hold(self, event_id: int, order_id: str, lines: Sequence[PaymentLine]) -> int:
        """Hold lines of sellers without a wallet (a line already held stays as it is); the number newly held."""
        ...

    async def held_for_update(self, seller_no: int) -> list[HeldLine]:
        """The seller's lines still held, locked, in key order."""
        ...

    async def mark_released(self, keys: Collection[str]) -> None:
        """These held lines are settled now."""
        ...

    async def cancel_held(self, keys: Collection[str]) -> None:
        """These held lines are canceled: released without a credit, and never credited later. ``ConflictError``
        when one of them is no longer held."""
        ...

    async def hold_canceled(self, event_id: int, order_id: str, lines: Sequence[PaymentLine]) -> None:
        """Lines canceled before they were settled, for sellers without a wallet: held as canceled already, so
        that their PAYMENT_CONFIRM neither holds nor credits them. ``ConflictError`` when one was held meanwhile."""
        ...

    async def commit(self) -> None: ...


class Ledger(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[LedgerTransaction]:
        """``async with ledger.transaction() as tx: ...; await tx.commit()``."""
        ...
