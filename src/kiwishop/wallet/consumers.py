"""Event type → handler, each idempotent by event id (``processed_messages``) and re-run on conflicts."""

from __future__ import annotations

import functools
import re

from kiwishop.platform.consumer import Handler
from kiwishop.platform.db import Database
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.inbox import idempotent
from kiwishop.platform.outbox import Outbox
from kiwishop.wallet.creation import create_wallet
from kiwishop.wallet.settlement import settle

SETTLEMENT_CONSUMER = "wallet-settlement"
CREATION_CONSUMER = "wallet-creation"


def settlement_handler(db: Database, outbox: Outbox, ids: Snowflake, *, conflict_attempts: int = 8) -> Handler:
    effect = functools.partial(settle, outbox=outbox, ids=ids)
    return idempotent(db, SETTLEMENT_CONSUMER, effect, conflict_attempts=conflict_attempts)


def creation_handler(db: Database, outbox: Outbox, ids: Snowflake, *, refuse_pattern: str = "") -> Handler:
    refuse = re.compile(refuse_pattern) if refuse_pattern else None
    effect = functools.partial(create_wallet, outbox=outbox, ids=ids, refuse=refuse)
    return idempotent(db, CREATION_CONSUMER, effect)
