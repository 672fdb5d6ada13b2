"""Like, review and payment events → one Lua script call each (see ``ranking``). A payload that cannot be
read goes to the DLT at once (so does a version the contract does not list: the runner parks it before
any handler runs); Redis unreachable makes the runner wait for it (the record is not parked)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from kiwishop.contracts import events
from kiwishop.contracts.events import EventType
from kiwishop.hot_catalog import domain
from kiwishop.hot_catalog.ranking import Ranking
from kiwishop.platform.consumer import Handler, PermanentError
from kiwishop.platform.envelope import Envelope

T = TypeVar("T")


def _parsed(envelope: Envelope, parse: Callable[[dict[str, Any]], T]) -> T:
    """The payload read by ``parse``; a malformed payload is permanent (DLT at once)."""
    try:
        return parse(envelope.payload)
    except domain.InvalidEvent as exc:
        raise PermanentError(str(exc)) from exc


def handlers(ranking: Ranking, clock: Callable[[], dt.datetime]) -> dict[EventType, Handler]:
    async def on_like(envelope: Envelope) -> None:
        await ranking.apply_totals(envelope.event_id, _parsed(envelope, domain.like_update), clock())

    async def on_review(envelope: Envelope) -> None:
        await ranking.apply_totals(envelope.event_id, _parsed(envelope, domain.review_update), clock())

    async def on_payment(envelope: Envelope) -> None:
        lines = _parsed(envelope, domain.paid_lines)
        if lines:
            await ranking.apply_paid_lines(envelope.event_id, lines, clock())

    return {
        events.PRODUCT_LIKED: on_like,
        events.PRODUCT_UNLIKED: on_like,
        events.PRODUCT_CREATED_REVIEW: on_review,
        events.PRODUCT_DELETED_REVIEW: on_review,
        events.PAYMENT_CONFIRM: on_payment,
    }
