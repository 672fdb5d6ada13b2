"""Like, review, payment and cancel events → the ranking's handlers (``handlers.RankingHandlers``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from kiwishop.contracts import events
from kiwishop.contracts.events import EventType
from kiwishop.hot_catalog.handlers import RankingHandlers
from kiwishop.hot_catalog.ports import RankingUpdates
from kiwishop.platform.consumer import Handler


def handlers(ranking: RankingUpdates, clock: Callable[[], dt.datetime]) -> dict[EventType, Handler]:
    effects = RankingHandlers(ranking, clock)
    return {
        events.PRODUCT_LIKED: effects.on_like,
        events.PRODUCT_UNLIKED: effects.on_like,
        events.PRODUCT_CREATED_REVIEW: effects.on_review,
        events.PRODUCT_DELETED_REVIEW: effects.on_review,
        events.PAYMENT_CONFIRM: effects.on_payment,
        events.PAYMENT_CANCELED: effects.on_payment_canceled,
    }
