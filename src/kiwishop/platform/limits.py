"""Limits that need no identity: every service refuses a request body larger than its ``max_body_bytes``.

``BodyLimitMiddleware`` (installed by ``web.build_app``) decides before the app runs, so before anything parses
the body, and for every route (one that never reads bodies too):

- a ``Content-Length`` above the limit is answered 413 at once; the body is not received (and no
  ``100 Continue`` is sent for it); a smaller one passes: the server delivers no more than it says;
- a body without one (``Transfer-Encoding: chunked``) is counted while it streams in through ``receive``, held
  (at most the limit plus one chunk) and handed on whole to the app when it ends within the limit; the chunk
  that crosses the limit stops it with the 413.

The answer is the shop's error shape, ``{"code": "PAYLOAD_TOO_LARGE", "message"}`` (Korean; English with
``Accept-Language: en``), with ``Connection: close``. Nothing is ever buffered beyond the limit plus one chunk.
A client that sends its whole body before it reads (most do) would see the connection reset instead of the
413 if the server closed with body still unread, so before the answer ends the rest of the body is received
and thrown away — at most ``DRAIN_BYTES`` within ``DRAIN_S`` (a "lingering close"); a larger body (by its
Content-Length, or as it streams) just has its connection closed. A client that asked ``Expect:
100-continue`` gets the 413 before it sends anything, so nothing is drained for it.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiwishop.platform.errors import AppError, CommonError, language
from kiwishop.platform.jsonutil import dumps

DEFAULT_MAX_BODY_BYTES = 64 * 1024
DRAIN_BYTES = 8 * 1024 * 1024
DRAIN_S = 2.0


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, or None when it has none (or none the server would accept)."""
    raw = _header(scope, b"content-length")
    if raw is None or not raw.strip().isdigit():
        return None
    return int(raw.strip())


async def drain(receive: Receive, budget: int = DRAIN_BYTES, seconds: float = DRAIN_S) -> None:
    """Receive and throw away what is left of a refused body: at most ``budget`` bytes within ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while budget > 0:
        try:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            return
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def refuse(scope: Scope, receive: Receive, send: Send, limit: int, *, unread: int | None) -> None:
    """Send the 413 answer; ``unread`` is what is known to be left of the body (None: unknown, it streams)."""
    lang = language(_header(scope, b"accept-language"))
    body = dumps(AppError(CommonError.PAYLOAD_TOO_LARGE, limit=limit).body(lang))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": True})
    expects_continue = (_header(scope, b"expect") or "").lower() == "100-continue"
    if not (unread is not None and (unread > DRAIN_BYTES or expects_continue)):
        await drain(receive)
    await send({"type": "http.response.body", "body": b""})


class BodyLimitMiddleware:
    """Pure ASGI: refuses a request body larger than ``max_body_bytes`` with 413 before it is parsed."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await refuse(scope, receive, send, limit, unread=declared)
            return
        if declared is not None or _header(scope, b"transfer-encoding") is None:
            await self.app(scope, receive, send)  # the server delivers no more than the length said
            return
        # A body of unknown length streams in: read it up to the limit before the app runs (whether the route
        # reads bodies or not), then hand it on whole.
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away: the app hears it on its first receive
            body += message.get("body", b"")
            if len(body) > limit:
                await refuse(scope, receive, send, limit, unread=None)
                return
            if not message.get("more_body", False):
                message = {"type": "http.request", "body": bytes(body), "more_body": False}
                break
        pending = [message]

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)
