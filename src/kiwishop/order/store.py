"""The payment store on MariaDB: ``SqlPaymentStore`` implements the store ports of ``ports.py`` (payments,
settlement checks, wallet results) on the SQL of ``repository.py``, the platform's unit of work and the
outbox. Each port call is the statement(s) it always was: a handler's transaction is the same sequence of
statements and round trips as its SQL written out by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from kiwishop.order import repository
from kiwishop.order.domain import Event, Payment, PaymentKeyTaken, PaymentStatus
from kiwishop.order.ports import SettlementCheck
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox

_DUE = text("SELECT order_id FROM payment_events WHERE next_attempt_at <= :now ORDER BY next_attempt_at LIMIT :limit")
_PULL_IN = text(
    "UPDATE payment_events e JOIN payment_orders o ON o.payment_event_no = e.payment_event_no"
    " SET e.next_attempt_at = :now WHERE o.payment_order_status = 'UNKNOWN' AND e.next_attempt_at > :now"
)
_SETTLE_DUE = text(
    "SELECT order_id FROM payment_events WHERE settle_check_at <= :now ORDER BY settle_check_at LIMIT :limit"
)
_SETTLE_STATE = text(
    "SELECT settle_check_at, republish_count FROM payment_events WHERE order_id = :order_id FOR UPDATE"
)
_SETTLE_RESCHEDULE = text(
    "UPDATE payment_events SET settle_check_at = :next, republish_count = republish_count + 1 WHERE order_id = :o"
)
_SETTLE_DONE = text("UPDATE payment_events SET settle_check_at = NULL WHERE order_id = :o")


class SqlPaymentTransaction:
    """One unit of work on the order schema (``PaymentTransaction``, ``SettlementTransaction``,
    ``WalletSettlements``)."""

    def __init__(self, uow: UnitOfWork, ids: Snowflake, outbox: Outbox, topic: str) -> None:
        self._uow = uow
        self._ids = ids
        self._outbox = outbox
        self._topic = topic

    async def load_for_update(self, order_id: str) -> Payment | None:
        return await repository.load_in(self._uow, order_id, for_update=True)

    async def load(self, order_id: str) -> Payment | None:
        return await repository.load_in(self._uow, order_id)

    async def insert(self, payment: Payment) -> None:
        await repository.insert_payment(self._uow, self._ids, payment, utcnow())

    async def move(
        self,
        payment: Payment,
        to: PaymentStatus,
        *,
        reason: str,
        changed_by: str,
        values: Mapping[str, object] | None = None,
    ) -> bool:
        try:
            return await repository.move(
                self._uow, self._ids, payment, to, reason=reason, changed_by=changed_by,
                event_values=dict(values) if values else None,
            )  # fmt: skip
        except IntegrityError as exc:  # the only unique key a move can hit: payment_key
            raise PaymentKeyTaken(payment.order_id) from exc

    async def add_event(self, event: Event) -> None:
        await self._outbox.add(
            self._uow, topic=self._topic, key=event.key, event_type=event.type, payload=event.payload,
            idempotency_key=event.idempotency_key, event_id=event.event_id,
        )  # fmt: skip

    async def requeue_event(self, idempotency_key: str) -> bool:
        return await self._outbox.requeue(self._uow, idempotency_key)

    async def lock_settlement_check(self, order_id: str) -> SettlementCheck | None:
        row = (await self._uow.conn.execute(_SETTLE_STATE, {"order_id": order_id})).first()
        return None if row is None else SettlementCheck(row.settle_check_at, int(row.republish_count))

    async def end_settlement_check(self, order_id: str) -> None:
        await self._uow.conn.execute(_SETTLE_DONE, {"o": order_id})

    async def reschedule_settlement_check(self, order_id: str, at: dt.datetime) -> None:
        await self._uow.conn.execute(_SETTLE_RESCHEDULE, {"next": at, "o": order_id})

    async def mark_wallet_settled(self, order_id: str) -> bool:
        result = await self._uow.run(repository.WALLET_SETTLED, {"settled_order_id": order_id})
        return bool(result.rowcount)

    async def commit(self) -> None:
        await self._uow.commit()


class SqlPaymentStore:
    """``PaymentStore`` and ``SettlementStore`` on the order schema; events go to ``topic``."""

    def __init__(self, db: Database, ids: Snowflake, outbox: Outbox, *, topic: str) -> None:
        self._db = db
        self._ids = ids
        self._outbox = outbox
        self._topic = topic

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlPaymentTransaction]:
        async with self._db.uow() as uow:
            yield self.within(uow)

    def within(self, uow: UnitOfWork) -> SqlPaymentTransaction:
        """The store inside a unit of work someone else opened (the inbox's, for a consumed event)."""
        return SqlPaymentTransaction(uow, self._ids, self._outbox, self._topic)

    async def find(self, order_id: str) -> Payment | None:
        async with self._db.uow() as uow:  # a read: nothing is committed
            return await repository.load_in(uow, order_id)

    async def due_for_recovery(self, now: dt.datetime, limit: int) -> list[str]:
        async with self._db.engine.connect() as conn:
            return [row.order_id for row in await conn.execute(_DUE, {"now": now, "limit": limit})]

    async def bring_forward_unknown(self, now: dt.datetime) -> int:
        async with self._db.uow() as uow:
            moved = await uow.conn.execute(_PULL_IN, {"now": now})
            await uow.commit()
        return int(moved.rowcount)

    async def due_for_settlement_check(self, now: dt.datetime, limit: int) -> list[str]:
        async with self._db.engine.connect() as conn:
            return [row.order_id for row in await conn.execute(_SETTLE_DUE, {"now": now, "limit": limit})]
