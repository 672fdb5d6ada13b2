"""Wallet creation for the seller registration saga (WALLET_CREATE_REQUESTED): idempotent by seller —
a seller that already has a wallet gets that wallet back as a success (S7). The reply leaves through the
outbox in the same transaction."""

from __future__ import annotations

import logging
import re

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from kiwishop.contracts.events import WALLET_CREATED, WALLET_CREATION_FAILED
from kiwishop.contracts.topics import WALLET
from kiwishop.platform.clock import utcnow
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.db import ConflictError, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox
from kiwishop.wallet.domain import (
    InvalidPayload,
    WalletCreateRequest,
    parse_wallet_create_requested,
    wallet_created,
    wallet_creation_failed,
)
from kiwishop.wallet.held import release
from kiwishop.wallet.tables import wallets

log = logging.getLogger("kiwishop.wallet.creation")

REFUSED_REASON = "wallet creation refused for this sellerId (refuse_seller_id_pattern)"


def parse(envelope: Envelope) -> WalletCreateRequest:
    try:
        return parse_wallet_create_requested(envelope.payload)
    except InvalidPayload as exc:
        raise PermanentError(str(exc)) from exc


async def create_wallet(
    uow: UnitOfWork, envelope: Envelope, *, outbox: Outbox, ids: Snowflake, refuse: re.Pattern[str] | None
) -> None:
    request = parse(envelope)
    if refuse is not None and refuse.search(request.seller_id):
        log.warning("refusing a wallet for seller %s (%s)", request.seller_no, request.seller_id)
        event_type, payload = WALLET_CREATION_FAILED.name, dict(wallet_creation_failed(request, REFUSED_REASON))
    else:
        wallet_no = await _wallet_of(uow, request.seller_no)
        if wallet_no is None:
            wallet_no = await _insert_wallet(uow, ids, request.seller_no)
        await release(uow, ids, request.seller_no)  # paid lines that waited for this wallet
        event_type, payload = WALLET_CREATED.name, dict(wallet_created(request, wallet_no))
    await outbox.add(
        uow,
        topic=WALLET,
        key=str(request.seller_no),
        event_type=event_type,
        payload=payload,
        idempotency_key=f"wallet-reply:{envelope.event_id}",
    )


async def _wallet_of(uow: UnitOfWork, seller_no: int) -> int | None:
    found = await uow.conn.execute(select(wallets.c.wallet_no).where(wallets.c.seller_no == seller_no))
    wallet_no: int | None = found.scalar()
    return wallet_no


async def _insert_wallet(uow: UnitOfWork, ids: Snowflake, seller_no: int) -> int:
    wallet_no = ids.next_id()
    now = utcnow()
    try:
        await uow.conn.execute(
            insert(wallets).values(
                wallet_no=wallet_no, seller_no=seller_no, balance=0, version=0, created_at=now, updated_at=now
            )
        )
    except IntegrityError as exc:  # created concurrently by another delivery: re-run and find it
        raise ConflictError(f"wallet of seller {seller_no} created concurrently") from exc
    log.info("wallet %d created for seller %d", wallet_no, seller_no)
    return wallet_no
