"""The one write of order-query: a PAYMENT_CONFIRM becomes its read model, with one Lua script per event
(``ports.ReadModelWriter``; idempotent by event id, and a paid model once stored is final). The live
consumer (``consumers``) and the rebuild (``rebuild``) both apply events through it."""

from __future__ import annotations

from kiwishop.order_query.domain import InvalidEvent, paid_read_model
from kiwishop.order_query.ports import ReadModelWriter
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.envelope import Envelope


class ReadModelHandlers:
    def __init__(self, store: ReadModelWriter) -> None:
        self._store = store

    async def apply_payment_confirm(self, envelope: Envelope) -> bool:
        """The event's read model, stored once; False for an event id applied before. InvalidEvent for a
        payload that cannot become a read model (the version is the caller's to check)."""
        return await self._store.apply_event(envelope.event_id, paid_read_model(envelope.payload))

    async def on_payment_confirm(self, envelope: Envelope) -> None:
        """The consumer's handler: a payload no retry can fix is parked (PermanentError)."""
        try:
            await self.apply_payment_confirm(envelope)
        except InvalidEvent as exc:
            raise PermanentError(str(exc)) from exc
