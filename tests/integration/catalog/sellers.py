"""Sellers in catalog's own ``sellers`` table, for tests that register or insert products of made-up sellers
(7, 8, 9 …) without running seller: what seller's SELLER_REGISTERED would have put there."""

from __future__ import annotations

from typing import Any

from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake

IDS = Snowflake(989)  # event ids made up by the tests


def active_sellers(*seller_nos: int) -> str:
    """A seed statement: these sellers are ACTIVE in catalog (idempotent; a GONE seller stays GONE)."""
    rows = ", ".join(f"({n}, 'seller-{n}', 'ACTIVE', UTC_TIMESTAMP(3))" for n in seller_nos)
    return f"INSERT IGNORE INTO sellers (seller_no, seller_id, state, updated_at) VALUES {rows}"


def seller_event(event_type: str, seller_no: int, *, key: str | None = None, **payload: Any) -> Envelope:
    """SELLER_REGISTERED / SELLER_DEREGISTERED shaped like docs/events.md (fields overridable)."""
    body: dict[str, Any] = {"sellerNo": seller_no, "sellerId": f"seller-{seller_no}"}
    if event_type == "SELLER_REGISTERED":
        body["registrationId"] = IDS.next_id()
    else:
        body["reason"] = "wallet refused"
    body.update(payload)
    return Envelope(event_id=IDS.next_id(), type=event_type, payload=body, key=str(seller_no) if key is None else key)
