"""One shared httpx client per service and per peer, with explicit timeouts and the request id forwarded."""

from __future__ import annotations

import httpx
import structlog


async def _forward_request_id(request: httpx.Request) -> None:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id and "x-request-id" not in request.headers:
        request.headers["x-request-id"] = str(request_id)


def create_http_client(
    base_url: str,
    *,
    connect_timeout_s: float = 1.0,
    read_timeout_s: float = 5.0,
    max_connections: int = 100,
    auth: httpx.Auth | None = None,
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        event_hooks={"request": [_forward_request_id]},
        auth=auth,
    )
