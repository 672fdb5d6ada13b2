"""The ledger over SQL (``ports.Ledger``): one unit of work per transaction, one statement per method.

The statements are the service's only copy of its write SQL — the benchmark's replay sends these same ones.
Settlement's are shaped for round trips: one ``UNION ALL`` reads the order's wallets (``FOR UPDATE``, in
seller-number order, so concurrent settlements of the same wallets queue instead of failing each other's
version check) together with the credit keys already taken; one ``INSERT`` writes all the order's credits;
one ``UPDATE`` grows all its wallets, each under its version check (fewer matched rows than wallets is a
conflict — our MySQL dialect reports *matched* rows). With a handful of hot wallets and a consumer handling
partitions concurrently, optimistic-only locking re-ran ~40% of the transactions and settled fewer orders per
second than a single partition (the settlement benchmark); the version check stays, so a writer that bypasses
the lock is still detected.

A cancel (``refunds.py``) is shaped the same way (``refund_sql.py``): one lookup, one ``INSERT`` of its DEBIT
rows (the same statement as the credits'), one ``UPDATE`` of its wallets (the same, with negative amounts).
Settlement's lookup also reads which of its keys were canceled while held, so a repeated PAYMENT_CONFIRM never
credits a line canceled before its seller had a wallet.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import TextClause, bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError

from kiwishop.contracts.events import EventType
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import ConflictError, Database, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.inbox import claim
from kiwishop.platform.outbox import Outbox
from kiwishop.wallet import refund_sql
from kiwishop.wallet.domain import (
    CREDIT,
    DEBIT,
    REFERENCE_PAYMENT_ORDER,
    SUCCESS,
    HeldLine,
    LockedWallet,
    PaymentLine,
    credit_key,
    debit_key,
)
from kiwishop.wallet.ports import Lookup, RefundLookup
from kiwishop.wallet.tables import wallet_transactions, wallets

_DUPLICATE_KEY = 1062

LOOKUP = text(
    "(SELECT seller_no, wallet_no, version, NULL AS credited_key, NULL AS canceled_key FROM wallets"
    " WHERE seller_no IN :sellers FOR UPDATE)"
    " UNION ALL"
    " (SELECT NULL, NULL, NULL, idempotency_key, NULL FROM wallet_transactions WHERE idempotency_key IN :keys)"
    " UNION ALL"
    " (SELECT NULL, NULL, NULL, NULL, idempotency_key FROM held_settlements WHERE idempotency_key IN :keys"
    " AND canceled_at IS NOT NULL)"
).bindparams(bindparam("sellers", expanding=True), bindparam("keys", expanding=True))
WALLET_FOR_UPDATE = text("SELECT wallet_no, version FROM wallets WHERE seller_no = :s FOR UPDATE")
WALLET_OF = select(wallets.c.wallet_no)
INSERT_WALLET = insert(wallets)
INSERT_TRANSACTIONS = insert(wallet_transactions)
INSERT_CREDITS = INSERT_TRANSACTIONS  # and the debits: one statement, one row per line
CREDITED = text("SELECT idempotency_key FROM wallet_transactions WHERE idempotency_key IN :keys").bindparams(
    bindparam("keys", expanding=True)
)
HOLD = text(
    "INSERT IGNORE INTO held_settlements (idempotency_key, order_id, payment_order_no, seller_no, amount, event_id,"
    " created_at) VALUES (:k, :o, :p, :s, :a, :e, :now)"
)
HELD_FOR_UPDATE = text(
    "SELECT idempotency_key, order_id, payment_order_no, amount FROM held_settlements"
    " WHERE seller_no = :s AND released_at IS NULL ORDER BY idempotency_key FOR UPDATE"
)
RELEASE = text("UPDATE held_settlements SET released_at = :now WHERE idempotency_key IN :keys").bindparams(
    bindparam("keys", expanding=True)
)


@functools.lru_cache(maxsize=64)
def update_balances(wallets: int) -> TextClause:
    """For every wallet i: balance + a_i, version + 1 WHERE wallet_no = w_i AND version = v_i — one statement."""
    amounts = " ".join(f"WHEN :w{i} THEN :a{i}" for i in range(wallets))
    checks = " OR ".join(f"(wallet_no = :w{i} AND version = :v{i})" for i in range(wallets))
    return text(
        f"UPDATE wallets SET balance = balance + CASE wallet_no {amounts} END,"
        f" version = version + 1, updated_at = :now WHERE {checks}"
    )


def credit_rows(
    ids: Snowflake, order_id: str, lines: Sequence[PaymentLine], wallet_no_of: Mapping[int, int], now: dt.datetime
) -> list[dict[str, Any]]:
    """The ``INSERT_CREDITS`` rows of ``lines``: one CREDIT each, keyed ``credit_key(order_id, line)``."""
    return transaction_rows(ids, CREDIT, order_id, lines, wallet_no_of, now)


def debit_rows(
    ids: Snowflake, order_id: str, lines: Sequence[PaymentLine], wallet_no_of: Mapping[int, int], now: dt.datetime
) -> list[dict[str, Any]]:
    """The ``INSERT_TRANSACTIONS`` rows of canceled ``lines``: one DEBIT each (the line's amount, positive: the
    type says which way it goes), keyed ``debit_key(order_id, line)``."""
    return transaction_rows(ids, DEBIT, order_id, lines, wallet_no_of, now)


def transaction_rows(
    ids: Snowflake,
    kind: str,
    order_id: str,
    lines: Sequence[PaymentLine],
    wallet_no_of: Mapping[int, int],
    now: dt.datetime,
) -> list[dict[str, Any]]:
    key = credit_key if kind == CREDIT else debit_key
    return [
        {
            "wallet_transaction_no": ids.next_id(),
            "wallet_no": wallet_no_of[line.seller_no],
            "amount": line.amount,
            "type": kind,
            "reference_id": line.payment_order_no,
            "reference_type": REFERENCE_PAYMENT_ORDER,
            "order_id": order_id,
            "idempotency_key": key(order_id, line.payment_order_no),
            "created_at": now,
            "updated_at": now,
        }
        for line in lines
    ]


def balance_params(
    totals: Mapping[int, Decimal], wallets: Mapping[int, LockedWallet], now: dt.datetime
) -> dict[str, object]:
    """The parameters of ``update_balances(len(totals))``."""
    params: dict[str, object] = {"now": now}
    for i, (seller_no, amount) in enumerate(totals.items()):
        wallet = wallets[seller_no]
        params |= {f"w{i}": wallet.wallet_no, f"a{i}": amount, f"v{i}": wallet.version}
    return params


class SqlLedger:
    def __init__(self, db: Database, outbox: Outbox, ids: Snowflake) -> None:
        self._db = db
        self._outbox = outbox
        self._ids = ids

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlLedgerTransaction]:
        async with self._db.uow() as uow:
            yield SqlLedgerTransaction(uow, self._outbox, self._ids)


class SqlLedgerTransaction:
    def __init__(self, uow: UnitOfWork, outbox: Outbox, ids: Snowflake) -> None:
        self._uow = uow
        self._outbox = outbox
        self._ids = ids
        self._now = utcnow()

    async def record_delivery(self, consumer: str, event: Envelope) -> bool:
        return await claim(self._uow, consumer, event)

    async def answer(self, event_type: EventType, *, key: str, payload: dict[str, Any], idempotency_key: str) -> None:
        await self._outbox.add_or_requeue(
            self._uow,
            topic=event_type.topic,
            key=key,
            event_type=event_type.name,
            payload=payload,
            idempotency_key=idempotency_key,
        )

    async def reply(self, event_type: EventType, *, key: str, payload: dict[str, Any], idempotency_key: str) -> None:
        await self._outbox.add(
            self._uow,
            topic=event_type.topic,
            key=key,
            event_type=event_type.name,
            payload=payload,
            idempotency_key=idempotency_key,
        )

    async def lookup(self, sellers: Collection[int], keys: Collection[str]) -> Lookup:
        result = await self._uow.run(LOOKUP, {"sellers": sorted(sellers), "keys": list(keys)})
        found = Lookup(wallets={}, credited=set(), canceled=set())
        for row in result:  # the UNION's columns are named by its first SELECT
            if row.credited_key is not None:
                found.credited.add(row.credited_key)
            elif row.canceled_key is not None:
                found.canceled.add(row.canceled_key)
            else:
                found.wallets[int(row.seller_no)] = LockedWallet(int(row.wallet_no), int(row.version))
        return found

    async def refund_lookup(self, sellers: Collection[int], keys: Collection[str]) -> RefundLookup:
        params = {"sellers": sorted(sellers), "keys": list(keys)}
        return refund_sql.refund_lookup(await self._uow.conn.execute(refund_sql.REFUND_LOOKUP, params))

    async def wallet_for_update(self, seller_no: int) -> LockedWallet | None:
        row = (await self._uow.conn.execute(WALLET_FOR_UPDATE, {"s": seller_no})).first()
        return None if row is None else LockedWallet(int(row.wallet_no), int(row.version))

    async def wallet_of(self, seller_no: int) -> int | None:
        found = await self._uow.conn.execute(WALLET_OF.where(wallets.c.seller_no == seller_no))
        wallet_no: int | None = found.scalar()
        return wallet_no

    async def open_wallet(self, seller_no: int) -> int:
        wallet_no, now = self._ids.next_id(), utcnow()
        try:
            await self._uow.conn.execute(
                INSERT_WALLET.values(
                    wallet_no=wallet_no, seller_no=seller_no, balance=0, version=0, created_at=now, updated_at=now
                )
            )
        except IntegrityError as exc:  # opened concurrently by another delivery: re-run and find it
            raise ConflictError(f"wallet of seller {seller_no} created concurrently") from exc
        return wallet_no

    async def add_to_balances(self, totals: Mapping[int, Decimal], wallets: Mapping[int, LockedWallet]) -> None:
        result = await self._uow.run(update_balances(len(totals)), balance_params(totals, wallets, self._now))
        if result.rowcount != len(totals):
            raise ConflictError(f"{len(totals) - result.rowcount} wallet(s) changed since they were read")

    async def credited(self, keys: Collection[str]) -> set[str]:
        return {row.idempotency_key for row in await self._uow.conn.execute(CREDITED, {"keys": list(keys)})}

    async def credit(self, order_id: str, lines: Sequence[PaymentLine], wallet_no_of: Mapping[int, int]) -> None:
        rows = credit_rows(self._ids, order_id, lines, wallet_no_of, self._now)
        await self._insert(INSERT_CREDITS, rows, f"order {order_id} was credited concurrently")

    async def debit(self, order_id: str, lines: Sequence[PaymentLine], wallet_no_of: Mapping[int, int]) -> None:
        rows = debit_rows(self._ids, order_id, lines, wallet_no_of, self._now)
        await self._insert(INSERT_TRANSACTIONS, rows, f"order {order_id} was debited concurrently")

    async def _insert(self, statement: Any, rows: list[dict[str, Any]], taken: str) -> None:
        try:
            await self._uow.run_many(statement, rows)
        except IntegrityError as exc:
            code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
            if code == _DUPLICATE_KEY:  # another delivery wrote a key meanwhile: re-run, then skip it
                raise ConflictError(taken) from exc
            raise

    async def hold(self, event_id: int, order_id: str, lines: Sequence[PaymentLine]) -> int:
        rows = [
            {"k": credit_key(order_id, line.payment_order_no), "o": order_id, "p": line.payment_order_no,
             "s": line.seller_no, "a": line.amount, "e": event_id, "now": self._now}
            for line in lines
        ]  # fmt: skip
        result = await self._uow.conn.execute(HOLD, rows)
        return int(result.rowcount)

    async def held_for_update(self, seller_no: int) -> list[HeldLine]:
        rows = await self._uow.conn.execute(HELD_FOR_UPDATE, {"s": seller_no})
        return [
            HeldLine(
                key=row.idempotency_key,
                order_id=row.order_id,
                line=PaymentLine(int(row.payment_order_no), seller_no, Decimal(row.amount), SUCCESS),
            )
            for row in rows
        ]

    async def mark_released(self, keys: Collection[str]) -> None:
        await self._uow.conn.execute(RELEASE, {"keys": list(keys), "now": self._now})

    async def cancel_held(self, keys: Collection[str]) -> None:
        result = await self._uow.conn.execute(refund_sql.CANCEL_HELD, {"keys": list(keys), "now": self._now})
        if result.rowcount != len(keys):
            raise ConflictError(f"{len(keys) - result.rowcount} held line(s) released since they were read")

    async def hold_canceled(self, event_id: int, order_id: str, lines: Sequence[PaymentLine]) -> None:
        rows = refund_sql.canceled_hold_rows(event_id, order_id, lines, self._now)
        await self._insert(refund_sql.HOLD_CANCELED, rows, f"order {order_id}: a canceled line was held meanwhile")

    async def commit(self) -> None:
        await self._uow.commit()
