"""Settlement of a paid order (PAYMENT_CONFIRM): one transaction per delivery, idempotent by design.

Every SUCCESS line becomes one CREDIT row with ``idempotency_key = settle:{orderId}:{paymentOrderNo}``;
each seller's wallet (found by seller number, never by wallet number) grows by the exact sum of its lines
with ``balance = balance + :sum, version = version + 1 WHERE wallet_no = :no AND version = :v`` (one
statement for all the order's wallets; fewer matched rows than wallets is a conflict). A line whose seller
has no wallet yet is **held** (``held_settlements``, same idempotency key) and credited when the wallet
exists (``held.py``) — money is never parked in a dead-letter topic.

WALLET_SETTLED goes to the outbox in the same transaction — on every delivery, including a repeated one:
order re-sends PAYMENT_CONFIRM (same eventId) until it hears WALLET_SETTLED, so a repeated delivery makes
the same WALLET_SETTLED row due again (``Outbox.add_or_requeue``) instead of being dropped as a duplicate.
Credits themselves never repeat: the unique idempotency keys see to that. A version conflict, a deadlock or
a concurrent credit of the same line re-runs the whole handler on fresh rows.

The wallet rows are read ``FOR UPDATE`` (in one order: seller number), so concurrent settlements of the
same wallets queue instead of failing each other's version check: with a handful of hot wallets and a
consumer that handles partitions concurrently, optimistic-only locking re-ran ~40% of the transactions
and settled fewer orders per second than a single partition (see the settlement benchmark). The version
check stays in the UPDATE, so a writer that bypasses the lock is still detected.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from decimal import Decimal

from sqlalchemy import TextClause, bindparam, insert, text
from sqlalchemy.exc import IntegrityError

from kiwishop.contracts.events import WALLET_SETTLED
from kiwishop.contracts.topics import WALLET
from kiwishop.platform.clock import utcnow
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.db import ConflictError, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox
from kiwishop.wallet.domain import (
    CREDIT,
    REFERENCE_PAYMENT_ORDER,
    InvalidPayload,
    PaidOrder,
    PaymentLine,
    credit_key,
    parse_payment_confirm,
    settled_payload,
    totals_by_seller,
)
from kiwishop.wallet.tables import wallet_transactions

log = logging.getLogger("kiwishop.wallet.settlement")

_DUPLICATE_KEY = 1062


def parse(envelope: Envelope) -> PaidOrder:
    try:
        return parse_payment_confirm(envelope.payload)
    except InvalidPayload as exc:
        raise PermanentError(str(exc)) from exc


async def settle(uow: UnitOfWork, envelope: Envelope, *, outbox: Outbox, ids: Snowflake) -> None:
    order = parse(envelope)
    now = utcnow()
    lines = order.credited_lines()
    wallet_of, done = await _lookup(uow, order.order_id, lines)
    held = [line for line in lines if line.seller_no not in wallet_of]
    # The result first: it depends on the order only, and this keeps it out of the wallet-lock window.
    await outbox.add_or_requeue(
        uow,
        topic=WALLET,
        key=order.order_id,
        event_type=WALLET_SETTLED.name,
        payload=dict(settled_payload(order, held_sellers={line.seller_no for line in held})),
        idempotency_key=f"wallet-settled:{envelope.event_id}",
    )
    if held:
        await hold(uow, envelope.event_id, order.order_id, held, now)
    pending = [
        line for line in lines
        if line.seller_no in wallet_of and credit_key(order.order_id, line.payment_order_no) not in done
    ]  # fmt: skip
    if not pending:
        if lines and not held:
            log.info("order %s was already settled; %s sent again", order.order_id, WALLET_SETTLED.name)
        return
    await insert_credits(uow, ids, order.order_id, pending, {s: w for s, (w, _) in wallet_of.items()}, now)
    await add_to_balances(uow, totals_by_seller(pending), wallet_of, now)


async def hold(uow: UnitOfWork, event_id: int, order_id: str, lines: list[PaymentLine], now: dt.datetime) -> None:
    """Lines of sellers without a wallet: held (once per line), credited when the wallet exists (``held.py``)."""
    result = await uow.conn.execute(
        _HOLD,
        [
            {"k": credit_key(order_id, line.payment_order_no), "o": order_id, "p": line.payment_order_no,
             "s": line.seller_no, "a": line.amount, "e": event_id, "now": now}
            for line in lines
        ],
    )  # fmt: skip
    if result.rowcount:
        log.warning(
            "order %s: %d line(s) held for seller(s) without a wallet: %s",
            order_id, len(lines), sorted({line.seller_no for line in lines}),
        )  # fmt: skip


_HOLD = text(
    "INSERT IGNORE INTO held_settlements (idempotency_key, order_id, payment_order_no, seller_no, amount, event_id,"
    " created_at) VALUES (:k, :o, :p, :s, :a, :e, :now)"
)


_LOOKUP = text(
    "(SELECT seller_no, wallet_no, version, NULL AS credited_key FROM wallets WHERE seller_no IN :sellers"
    " FOR UPDATE)"
    " UNION ALL"
    " (SELECT NULL, NULL, NULL, idempotency_key FROM wallet_transactions WHERE idempotency_key IN :keys)"
).bindparams(bindparam("sellers", expanding=True), bindparam("keys", expanding=True))


async def _lookup(
    uow: UnitOfWork, order_id: str, lines: list[PaymentLine]
) -> tuple[dict[int, tuple[int, int]], set[str]]:
    """In one round trip: seller number → (wallet number, version), and the lines already credited."""
    if not lines:
        return {}, set()
    result = await uow.conn.execute(
        _LOOKUP,
        {
            "sellers": sorted({line.seller_no for line in lines}),
            "keys": [credit_key(order_id, line.payment_order_no) for line in lines],
        },
    )
    wallet_of: dict[int, tuple[int, int]] = {}
    done: set[str] = set()
    for row in result:  # the UNION's columns are named by its first SELECT
        if row.credited_key is not None:
            done.add(row.credited_key)
        else:
            wallet_of[int(row.seller_no)] = (int(row.wallet_no), int(row.version))
    return wallet_of, done


_INSERT_CREDITS = insert(wallet_transactions)


async def insert_credits(
    uow: UnitOfWork,
    ids: Snowflake,
    order_id: str,
    lines: list[PaymentLine],
    wallet_no_of: dict[int, int],
    now: dt.datetime,
) -> None:
    values = [
        {
            "wallet_transaction_no": ids.next_id(),
            "wallet_no": wallet_no_of[line.seller_no],
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
        await uow.conn.execute(_INSERT_CREDITS, values)
    except IntegrityError as exc:
        code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
        if code == _DUPLICATE_KEY:  # another delivery of this order credited it meanwhile: re-run, then skip
            raise ConflictError(f"order {order_id} was credited concurrently") from exc
        raise


@functools.lru_cache(maxsize=64)
def _update_balances(wallets: int) -> TextClause:
    """For every wallet i: balance + a_i, version + 1 WHERE wallet_no = w_i AND version = v_i — one statement."""
    amounts = " ".join(f"WHEN :w{i} THEN :a{i}" for i in range(wallets))
    checks = " OR ".join(f"(wallet_no = :w{i} AND version = :v{i})" for i in range(wallets))
    return text(
        f"UPDATE wallets SET balance = balance + CASE wallet_no {amounts} END,"
        f" version = version + 1, updated_at = :now WHERE {checks}"
    )


async def add_to_balances(
    uow: UnitOfWork, totals: dict[int, Decimal], wallet_of: dict[int, tuple[int, int]], now: dt.datetime
) -> None:
    """Each wallet grows by its seller's total if its version is still the one read; otherwise a conflict."""
    params: dict[str, object] = {"now": now}
    for i, (seller_no, amount) in enumerate(totals.items()):
        wallet_no, version = wallet_of[seller_no]
        params |= {f"w{i}": wallet_no, f"a{i}": amount, f"v{i}": version}
    result = await uow.conn.execute(_update_balances(len(totals)), params)
    if result.rowcount != len(totals):
        raise ConflictError(f"{len(totals) - result.rowcount} wallet(s) changed since they were read")
