"""The writes of order-query: a PAYMENT_CONFIRM becomes its read model and counts in the seller sales, a
PAYMENT_CANCELED moves lines SUCCESS → CANCELED in both — one Lua script per event (``ports.ReadModelWriter``;
idempotent by event id, and per order / per line for the sales). The live consumer (``consumers``) and the
rebuild (``rebuild``) both apply events through it."""

from __future__ import annotations

from kiwishop.order_query.domain import InvalidEvent, paid_read_model, parse_cancel, sold_lines
from kiwishop.order_query.ports import ReadModelWriter
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.envelope import Envelope


class ReadModelHandlers:
    def __init__(self, store: ReadModelWriter) -> None:
        self._store = store

    async def apply_payment_confirm(self, envelope: Envelope) -> bool:
        """The event's read model, stored once; False for an event id applied before. InvalidEvent for a
        payload that cannot become a read model (the version is the caller's to check)."""
        payload = envelope.payload
        return await self._store.apply_event(envelope.event_id, paid_read_model(payload), sold_lines(payload))

    async def apply_payment_canceled(self, envelope: Envelope) -> bool:
        """The cancel's lines CANCELED, once; False for an event id applied before. InvalidEvent for a payload
        that is not a cancel of lines."""
        return await self._store.apply_cancel(envelope.event_id, parse_cancel(envelope.payload))

    async def on_payment_confirm(self, envelope: Envelope) -> None:
        """The consumer's handler: a payload no retry can fix is parked (PermanentError)."""
        try:
            await self.apply_payment_confirm(envelope)
        except InvalidEvent as exc:
            raise PermanentError(str(exc)) from exc

    async def on_payment_canceled(self, envelope: Envelope) -> None:
        try:
            await self.apply_payment_canceled(envelope)
        except InvalidEvent as exc:
            raise PermanentError(str(exc)) from exc
