"""The event effects on the ranking: a like total, a review total, a confirmed payment's paid lines, a cancel's
lines — one Lua script call each (``ports.RankingUpdates``; ``ranking.APPLY`` decides duplicates and stale versions, so
redelivery or out-of-order delivery yields the same ranking). A payload that cannot be read goes to the DLT
at once (so does a version the contract does not list: the runner parks it before any handler runs); Redis
unreachable makes the runner wait for it (the record is not parked)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from kiwishop.hot_catalog import domain
from kiwishop.hot_catalog.ports import RankingUpdates
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.envelope import Envelope

T = TypeVar("T")


def _parsed(envelope: Envelope, parse: Callable[[dict[str, Any]], T]) -> T:
    """The payload read by ``parse``; a malformed payload is permanent (DLT at once)."""
    try:
        return parse(envelope.payload)
    except domain.InvalidEvent as exc:
        raise PermanentError(str(exc)) from exc


class RankingHandlers:
    """``clock`` (aware datetimes) is the consumer's notion of now, read once per event."""

    def __init__(self, ranking: RankingUpdates, clock: Callable[[], dt.datetime]) -> None:
        self._ranking = ranking
        self._clock = clock

    async def on_like(self, envelope: Envelope) -> None:
        """PRODUCT_LIKED / PRODUCT_UNLIKED: the product's like count, unless a newer version is stored."""
        await self._ranking.apply_totals(envelope.event_id, _parsed(envelope, domain.like_update), self._clock())

    async def on_review(self, envelope: Envelope) -> None:
        """PRODUCT_CREATED_REVIEW / PRODUCT_DELETED_REVIEW: review count and star sum, unless a newer version
        is stored."""
        await self._ranking.apply_totals(envelope.event_id, _parsed(envelope, domain.review_update), self._clock())

    async def on_payment(self, envelope: Envelope) -> None:
        """PAYMENT_CONFIRM: one paid line per paid (SUCCESS or CANCELED) line; a payment without one changes
        nothing."""
        lines = _parsed(envelope, domain.paid_lines)
        if lines:
            await self._ranking.apply_paid_lines(envelope.event_id, lines, self._clock())

    async def on_payment_canceled(self, envelope: Envelope) -> None:
        """PAYMENT_CANCELED: each canceled line takes out what its paid line added, once per line (whatever
        the event id: a line's own marker decides)."""
        lines = _parsed(envelope, domain.canceled_lines)
        await self._ranking.apply_canceled_lines(envelope.event_id, lines, self._clock())
