"""What order-query's handler and its reads need from outside, as Protocols (fakes stand in for them in unit
tests): the read model in Redis, written by one Lua script per event (``store.ReadModelStore``), and
order's read APIs over HTTP (``order_client.OrderClient``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kiwishop.order_query.domain import Cancel, SoldLine


class OrderUnavailable(Exception):
    """order could not answer (down, timed out, or answered something other than O6/O7)."""


class ReadModelWriter(Protocol):
    async def apply_event(self, event_id: int, model: dict[str, Any], sold: Sequence[SoldLine] = ()) -> bool:
        """Store one PAYMENT_CONFIRM's read model and count its ``sold`` lines in the seller sales (once per
        order), atomically; False when this event id was applied before (nothing changes). A paid model already
        stored for its paymentEventNo is never replaced; it shows every cancel already seen."""

    async def apply_cancel(self, event_id: int, cancel: Cancel) -> bool:
        """Apply one PAYMENT_CANCELED atomically: its lines CANCELED in the model (kept until the model arrives,
        when it comes later) and each line counted once as canceled in the seller sales; False when this event
        id was applied before (nothing changes)."""


@dataclass(frozen=True)
class PaidPage:
    """An O6 answer: the events (each with an integer ``paymentEventNo``), newest first, and the cursor of the
    next page (None: order has no more)."""

    events: list[dict[str, Any]]
    next_cursor: int | None


@dataclass(frozen=True)
class Caller:
    """Who is reading, as order must see them too: order-query holds no credential of its own, so a miss is asked
    of order with the caller's own ``Authorization`` header (order checks it as it checks anyone's: the member
    asks for their own history). ``sees_keys``: ops, whose answers show the PSP's paymentKey; order shows a member
    none, and order-query hides it from them too."""

    authorization: str
    sees_keys: bool


class OrderOrigin(Protocol):
    """order's O6 and O7, the source of truth behind every miss; OrderUnavailable when order cannot answer.
    ``authorization`` is the reader's own header (``Caller``)."""

    async def paid_page(self, member_no: int, cursor: int | None, limit: int, *, authorization: str) -> PaidPage:
        """O6: the member's paid events below ``cursor``, newest first, and the next page's cursor."""

    async def detail(self, payment_event_no: int, member_no: int, *, authorization: str) -> dict[str, Any] | None:
        """O7: one payment event of this member (any status), or None when order says 404."""
