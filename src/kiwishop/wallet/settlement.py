"""Settlement of a paid order (PAYMENT_CONFIRM): one transaction per order, inside the inbox's.

Every SUCCESS line becomes one CREDIT row with ``idempotency_key = settle:{orderId}:{paymentOrderNo}``;
each seller's wallet (found by seller number) grows by the exact sum of its lines with a version-checked
UPDATE; WALLET_SETTLED goes to the outbox in the same transaction. A version conflict or a concurrent
credit of the same line raises ``ConflictError``, which re-runs the whole handler on fresh rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from kiwishop.contracts.topics import WALLET
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.db import ConflictError, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox
from kiwishop.wallet.domain import (
    CREDIT,
    REFERENCE_PAYMENT_ORDER,
    WALLET_SETTLED,
    InvalidPayload,
    PaidOrder,
    PaymentLine,
    WalletMissingError,
    credit_key,
    parse_payment_confirm,
    settled_payload,
    totals_by_seller,
)
from kiwishop.wallet.tables import wallet_transactions, wallets

log = logging.getLogger("kiwishop.wallet.settlement")

_DUPLICATE_KEY = 1062


def utcnow() -> dt.datetime:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def parse(envelope: Envelope) -> PaidOrder:
    if envelope.version != 1:
        raise PermanentError(f"unsupported PAYMENT_CONFIRM version {envelope.version}")
    try:
        return parse_payment_confirm(envelope.payload)
    except InvalidPayload as exc:
        raise PermanentError(str(exc)) from exc


async def settle(uow: UnitOfWork, envelope: Envelope, *, outbox: Outbox, ids: Snowflake) -> None:
    order = parse(envelope)
    lines = order.credited_lines()
    done = await _already_credited(uow, order.order_id, lines)
    pending = [line for line in lines if credit_key(order.order_id, line.payment_order_no) not in done]
    if pending:
        await _credit(uow, ids, order.order_id, pending)
    elif lines:
        log.info("order %s was already settled; re-emitting %s", order.order_id, WALLET_SETTLED)
    await outbox.add(
        uow,
        topic=WALLET,
        key=order.order_id,
        event_type=WALLET_SETTLED,
        payload=settled_payload(order),
        idempotency_key=f"wallet-settled:{envelope.event_id}",
    )


async def _already_credited(uow: UnitOfWork, order_id: str, lines: list[PaymentLine]) -> set[str]:
    if not lines:
        return set()
    keys = [credit_key(order_id, line.payment_order_no) for line in lines]
    rows = await uow.conn.execute(
        select(wallet_transactions.c.idempotency_key).where(wallet_transactions.c.idempotency_key.in_(keys))
    )
    return set(rows.scalars())


async def _credit(uow: UnitOfWork, ids: Snowflake, order_id: str, lines: list[PaymentLine]) -> None:
    totals = totals_by_seller(lines)
    found = (
        await uow.conn.execute(
            select(wallets.c.seller_no, wallets.c.wallet_no, wallets.c.version).where(
                wallets.c.seller_no.in_(list(totals))
            )
        )
    ).all()
    by_seller = {row.seller_no: row for row in found}
    missing = [seller_no for seller_no in totals if seller_no not in by_seller]
    if missing:
        raise WalletMissingError(f"order {order_id}: no wallet for seller(s) {missing}")
    now = utcnow()
    await _insert_credits(uow, ids, order_id, lines, {s: r.wallet_no for s, r in by_seller.items()}, now)
    for seller_no in sorted(totals, key=lambda s: by_seller[s].wallet_no):  # one lock order: no deadlocks
        row = by_seller[seller_no]
        await _add_to_balance(uow, row.wallet_no, row.version, totals[seller_no], now)


async def _insert_credits(
    uow: UnitOfWork,
    ids: Snowflake,
    order_id: str,
    lines: list[PaymentLine],
    wallet_of: dict[int, int],
    now: dt.datetime,
) -> None:
    values = [
        {
            "wallet_transaction_no": ids.next_id(),
            "wallet_no": wallet_of[line.seller_no],
            "amount": line.amount,
            "type": CREDIT,
            "reference_id": line.payment_order_no,
            "reference_type": REFERENCE_PAYMENT_ORDER,
            "order_id": order_id,
            "idempotency_key": credit_key(order_id, line.payment_order_no),
            "created_at": now,
            "updated_at": now,
        }
        for line in lines
    ]
    try:
        await uow.conn.execute(insert(wallet_transactions), values)
    except IntegrityError as exc:
        code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
        if code == _DUPLICATE_KEY:  # another delivery of this order credited it meanwhile: re-run, then skip
            raise ConflictError(f"order {order_id} was credited concurrently") from exc
        raise


async def _add_to_balance(uow: UnitOfWork, wallet_no: int, version: int, amount: Decimal, now: dt.datetime) -> None:
    result = await uow.conn.execute(
        update(wallets)
        .where(wallets.c.wallet_no == wallet_no, wallets.c.version == version)
        .values(balance=wallets.c.balance + amount, version=wallets.c.version + 1, updated_at=now)
    )
    if result.rowcount != 1:
        raise ConflictError(f"wallet {wallet_no} changed since version {version}")
