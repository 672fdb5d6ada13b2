"""PAYMENT_CONFIRM → the read model, with one Lua script per event (idempotent, order-safe).

Only ``kiwi-shop-payment`` is consumed: WALLET_SETTLED (``kiwi-shop-wallet``) adds nothing to the O6/O7
shapes. The runner parks a version the contract does not list, and any type no contract puts on the topic.
"""

from __future__ import annotations

from kiwishop.order_query.domain import InvalidEvent, paid_read_model
from kiwishop.order_query.store import ReadModelStore
from kiwishop.platform.consumer import Handler, PermanentError
from kiwishop.platform.envelope import Envelope


def payment_confirm_handler(store: ReadModelStore) -> Handler:
    async def on_payment_confirm(envelope: Envelope) -> None:
        try:
            model = paid_read_model(envelope.payload)
        except InvalidEvent as exc:
            raise PermanentError(str(exc)) from exc
        await store.apply_event(envelope.event_id, model)

    return on_payment_confirm
