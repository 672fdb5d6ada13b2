"""Held settlements: paid lines of a seller who had no wallet when the PAYMENT_CONFIRM arrived.

They are credited — exactly once, with the same idempotency key a direct credit would have had
(``settle:{orderId}:{paymentOrderNo}``) — in the transaction that creates the seller's wallet, and by a
sweeper that catches the rest (a wallet created by a transaction that could not see a hold being written at
the same moment, or any wallet created another way). Until then the money is visible: ``held_settlements``
rows without ``released_at``, the ``kiwi_wallet_held_settlements`` gauge, and reconcile's "held" column.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import bindparam, text

from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database, UnitOfWork, retry_on_conflict
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.periodic import Periodic
from kiwishop.wallet.domain import PaymentLine, totals_by_seller
from kiwishop.wallet.settlement import add_to_balances, insert_credits

log = logging.getLogger("kiwishop.wallet.held")

_WALLET = text("SELECT wallet_no, version FROM wallets WHERE seller_no = :s FOR UPDATE")
_OPEN = text(
    "SELECT idempotency_key, order_id, payment_order_no, amount FROM held_settlements"
    " WHERE seller_no = :s AND released_at IS NULL ORDER BY idempotency_key FOR UPDATE"
)
_CREDITED = text("SELECT idempotency_key FROM wallet_transactions WHERE idempotency_key IN :keys").bindparams(
    bindparam("keys", expanding=True)
)
_RELEASE = text("UPDATE held_settlements SET released_at = :now WHERE idempotency_key IN :keys").bindparams(
    bindparam("keys", expanding=True)
)
_SELLERS_WITH_WALLETS = text(
    "SELECT DISTINCT h.seller_no FROM held_settlements h JOIN wallets w ON w.seller_no = h.seller_no"
    " WHERE h.released_at IS NULL LIMIT :limit"
)
_OPEN_TOTALS = text("SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM held_settlements WHERE released_at IS NULL")


async def release(uow: UnitOfWork, ids: Snowflake, seller_no: int) -> int:
    """Credit the seller's held lines to its wallet (in the caller's transaction); returns lines credited."""
    wallet = (await uow.conn.execute(_WALLET, {"s": seller_no})).first()
    if wallet is None:
        return 0
    held = (await uow.conn.execute(_OPEN, {"s": seller_no})).all()
    if not held:
        return 0
    keys = [row.idempotency_key for row in held]
    already = {row.idempotency_key for row in await uow.conn.execute(_CREDITED, {"keys": keys})}
    now = utcnow()
    by_order: dict[str, list[PaymentLine]] = {}
    for row in held:
        if row.idempotency_key not in already:
            line = PaymentLine(
                payment_order_no=int(row.payment_order_no),
                seller_no=seller_no,
                amount=Decimal(row.amount),
                status="SUCCESS",
            )
            by_order.setdefault(row.order_id, []).append(line)
    for order_id, lines in by_order.items():
        await insert_credits(uow, ids, order_id, lines, {seller_no: int(wallet.wallet_no)}, now)
    credited = [line for lines in by_order.values() for line in lines]
    if credited:
        totals = totals_by_seller(credited)
        await add_to_balances(uow, totals, {seller_no: (int(wallet.wallet_no), int(wallet.version))}, now)
    await uow.conn.execute(_RELEASE, {"keys": keys, "now": now})
    if credited:
        log.info("seller %d: %d held line(s) credited to wallet %d", seller_no, len(credited), wallet.wallet_no)
    return len(credited)


class HeldSettlementSweeper:
    """Every ``interval_s``: credit the held lines of sellers whose wallet exists; report what is still held."""

    def __init__(
        self,
        db: Database,
        ids: Snowflake,
        *,
        registry: CollectorRegistry | None = None,
        interval_s: float = 2.0,
        batch_size: int = 100,
    ) -> None:
        self._db = db
        self._ids = ids
        self._batch = batch_size
        self._gauge = (
            Gauge(
                "kiwi_wallet_held_settlements",
                "Paid lines held for sellers without a wallet (count, and amount in won)",
                ["measure"],
                registry=registry,
            )
            if registry is not None
            else None
        )
        self._reported_at = 0.0
        self._worker = Periodic("held-settlements", self._step, interval_s)

    async def start(self) -> None:
        await self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()

    async def _step(self) -> bool:
        sellers = await self.sweep_once()
        await self._report()
        return sellers >= self._batch

    async def sweep_once(self) -> int:
        async with self._db.engine.connect() as conn:
            sellers = [int(r.seller_no) for r in await conn.execute(_SELLERS_WITH_WALLETS, {"limit": self._batch})]
        for seller_no in sellers:
            await retry_on_conflict(lambda s=seller_no: self._release(s))  # type: ignore[misc]
        return len(sellers)

    async def _release(self, seller_no: int) -> None:
        async with self._db.uow() as uow:
            await release(uow, self._ids, seller_no)
            await uow.commit()

    async def _report(self) -> None:
        if self._gauge is None or time.monotonic() - self._reported_at < 5.0:
            return
        self._reported_at = time.monotonic()
        async with self._db.engine.connect() as conn:
            count, amount = (await conn.execute(_OPEN_TOTALS)).one()
        self._gauge.labels("lines").set(int(count))
        self._gauge.labels("amount").set(float(amount))
