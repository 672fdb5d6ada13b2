"""Wallet's write use cases, each in one ledger transaction of its own (``ports.Ledger``). A handler is safe
to run again whole: on ``ConflictError`` (a version moved, a key taken meanwhile) its caller re-runs it —
``consumers.py`` for events, ``workers.py`` for the sweeper.

**settle** (PAYMENT_CONFIRM): every SUCCESS line becomes one CREDIT with ``idempotency_key =
settle:{orderId}:{paymentOrderNo}``; each seller's wallet (found by seller number, never by wallet number)
grows by the exact sum of its lines, under its version check. A line whose seller has no wallet yet is
**held** (same idempotency key) and credited when the wallet exists — money is never parked in a dead-letter
topic. WALLET_SETTLED is answered in the same transaction on every delivery, a repeated one included: order
re-sends PAYMENT_CONFIRM (same eventId) until it hears WALLET_SETTLED, so a repeat makes the same
WALLET_SETTLED due again instead of being dropped as a duplicate. Credits never repeat: the keys see to that.
Settlement is therefore idempotent by its credit keys, not by event id (the delivery is recorded, not
filtered on). A line canceled while it was held (PAYMENT_CANCELED, ``refunds.py``) is not credited either.

**release_held**: a seller's held lines, credited exactly once — with the key a direct credit would have had —
once its wallet exists. It runs inside ``create_wallet``'s transaction and as the sweeper's step, which catches
the rest (a wallet created by a transaction that could not see a hold being written at the same moment, or
any wallet created another way).

**create_wallet** (WALLET_CREATE_REQUESTED, the seller registration saga): idempotent by event id and by
seller — a seller that already has a wallet gets that wallet back as a success (S7). The reply leaves in the
same transaction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from kiwishop.contracts.events import WALLET_CREATED, WALLET_CREATION_FAILED, WALLET_SETTLED
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.envelope import Envelope
from kiwishop.wallet.domain import (
    HeldLine,
    InvalidPayload,
    PaidOrder,
    PaymentLine,
    credit_key,
    parse_payment_confirm,
    parse_wallet_create_requested,
    settled_payload,
    split_for_settlement,
    totals_by_seller,
    wallet_created,
    wallet_creation_failed,
)
from kiwishop.wallet.ports import Ledger, LedgerTransaction, Lookup

SETTLEMENT_CONSUMER = "wallet-settlement"
CREATION_CONSUMER = "wallet-creation"
REFUSED_REASON = "wallet creation refused for this sellerId (refuse_seller_id_pattern)"

settlement_log = logging.getLogger("kiwishop.wallet.settlement")
held_log = logging.getLogger("kiwishop.wallet.held")
creation_log = logging.getLogger("kiwishop.wallet.creation")

T = TypeVar("T")


def parsed(parse: Callable[[dict[str, Any]], T], envelope: Envelope) -> T:
    """The event's payload read by ``parse``; a payload no retry can fix is a ``PermanentError``."""
    try:
        return parse(envelope.payload)
    except InvalidPayload as exc:
        raise PermanentError(str(exc)) from exc


async def settle(ledger: Ledger, envelope: Envelope) -> None:
    """A paid order: its lines credited (or held) and WALLET_SETTLED answered, in one transaction."""
    order = parsed(parse_payment_confirm, envelope)
    async with ledger.transaction() as tx:
        await tx.record_delivery(SETTLEMENT_CONSUMER, envelope)  # a record of handling, not a filter
        found = await _look_up(tx, order)
        # a line canceled while held (refunds.py) is never credited, like a line credited already
        held, to_credit = split_for_settlement(order, found.wallets, found.credited | found.canceled)
        # The result first: it depends on the order only.
        await tx.answer(
            WALLET_SETTLED,
            key=order.order_id,
            payload=dict(settled_payload(order, held_sellers={line.seller_no for line in held})),
            idempotency_key=f"wallet-settled:{envelope.event_id}",
        )
        if held and await tx.hold(envelope.event_id, order.order_id, held):
            settlement_log.warning(
                "order %s: %d line(s) held for seller(s) without a wallet: %s",
                order.order_id, len(held), sorted({line.seller_no for line in held}),
            )  # fmt: skip
        if to_credit:
            await tx.credit(order.order_id, to_credit, {s: w.wallet_no for s, w in found.wallets.items()})
            await tx.add_to_balances(totals_by_seller(to_credit), found.wallets)
        elif order.credited_lines() and not held:
            settlement_log.info("order %s was already settled; %s sent again", order.order_id, WALLET_SETTLED.name)
        await tx.commit()
    if to_credit:
        settlement_log.info("order %s settled: %d line(s) credited", order.order_id, len(to_credit))


