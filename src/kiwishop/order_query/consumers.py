"""PAYMENT_CONFIRM and PAYMENT_CANCELED → ``handlers.ReadModelHandlers``.

Only ``kiwi-shop-payment`` is consumed: WALLET_SETTLED (``kiwi-shop-wallet``) adds nothing to the O6/O7
shapes. The runner parks a version the contract does not list, and any type no contract puts on the topic.
"""

from __future__ import annotations

from kiwishop.contracts.events import PAYMENT_CANCELED, PAYMENT_CONFIRM, EventType
from kiwishop.order_query.handlers import ReadModelHandlers
from kiwishop.order_query.ports import ReadModelWriter
from kiwishop.platform.consumer import Handler


def handlers(store: ReadModelWriter) -> dict[EventType, Handler]:
    effects = ReadModelHandlers(store)
    return {PAYMENT_CONFIRM: effects.on_payment_confirm, PAYMENT_CANCELED: effects.on_payment_canceled}
