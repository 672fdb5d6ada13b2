"""The hot read without the framework: ``GET /api/orders/members/{memberNo}`` that Redis can answer.

It sits inside the platform's request middleware (request id, latency metric) and in front of FastAPI's
exception handling, routing and parameter validation, which cost more than the read itself. It handles
only requests in canonical form (digits without sign or leading zero, in range, each parameter at most
once) whose page the index proves complete (``ReadModelStore.page``), and sends the stored bytes. Every
other request — an odd but valid spelling, a bad parameter, a page that needs order, Redis trouble —
goes on to the FastAPI route, which validates and answers as the route always does.

It checks the caller as the route does (``platform.auth``): a bearer token of this member (whose answer has
every paymentKey null) or of ops (a page with a model stored without its key goes to the route, which asks
order). Anything else — no token, one that does not verify, another caller — goes on to the route too, which
answers 401/403 in the shop's error shape.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from kiwishop.order_query.domain import KEYLESS, hide_payment_keys
from kiwishop.order_query.store import ReadModelStore
from kiwishop.platform.auth import verifier_of
from kiwishop.platform.identity import Principal, Role
from kiwishop.platform.params import MAX_ID, PAGE_LIMIT_MAX

log = logging.getLogger("kiwishop.order_query.fastpath")

PATH = re.compile(rb"/api/orders/members/([1-9][0-9]{0,18})")
NUMBER = re.compile(rb"[1-9][0-9]{0,18}")
HEADERS = [(b"content-type", b"application/json")]
BEARER = re.compile(rb"[Bb][Ee][Aa][Rr][Ee][Rr] +([^ ]+)")
DEFAULT_LIMIT, MAX_LIMIT = 10, PAGE_LIMIT_MAX  # the route's default and the paging rule's maximum


def parse_query(query: bytes) -> tuple[int | None, int] | None:
    """(cursor, limit) for a canonical query string, else None (let the route judge it)."""
    cursor: int | None = None
    limit: int | None = None
    for part in query.split(b"&") if query else ():
        name, _, value = part.partition(b"=")
        if not NUMBER.fullmatch(value):
            return None
        if name == b"limit" and limit is None:
            limit = int(value)
            if limit > MAX_LIMIT:
                return None
        elif name == b"paymentEventNo" and cursor is None:
            cursor = int(value)
            if cursor > MAX_ID:
                return None
        else:
            return None
    return cursor, DEFAULT_LIMIT if limit is None else limit


@dataclass(frozen=True)
class RouteName:
    path: str  # what the platform's latency metric reads from ``scope["route"]``


class HistoryFastPath:
    def __init__(self, app: ASGIApp, store: ReadModelStore, route_path: str) -> None:
        self.app = app
        self.store = store
        self.route = RouteName(route_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            body = await self._answer(scope)
            if body is not None:
                scope["route"] = self.route
                headers = [*HEADERS, (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope) -> bytes | None:
        raw = scope.get("raw_path") or scope["path"].encode()
        path = PATH.fullmatch(raw.partition(b"?")[0])
        if path is None:
            return None
        member = int(path[1])
        query = parse_query(scope["query_string"])
        if member > MAX_ID or query is None:
            return None
        principal = await self._principal(scope)
        ops = principal is not None and principal.role is Role.OPS
        if not ops and (principal is None or principal.role is not Role.MEMBER or principal.member_no != member):
            return None
        try:
            body = await self.store.page(member, *query)
        except Exception:  # Redis trouble: the route answers (503) with the error shape
            log.debug("fast path could not read the index", exc_info=True)
            return None
        if body is None:
            return None
        if not ops:
            return hide_payment_keys(body)
        return None if KEYLESS in body else body  # a key Redis lacks: the route asks order for it

    async def _principal(self, scope: Scope) -> Principal | None:
        """The verified caller, or None: no bearer token, or one the route must judge (it answers the error)."""
        header = next((value for name, value in scope["headers"] if name == b"authorization"), None)
        bearer = BEARER.fullmatch(header) if header is not None else None
        if bearer is None:
            return None
        try:
            return await verifier_of(Request(scope)).verify(bearer[1].decode("ascii"))
        except Exception:  # invalid, or no keys to check it with: the route answers 401 / 503
            return None
