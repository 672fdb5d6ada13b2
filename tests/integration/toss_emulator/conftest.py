"""The emulator in-process (httpx over ASGI) with a fake clock; helpers shaped like a Toss client.

Every test using ``emulator_app`` or ``toss`` runs twice: with the state in memory, and in a state file.
Emulators made here send no webhooks unless a test gives them a ``webhook_url``.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiwishop.toss_emulator.app import create_app
from kiwishop.toss_emulator.settings import PUBLIC_TEST_CLIENT_KEY, PUBLIC_TEST_SECRET_KEY, TossEmulatorSettings
from tests.support import emulator_admin, running_app

SECRET = PUBLIC_TEST_SECRET_KEY
CLIENT_KEY = PUBLIC_TEST_CLIENT_KEY
ADMIN = emulator_admin()  # the /emulator controls' bearer token (the settings' default)


def basic(secret_key: str = SECRET, colon: bool = True) -> dict[str, str]:
    raw = secret_key + (":" if colon else "")
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def new_order_id() -> str:
    return f"order-{uuid.uuid4().hex[:16]}"


class FakeClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2025, 1, 10, 11, 29, 30, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class Toss:
    """A thin Toss client over the emulator app, plus its /emulator controls."""

    def __init__(self, http: httpx.AsyncClient, clock: FakeClock) -> None:
        self.http = http
        self.clock = clock

    async def authorise(self, order_id: str | None = None, amount: Any = 6000, **extra: Any) -> dict[str, Any]:
        body = {"orderId": order_id or new_order_id(), "amount": amount, "orderName": "상품A 외 2건", **extra}
        response = await self.http.post("/emulator/payments", json=body)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def confirm(
        self,
        payment: dict[str, Any],
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        **changes: Any,
    ) -> httpx.Response:
        body = {"paymentKey": payment["paymentKey"], "orderId": payment["orderId"], "amount": payment["amount"]}
        body.update(changes)
        all_headers = {**basic(), **({"Idempotency-Key": key} if key else {}), **(headers or {})}
        return await self.http.post("/v1/payments/confirm", json=body, headers=all_headers)

    async def cancel(self, payment_key: str, *, key: str | None = None, **body: Any) -> httpx.Response:
        headers = {**basic(), **({"Idempotency-Key": key} if key else {})}
        return await self.http.post(f"/v1/payments/{payment_key}/cancel", json=body, headers=headers)

    async def cancel_outside(self, payment_key: str, **body: Any) -> httpx.Response:
        path = f"/emulator/payments/{payment_key}/cancel-outside"
        return await self.http.post(path, json=body or None, headers=ADMIN)

    async def approve_outside(self, payment_key: str) -> httpx.Response:
        return await self.http.post(f"/emulator/payments/{payment_key}/approve-outside", headers=ADMIN)

    async def get(self, payment_key: str) -> httpx.Response:
        return await self.http.get(f"/v1/payments/{payment_key}", headers=basic())

    async def status(self, payment_key: str) -> str:
        response = await self.get(payment_key)
        assert response.status_code == 200, response.text
        return str(response.json()["status"])

    async def stats(self) -> dict[str, int]:
        result: dict[str, int] = (await self.http.get("/emulator/stats", headers=ADMIN)).json()
        return result

    async def faults(self, **changes: Any) -> dict[str, Any]:
        response = await self.http.put("/emulator/faults", json=changes, headers=ADMIN)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "file"])
def emulator_app(request: pytest.FixtureRequest, clock: FakeClock, tmp_path: Path) -> Callable[..., Any]:
    """Builds emulator apps; with ``file``, each app gets a state file of its own."""
    numbers = itertools.count()

    def make(**settings: Any) -> Any:
        data_path = str(tmp_path / f"emulator-{next(numbers)}.sqlite3") if request.param == "file" else ""
        defaults = {"hang_s": 5.0, "data_path": data_path, "webhook_url": ""}
        return create_app(TossEmulatorSettings(**{**defaults, **settings}), clock=clock)

    return make


@pytest.fixture
async def toss(emulator_app: Callable[..., Any], clock: FakeClock) -> AsyncIterator[Toss]:
    async with running_app(emulator_app()) as http:
        yield Toss(http, clock)


def error(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"code", "message"}, body
    assert body["message"]
    return response.status_code, body["code"]
