"""order's read APIs over HTTP (O6 page, O7 detail): the source of truth behind every miss; the HTTP adapter
of ``ports.OrderOrigin``. Each call carries the reader's own ``Authorization`` header (``ports.Caller``): order
answers a member's own history, and ops anything; a refusal (401/403) is order not answering (503)."""

from __future__ import annotations

from typing import Any

from kiwishop.order_query.ports import OrderUnavailable, PaidPage
from kiwishop.platform import jsonutil
from kiwishop.platform.httpclient import HttpClient, HttpError

NOT_FOUND_CODE = "PEC0008"  # order's PAYMENT_EVENT_NOT_FOUND


class OrderClient:
    def __init__(self, http: HttpClient) -> None:
        self._http = http

    async def paid_page(self, member_no: int, cursor: int | None, limit: int, *, authorization: str) -> PaidPage:
        """O6: the member's paid events below ``cursor``, newest first, and the next page's cursor (an order
        from before ``nextCursor``: the last event's number after a full page)."""
        params: dict[str, int] = {"limit": limit}
        if cursor is not None:
            params["paymentEventNo"] = cursor
        body = await self._get(f"/api/orders/members/{member_no}", params, authorization)
        events = body.get("paymentEventList") if isinstance(body, dict) else None
        if not isinstance(events, list) or not all(isinstance(e, dict) and _number(e) for e in events):
            raise OrderUnavailable("O6 answered without a paymentEventList of numbered events")
        if "nextCursor" not in body:
            return PaidPage(events, _number(events[-1]) if len(events) >= limit else None)
        raw = body["nextCursor"]
        if raw is None:
            return PaidPage(events, None)
        if isinstance(raw, str) and raw.isascii() and raw.isdigit() and 0 < len(raw) <= 19:
            return PaidPage(events, int(raw))
        raise OrderUnavailable(f"O6 answered a nextCursor that is not a number: {str(raw)[:40]!r}")

    async def detail(self, payment_event_no: int, member_no: int, *, authorization: str) -> dict[str, Any] | None:
        """O7: one payment event of this member (any status), or None when order says 404."""
        path = f"/api/orders/payment-events/{payment_event_no}/members/{member_no}"
        body = await self._get(path, None, authorization)
        if body is None:
            return None
        if not isinstance(body, dict):
            raise OrderUnavailable("O7 answered something that is not an object")
        return body

    async def _get(self, path: str, params: dict[str, int] | None, authorization: str) -> Any:
        try:
            response = await self._http.get(path, params=params, headers={"Authorization": authorization})
        except HttpError as exc:
            raise OrderUnavailable(f"cannot reach order: {type(exc).__name__}") from exc
        try:
            body = jsonutil.loads(response.content)
        except ValueError as exc:
            raise OrderUnavailable(f"order answered {response.status_code} with a body that is not JSON") from exc
        if response.status_code == 200:
            return body
        if response.status_code == 404 and isinstance(body, dict) and body.get("code") == NOT_FOUND_CODE:
            return None  # O7: no such payment event of this member (an unknown route is not this)
        raise OrderUnavailable(f"order answered {response.status_code} to {path}")


def _number(event: dict[str, Any]) -> int | None:
    """An O6 event's paymentEventNo (None when it has none that is a positive integer)."""
    value = event.get("paymentEventNo")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None
