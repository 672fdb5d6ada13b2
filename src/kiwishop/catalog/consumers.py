"""Seller's lifecycle events on kiwi-shop-seller keep catalog's ``sellers`` (idempotent by event id)."""

from __future__ import annotations

from collections.abc import Mapping

from kiwishop.catalog.domain import InvalidSellerEvent, parse_seller_event
from kiwishop.catalog.handlers import apply_seller_change
from kiwishop.contracts.events import SELLER_DEREGISTERED, SELLER_REGISTERED, EventType
from kiwishop.platform.consumer import Handler, PermanentError
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.inbox import idempotent

SELLER_CONSUMER = "catalog-seller"


async def on_seller_event(uow: UnitOfWork, envelope: Envelope) -> None:
    """A malformed event is parked (PermanentError), never applied (the runner parks a version it does not
    accept before this runs)."""
    try:
        change = parse_seller_event(envelope.type, envelope.key, envelope.payload)
    except InvalidSellerEvent as exc:
        raise PermanentError(str(exc)) from exc
    await apply_seller_change(uow, change)


def seller_event_handlers(db: Database) -> Mapping[EventType, Handler]:
    handler = idempotent(db, SELLER_CONSUMER, on_seller_event)
    return {SELLER_REGISTERED: handler, SELLER_DEREGISTERED: handler}
