"""PAYMENT_CONFIRM → ``handlers.ReadModelHandlers``.

Only ``kiwi-shop-payment`` is consumed: WALLET_SETTLED (``kiwi-shop-wallet``) adds nothing to the O6/O7
shapes. The runner parks a version the contract does not list, and any type no contract puts on the topic.
"""

from __future__ import annotations

from kiwishop.contracts.events import PAYMENT_CONFIRM, EventType
from kiwishop.order_query.handlers import ReadModelHandlers
from kiwishop.order_query.ports import ReadModelWriter
from kiwishop.platform.consumer import Handler


def handlers(store: ReadModelWriter) -> dict[EventType, Handler]:
    return {PAYMENT_CONFIRM: ReadModelHandlers(store).on_payment_confirm}
