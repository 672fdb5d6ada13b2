"""What seller's handlers work through, as Protocols, so a unit test can hand them fakes: the saga's and
the sellers' rows inside one transaction, and the events that transaction writes (through the outbox:
wallet's command, the lifecycle announcements). ``repository`` implements them over SQL and the outbox."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from kiwishop.seller.domain import Registration, RegistrationState, Seller


class Registrations(Protocol):
    """The registration sagas (``seller_registrations``), inside the caller's transaction."""

    async def add(self, registration: Registration, *, now: dt.datetime, due_at: dt.datetime) -> None:
        """A new saga whose first wallet request is due for an answer by ``due_at``."""

    async def get(self, registration_id: int) -> Registration | None: ...

    async def move(
        self,
        registration_id: int,
        *,
        expected: RegistrationState,
        target: RegistrationState,
        last_error: str | None,
        now: dt.datetime,
    ) -> bool:
        """``expected`` → ``target``; False when the saga was not in ``expected`` (nothing changed)."""

    async def claim_due(self, *, now: dt.datetime, limit: int) -> list[Registration]:
        """WALLET_REQUESTED sagas whose answer is overdue, oldest first, locked for this transaction; a saga
        another transaction holds is skipped."""

    async def ask_again(self, registration: Registration, *, now: dt.datetime, due_at: dt.datetime) -> bool:
        """One more request counted (``attempts + 1``, due again at ``due_at``); False when the saga moved or
        was counted meanwhile (nothing changed)."""

    async def latest_of(self, seller_nos: list[int]) -> dict[int, Registration]:
        """seller number → its newest saga; absent for a seller without one."""


class Sellers(Protocol):
    """The sellers (``sellers``), inside the caller's transaction."""

    async def add(self, *, seller_no: int, seller_id: str, now: dt.datetime) -> bool:
        """A live seller, announced at ``now``; False when a live seller has this sellerId (nothing written)."""

    async def delete(self, seller_no: int, *, now: dt.datetime) -> bool:
        """Soft-delete a live seller (announced at ``now``); False when it was deleted already."""

    async def claim_unannounced(self, *, limit: int) -> list[Seller]:
        """Sellers without any lifecycle event yet, by seller number, locked (others' claims skipped)."""

    async def mark_announced(self, seller_nos: list[int], *, now: dt.datetime) -> None: ...


class SellerEvents(Protocol):
    """What seller tells the others, written in the caller's transaction (delivered after its commit)."""

    async def wallet_requested(self, *, registration_id: int, seller_no: int, seller_id: str, attempt: int) -> None:
        """WALLET_CREATE_REQUESTED, the same saga id on every attempt."""

    async def registered(self, *, seller_no: int, seller_id: str, registration_id: int | None) -> None:
        """SELLER_REGISTERED."""

    async def deregistered(self, *, seller_no: int, seller_id: str, reason: str) -> None:
        """SELLER_DEREGISTERED."""


@dataclass(frozen=True)
class SellerTx:
    """The ports one seller transaction works through."""

    registrations: Registrations
    sellers: Sellers
    events: SellerEvents
