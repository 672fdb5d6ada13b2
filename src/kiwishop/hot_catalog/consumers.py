"""Like, review and payment events → one Lua script call each (see ``ranking``). A payload that cannot be
read, or an envelope version other than 1, goes to the DLT at once; Redis unreachable makes the
runner wait for it (the record is not parked)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from kiwishop.hot_catalog import domain
from kiwishop.hot_catalog.ranking import Ranking
from kiwishop.platform.consumer import Handler, PermanentError
from kiwishop.platform.envelope import Envelope


def _checked(envelope: Envelope) -> None:
    if envelope.version != 1:
        raise PermanentError(f"{envelope.type} version {envelope.version} is not known")


def handlers(ranking: Ranking, clock: Callable[[], dt.datetime]) -> dict[str, Handler]:
    async def on_like(envelope: Envelope) -> None:
        _checked(envelope)
        try:
            update = domain.like_update(envelope.payload)
        except domain.InvalidEvent as exc:
            raise PermanentError(str(exc)) from exc
        await ranking.apply_totals(envelope.event_id, update, clock())

    async def on_review(envelope: Envelope) -> None:
        _checked(envelope)
        try:
            update = domain.review_update(envelope.payload)
        except domain.InvalidEvent as exc:
            raise PermanentError(str(exc)) from exc
        await ranking.apply_totals(envelope.event_id, update, clock())

    async def on_payment(envelope: Envelope) -> None:
        _checked(envelope)
        try:
            lines = domain.paid_lines(envelope.payload)
        except domain.InvalidEvent as exc:
            raise PermanentError(str(exc)) from exc
        if lines:
            await ranking.apply_paid_lines(envelope.event_id, lines, clock())

    return {
        domain.PRODUCT_LIKED: on_like,
        domain.PRODUCT_UNLIKED: on_like,
        domain.PRODUCT_CREATED_REVIEW: on_review,
        domain.PRODUCT_DELETED_REVIEW: on_review,
        domain.PAYMENT_CONFIRM: on_payment,
    }
