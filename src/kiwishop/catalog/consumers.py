"""Seller's lifecycle events on kiwi-shop-seller → ``handlers.on_seller_event`` (idempotent by event id)."""

from __future__ import annotations

from collections.abc import Mapping

from kiwishop.catalog.handlers import on_seller_event
from kiwishop.contracts.events import SELLER_DEREGISTERED, SELLER_REGISTERED, EventType
from kiwishop.platform.consumer import Handler
from kiwishop.platform.db import Database
from kiwishop.platform.inbox import idempotent

SELLER_CONSUMER = "catalog-seller"


def seller_event_handlers(db: Database) -> Mapping[EventType, Handler]:
    handler = idempotent(db, SELLER_CONSUMER, on_seller_event)
    return {SELLER_REGISTERED: handler, SELLER_DEREGISTERED: handler}
