"""The services over HTTP (``ports.Peers``): one shared client per service with short timeouts for the reads,
and one with a longer read timeout for order's payment actions (order asks the PSP, with its own retries).
Each request carries the caller's ops token as it came (the console mints nothing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiwishop.console.ports import Json, PeerError
from kiwishop.platform.httpclient import HttpClient, HttpError, HttpResponse, Params


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error_body(response: HttpResponse) -> Json | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("code"), str) and isinstance(body.get("message"), str):
        return {"code": body["code"], "message": body["message"]}
    return None


def _answer(service: str, response: HttpResponse) -> Json:
    if response.status_code != 200:
        body = _error_body(response)
        reason = f"{response.status_code} {body['code']}" if body else f"answered {response.status_code}"
        raise PeerError(service, response.status_code, reason, body)
    try:
        answer: Any = response.json()
    except ValueError as exc:
        raise PeerError(service, response.status_code, "answered something that is not JSON") from exc
    if not isinstance(answer, dict):
        raise PeerError(service, response.status_code, "answered JSON that is not an object")
    return answer


class HttpPeers:
    def __init__(self, clients: Mapping[str, HttpClient], order_actions: HttpClient) -> None:
        self._clients = dict(clients)
        self._order_actions = order_actions

    async def _get(self, service: str, path: str, token: str, params: Params | None = None) -> Json:
        try:
            response = await self._clients[service].get(path, params=params, headers=bearer(token))
        except HttpError as exc:
            raise PeerError(service, None, str(exc)) from exc
        return _answer(service, response)

    async def _post_to_order(self, path: str, token: str, body: Json | None = None) -> Json:
        try:
            response = await self._order_actions.post(path, json=body, headers=bearer(token))
        except HttpError as exc:
            raise PeerError("order", None, str(exc)) from exc
        return _answer("order", response)

    async def outbox(self, service: str, token: str) -> Json:
        return await self._get(service, "/api/ops/outbox", token)

    async def payments(self, token: str, limit: int) -> Json:
        return await self._get("order", "/api/ops/payments", token, {"limit": limit})

    async def registrations(self, token: str, limit: int) -> Json:
        return await self._get("seller", "/api/ops/registrations", token, {"limit": limit})

    async def ready(self, service: str) -> bool:
        try:
            response = await self._clients[service].get("/health/ready")
        except HttpError as exc:
            raise PeerError(service, None, str(exc)) from exc
        return response.status_code == 200

    async def recheck(self, order_id: str, token: str) -> Json:
        return await self._post_to_order(f"/api/ops/payments/{order_id}/recheck", token)

    async def cancel_at_psp(self, order_id: str, reason: str, token: str) -> Json:
        return await self._post_to_order(f"/api/ops/payments/{order_id}/cancel-at-psp", token, {"reason": reason})
