"""Event type → handler: each runs in a transaction of its own and is re-run whole on conflicts.

Wallet creation is idempotent by event id (``processed_messages``). Settlement is idempotent by its credit
keys instead, and deliberately *not* deduplicated by event id: a repeated PAYMENT_CONFIRM (order re-sends it
until it hears back) must be answered with WALLET_SETTLED again, while crediting nothing twice. A refund
(PAYMENT_CANCELED, same topic and consumer group) is idempotent by its debit keys, and skips an event id it
has handled.
"""

from __future__ import annotations

import re

from kiwishop.platform.consumer import Handler
from kiwishop.platform.db import Database, retry_on_conflict
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox
from kiwishop.wallet import handlers, refunds
from kiwishop.wallet.repository import SqlLedger

CREATION_CONFLICT_ATTEMPTS = 8


def settlement_handler(db: Database, outbox: Outbox, ids: Snowflake, *, conflict_attempts: int = 8) -> Handler:
    ledger = SqlLedger(db, outbox, ids)

    async def handle(envelope: Envelope) -> None:
        await retry_on_conflict(lambda: handlers.settle(ledger, envelope), attempts=conflict_attempts)

    return handle


def refund_handler(db: Database, outbox: Outbox, ids: Snowflake, *, conflict_attempts: int = 8) -> Handler:
    ledger = SqlLedger(db, outbox, ids)

    async def handle(envelope: Envelope) -> None:
        await retry_on_conflict(lambda: refunds.refund(ledger, envelope), attempts=conflict_attempts)

    return handle


def creation_handler(db: Database, outbox: Outbox, ids: Snowflake, *, refuse_pattern: str = "") -> Handler:
    ledger = SqlLedger(db, outbox, ids)
    refuse = re.compile(refuse_pattern) if refuse_pattern else None

    async def handle(envelope: Envelope) -> None:
        await retry_on_conflict(
            lambda: handlers.create_wallet(ledger, envelope, refuse=refuse), attempts=CREATION_CONFLICT_ATTEMPTS
        )

    return handle
