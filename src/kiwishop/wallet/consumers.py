"""Event type → handler, each idempotent and re-run on conflicts.

Wallet creation is idempotent by event id (``processed_messages``). Settlement is idempotent by its credit
keys instead, and deliberately *not* deduplicated by event id: a repeated PAYMENT_CONFIRM (order re-sends it
until it hears back) must be answered with WALLET_SETTLED again, while crediting nothing twice.
"""

from __future__ import annotations

import functools
import re

from kiwishop.platform.consumer import Handler
from kiwishop.platform.db import Database, retry_on_conflict
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.inbox import claim, idempotent
from kiwishop.platform.outbox import Outbox
from kiwishop.wallet.creation import create_wallet
from kiwishop.wallet.settlement import settle

SETTLEMENT_CONSUMER = "wallet-settlement"
CREATION_CONSUMER = "wallet-creation"


def settlement_handler(db: Database, outbox: Outbox, ids: Snowflake, *, conflict_attempts: int = 8) -> Handler:
    async def attempt(envelope: Envelope) -> None:
        async with db.uow() as uow:
            await claim(uow, SETTLEMENT_CONSUMER, envelope)  # a record of handling, not a filter
            await settle(uow, envelope, outbox=outbox, ids=ids)
            await uow.commit()

    async def handle(envelope: Envelope) -> None:
        await retry_on_conflict(lambda: attempt(envelope), attempts=conflict_attempts)

    return handle


def creation_handler(db: Database, outbox: Outbox, ids: Snowflake, *, refuse_pattern: str = "") -> Handler:
    refuse = re.compile(refuse_pattern) if refuse_pattern else None
    effect = functools.partial(create_wallet, outbox=outbox, ids=ids, refuse=refuse)
    return idempotent(db, CREATION_CONSUMER, effect)
