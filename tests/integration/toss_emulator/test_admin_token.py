"""Who may use the /emulator controls: the admin token's holder. Without it (401) or with another (403) nothing
is done — no fault changed, no payment forgotten, approved or cancelled, no clock moved; the programmatic window
(POST /emulator/payments) and the payment window need no token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kiwishop.toss_emulator.settings import ADMIN_TOKEN_DEFAULT
from tests.integration.toss_emulator.conftest import ADMIN, FakeClock, Toss, basic, new_order_id
from tests.support import running_app

WRONG = {"Authorization": "Bearer not-the-admin-token"}
LOCKED = [
    ("GET", "/emulator/faults", None),
    ("PUT", "/emulator/faults", {"fault5xxRate": 1.0}),
    ("GET", "/emulator/stats", None),
    ("POST", "/emulator/reset", None),
    ("POST", "/emulator/clock", {"advanceS": 3600}),
    ("POST", "/emulator/payments/{key}/cancel-outside", {"cancelAmount": 1000}),
    ("POST", "/emulator/payments/{key}/approve-outside", None),
]
REFUSALS = [
    ({}, 401, "ADMIN_TOKEN_REQUIRED"),
    ({"Authorization": "Bearer "}, 401, "ADMIN_TOKEN_REQUIRED"),
    (basic(), 401, "ADMIN_TOKEN_REQUIRED"),  # the merchant's secret key is no admin token
    ({"Authorization": f"Basic {ADMIN_TOKEN_DEFAULT}"}, 401, "ADMIN_TOKEN_REQUIRED"),
    (WRONG, 403, "ADMIN_TOKEN_INVALID"),
    ({"Authorization": f"Bearer {ADMIN_TOKEN_DEFAULT}x"}, 403, "ADMIN_TOKEN_INVALID"),
]


async def call(toss: Toss, method: str, path: str, body: Any, headers: dict[str, str], key: str) -> httpx.Response:
    return await toss.http.request(method, path.format(key=key), json=body, headers=headers)


async def snapshot(toss: Toss, *keys: str) -> tuple[Any, ...]:
    """Everything a control could change: faults, counters, the clock (its offset), and the payments."""
    faults = (await toss.http.get("/emulator/faults", headers=ADMIN)).json()
    clock = (await toss.http.post("/emulator/clock", json={"advanceS": 0}, headers=ADMIN)).json()
    payments = [(await toss.get(key)).json() for key in keys]
    return faults, await toss.stats(), clock, payments


@pytest.mark.parametrize(("method", "path", "body"), LOCKED)
@pytest.mark.parametrize(("headers", "status", "code"), REFUSALS)
async def test_a_control_without_the_admin_token_is_refused_and_changes_nothing(
    toss: Toss, method: str, path: str, body: Any, headers: dict[str, str], status: int, code: str
) -> None:
    paid = await toss.authorise()
    assert (await toss.confirm(paid)).status_code == 200
    target = paid if "cancel-outside" in path else await toss.authorise()  # approve-outside: an authorised one
    before = await snapshot(toss, paid["paymentKey"], target["paymentKey"])
    response = await call(toss, method, path, body, headers, target["paymentKey"])
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert set(response.json()) == {"code", "message"}
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    assert await snapshot(toss, paid["paymentKey"], target["paymentKey"]) == before


@pytest.mark.parametrize(("method", "path", "body"), LOCKED)
async def test_the_admin_token_opens_every_control(toss: Toss, method: str, path: str, body: Any) -> None:
    payment = await toss.authorise()
    if "cancel-outside" in path:
        assert (await toss.confirm(payment)).status_code == 200
    response = await call(toss, method, path, body, ADMIN, payment["paymentKey"])
    assert response.status_code == (204 if path.endswith("/reset") else 200), response.text


async def test_the_token_is_checked_before_the_body(toss: Toss) -> None:
    response = await toss.http.put("/emulator/faults", json={"fault5xxRate": 7}, headers=WRONG)
    assert (response.status_code, response.json()["code"]) == (403, "ADMIN_TOKEN_INVALID")


async def test_a_refusal_speaks_english_when_asked(toss: Toss) -> None:
    response = await toss.http.get("/emulator/stats", headers={"Accept-Language": "en"})
    assert response.json()["message"] == "The emulator's admin token is required (Authorization: Bearer …)."
    korean = await toss.http.get("/emulator/stats", headers=WRONG)
    assert korean.json()["message"] == "에뮬레이터 관리 토큰이 올바르지 않습니다."


async def test_the_token_comes_from_the_settings(emulator_app: Callable[..., Any], clock: FakeClock) -> None:
    async with running_app(emulator_app(admin_token="a-token-of-its-own")) as http:
        default = await http.post("/emulator/reset", headers=ADMIN)
        assert (default.status_code, default.json()["code"]) == (403, "ADMIN_TOKEN_INVALID")
        own = await http.post("/emulator/reset", headers={"Authorization": "bearer  a-token-of-its-own "})
        assert own.status_code == 204


async def test_the_windows_need_no_token(toss: Toss) -> None:
    body = {"orderId": new_order_id(), "amount": 6000, "orderName": "상품A"}
    assert (await toss.http.post("/emulator/payments", json=body)).status_code == 201
    assert (await toss.http.get("/v1/payment")).status_code == 200


async def test_the_document_names_the_token_refusals_on_the_controls_only(toss: Toss) -> None:
    paths = (await toss.http.get("/openapi.json")).json()["paths"]
    for method, path, _ in LOCKED:
        responses = paths[path.replace("{key}", "{paymentKey}")][method.lower()]["responses"]
        assert {"401", "403"} <= set(responses), (method, path)
        assert "ADMIN_TOKEN_REQUIRED" in responses["401"]["description"]
        assert "ADMIN_TOKEN_INVALID" in responses["403"]["description"]
    assert "401" not in paths["/emulator/payments"]["post"]["responses"]
    assert "security" not in paths["/emulator/payments"]["post"]