async def _look_up(tx: LedgerTransaction, order: PaidOrder) -> Lookup:
    lines = order.credited_lines()
    if not lines:
        return Lookup(wallets={}, credited=set())
    keys = [credit_key(order.order_id, line.payment_order_no) for line in lines]
    return await tx.lookup({line.seller_no for line in lines}, keys)


async def release_held(ledger: Ledger, seller_no: int) -> int:
    """The seller's held lines credited, if its wallet exists now, in a transaction of their own; returns
    the number of lines credited."""
    async with ledger.transaction() as tx:
        credited = await credit_held(tx, seller_no)
        await tx.commit()
    return credited


async def credit_held(tx: LedgerTransaction, seller_no: int) -> int:
    """``release_held`` inside the caller's transaction."""
    wallet = await tx.wallet_for_update(seller_no)
    if wallet is None:
        return 0
    held = await tx.held_for_update(seller_no)
    if not held:
        return 0
    keys = [h.key for h in held]
    by_order = _by_order(held, skip=await tx.credited(keys))
    for order_id, lines in by_order.items():
        await tx.credit(order_id, lines, {seller_no: wallet.wallet_no})
    credited = [line for lines in by_order.values() for line in lines]
    if credited:
        await tx.add_to_balances(totals_by_seller(credited), {seller_no: wallet})
    await tx.mark_released(keys)
    if credited:
        held_log.info("seller %d: %d held line(s) credited to wallet %d", seller_no, len(credited), wallet.wallet_no)
    return len(credited)


def _by_order(held: list[HeldLine], *, skip: set[str]) -> dict[str, list[PaymentLine]]:
    """The held lines not yet credited, by order (one credit statement per order)."""
    by_order: dict[str, list[PaymentLine]] = {}
    for h in held:
        if h.key not in skip:
            by_order.setdefault(h.order_id, []).append(h.line)
    return by_order


async def create_wallet(ledger: Ledger, envelope: Envelope, *, refuse: re.Pattern[str] | None = None) -> None:
    """A wallet for the seller (or the one it has), its held lines credited, and the saga's reply — once per
    event; a seller id matching ``refuse`` is refused instead."""
    request = parsed(parse_wallet_create_requested, envelope)
    async with ledger.transaction() as tx:
        if not await tx.record_delivery(CREATION_CONSUMER, envelope):
            return  # handled before: its reply went out then
        if refuse is not None and refuse.search(request.seller_id):
            creation_log.warning("refusing a wallet for seller %s (%s)", request.seller_no, request.seller_id)
            event_type, payload = WALLET_CREATION_FAILED, dict(wallet_creation_failed(request, REFUSED_REASON))
        else:
            wallet_no = await tx.wallet_of(request.seller_no)
            if wallet_no is None:
                wallet_no = await tx.open_wallet(request.seller_no)
                creation_log.info("wallet %d created for seller %d", wallet_no, request.seller_no)
            await credit_held(tx, request.seller_no)  # paid lines that waited for this wallet
            event_type, payload = WALLET_CREATED, dict(wallet_created(request, wallet_no))
        await tx.reply(
            event_type, key=str(request.seller_no), payload=payload, idempotency_key=f"wallet-reply:{envelope.event_id}"
        )
        await tx.commit()
