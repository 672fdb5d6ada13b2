"""In-memory stand-ins for seller's ports (``kiwishop.seller.ports``): the saga and seller rows of one
transaction, and the events it writes, as lists a test can read."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from kiwishop.seller.domain import Registration, RegistrationState, Seller
from kiwishop.seller.ports import SellerTx


class FakeRegistrations:
    def __init__(self) -> None:
        self.rows: dict[int, Registration] = {}
        self.due_at: dict[int, dt.datetime] = {}

    async def add(self, registration: Registration, *, now: dt.datetime, due_at: dt.datetime) -> None:
        self.rows[registration.registration_id] = registration
        self.due_at[registration.registration_id] = due_at

    async def get(self, registration_id: int) -> Registration | None:
        return self.rows.get(registration_id)

    async def move(
        self,
        registration_id: int,
        *,
        expected: RegistrationState,
        target: RegistrationState,
        last_error: str | None,
        now: dt.datetime,
    ) -> bool:
        row = self.rows.get(registration_id)
        if row is None or row.state is not expected:
            return False
        self.rows[registration_id] = dataclasses.replace(row, state=target, last_error=last_error)
        return True

    async def claim_due(self, *, now: dt.datetime, limit: int) -> list[Registration]:
        due = [
            row
            for row in self.rows.values()
            if row.state is RegistrationState.WALLET_REQUESTED and self.due_at[row.registration_id] <= now
        ]
        return sorted(due, key=lambda row: self.due_at[row.registration_id])[:limit]

    async def ask_again(self, registration: Registration, *, now: dt.datetime, due_at: dt.datetime) -> bool:
        row = self.rows.get(registration.registration_id)
        if row is None or row.state is not RegistrationState.WALLET_REQUESTED or row.attempts != registration.attempts:
            return False
        self.rows[row.registration_id] = dataclasses.replace(row, attempts=row.attempts + 1)
        self.due_at[row.registration_id] = due_at
        return True

    async def latest_of(self, seller_nos: list[int]) -> dict[int, Registration]:
        return {row.seller_no: row for row in self.rows.values() if row.seller_no in seller_nos}


class FakeSellers:
    def __init__(self) -> None:
        self.rows: dict[int, Seller] = {}
        self.announced: dict[int, dt.datetime | None] = {}

    async def add(self, *, seller_no: int, seller_id: str, now: dt.datetime) -> bool:
        if any(s.seller_id == seller_id and not s.is_deleted for s in self.rows.values()):
            return False
        self.rows[seller_no] = Seller(seller_no, seller_id, is_deleted=False, created_at=now)
        self.announced[seller_no] = now
        return True

    async def delete(self, seller_no: int, *, now: dt.datetime) -> bool:
        seller = self.rows.get(seller_no)
        if seller is None or seller.is_deleted:
            return False
        self.rows[seller_no] = dataclasses.replace(seller, is_deleted=True)
        self.announced[seller_no] = now
        return True

    async def claim_unannounced(self, *, limit: int) -> list[Seller]:
        return [self.rows[n] for n in sorted(self.rows) if self.announced.get(n) is None][:limit]

    async def mark_announced(self, seller_nos: list[int], *, now: dt.datetime) -> None:
        for seller_no in seller_nos:
            self.announced[seller_no] = now


class FakeEvents:
    def __init__(self) -> None:
        self.written: list[tuple[str, dict[str, Any]]] = []

    async def wallet_requested(self, *, registration_id: int, seller_no: int, seller_id: str, attempt: int) -> None:
        fields = {"registration_id": registration_id, "seller_no": seller_no, "attempt": attempt}
        self.written.append(("WALLET_CREATE_REQUESTED", fields))

    async def registered(self, *, seller_no: int, seller_id: str, registration_id: int | None) -> None:
        self.written.append(("SELLER_REGISTERED", {"seller_no": seller_no, "registration_id": registration_id}))

    async def deregistered(self, *, seller_no: int, seller_id: str, reason: str) -> None:
        self.written.append(("SELLER_DEREGISTERED", {"seller_no": seller_no, "reason": reason}))

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [fields for kind, fields in self.written if kind == event_type]


@dataclasses.dataclass
class FakeSeller:
    """One fake database and outbox; ``tx`` is what a handler gets."""

    registrations: FakeRegistrations = dataclasses.field(default_factory=FakeRegistrations)
    sellers: FakeSellers = dataclasses.field(default_factory=FakeSellers)
    events: FakeEvents = dataclasses.field(default_factory=FakeEvents)

    @property
    def tx(self) -> SellerTx:
        return SellerTx(self.registrations, self.sellers, self.events)
