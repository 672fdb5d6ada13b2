"""Service-to-service HTTP: one shared client per peer, explicit timeouts, the request id and trace forwarded.

Built on aiohttp. (httpx was measured first: its connection pool scans every pooled connection — with
a readability syscall each — for every request, so at a hundred concurrent calls to one peer a request
cost milliseconds of CPU; aiohttp's connector does not.) Callers see a small response type and two
exceptions, so nothing else depends on the library:

- ``HttpError``: the peer could not be reached or the exchange broke (connection refused, reset, …);
- ``HttpTimeout`` (an ``HttpError``): no answer within the timeout — the request may have been processed.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from kiwishop.platform import jsonutil
from kiwishop.platform.tracing import current_request_id, inject

# A request sent down a keep-alive connection that the server is closing at that very moment is lost with it
# (a dropped connection; on a confirm, a payment in doubt for no reason). So clients drop an idle connection
# before any server does: ours after 4 s (uvicorn's default idle close is 5 s), while ``kiwishop serve`` keeps
# idle connections 20 s, longer than common clients keep theirs (httpx 5 s, aiohttp 15 s).
IDLE_CONNECTION_S = 4.0
SERVER_KEEP_ALIVE_S = 20

Params = Mapping[str, str | int] | Sequence[tuple[str, str | int]]


class HttpError(Exception):
    """The request did not produce a response."""


class HttpTimeout(HttpError):
    """No (complete) response within the timeout; the peer may still have acted on the request."""


@dataclass(frozen=True)
class HttpResponse:
    status_code: int
    content: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        """The body parsed with non-integer numbers as Decimal (money stays exact)."""
        return jsonutil.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class HttpClient:
    """An aiohttp session bound to one peer's base URL. Create it in ``create_app``; ``aclose()`` it on shutdown."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout_s: float = 1.0,
        read_timeout_s: float = 5.0,
        max_connections: int = 100,
        basic_auth: tuple[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_read=read_timeout_s)
        self._limit = max_connections
        self._headers: dict[str, str] = {}
        if basic_auth:  # the secret key as user and an empty password: base64("secret:"), colon included
            token = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._limit,
                    limit_per_host=self._limit,
                    enable_cleanup_closed=True,
                    keepalive_timeout=IDLE_CONNECTION_S,
                ),
                timeout=self._timeout,
                headers=self._headers,
                json_serialize=lambda value: jsonutil.dumps(value).decode(),
                raise_for_status=False,
            )
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        sent = dict(headers or {})
        request_id = current_request_id()
        if request_id and "x-request-id" not in {k.lower() for k in sent}:
            sent["X-Request-Id"] = request_id
        inject(sent)  # the current span's traceparent: the peer's server span continues this trace
        try:
            async with self._open().request(
                method, self.base_url + path, params=params, json=json, headers=sent
            ) as response:
                content = await response.read()
                return HttpResponse(response.status, content, dict(response.headers))
        except TimeoutError as exc:
            raise HttpTimeout(f"{method} {path}: no answer in time") from exc
        except aiohttp.ClientError as exc:
            raise HttpError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc

    async def get(
        self, path: str, *, params: Params | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        return await self.request("GET", path, params=params, headers=headers)

    async def post(self, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None) -> HttpResponse:
        return await self.request("POST", path, json=json, headers=headers)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def create_http_client(
    base_url: str,
    *,
    connect_timeout_s: float = 1.0,
    read_timeout_s: float = 5.0,
    max_connections: int = 100,
    basic_auth: tuple[str, str] | None = None,
) -> HttpClient:
    return HttpClient(
        base_url,
        connect_timeout_s=connect_timeout_s,
        read_timeout_s=read_timeout_s,
        max_connections=max_connections,
        basic_auth=basic_auth,
    )
