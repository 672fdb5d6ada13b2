"""The access matrix: every route of every service × every kind of caller → past the door, or 401/403.

Generated from the apps' own routes: a route without a rule in tests/fuzz/access_rules.py fails
``test_every_route_has_a_rule`` (and a rule for a route that is gone fails it too), so a new route cannot ship
without someone deciding who may call it. Each rule's request is then sent, over real HTTP to the fuzz tier's
services, once per caller: the allowed ones must get anything but 401/403 (their request names member 1's and
seller 1's own things), the others 401 without a token — a page sends them to the login — and 403 with the
wrong one."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from tests.fuzz.access_rules import ADMIN, ANON, M1, M2, MERCHANT, OPEN, OPS, RULES, S1, S2, SKIPPED, Rule, World
from tests.fuzz.conftest import TOSS_AUTH
from tests.support import emulator_admin, tokens

URL_FIXTURE = {
    "catalog": "catalog_url", "catalog_like": "like_url", "catalog_review": "review_url", "hot_catalog": "hot_url",
    "wallet": "wallet_url", "seller": "seller_url", "order": "order_url", "order_query": "order_query_url",
    "toss_emulator": "emulator_url", "identity": "identity_url", "console": "console_url",
}  # fmt: skip
CSRF = "matrix-csrf-value-0123456789abcdefghijkl"


def _routes(routes: list[Any]) -> Iterator[str]:
    for route in routes:
        nested = getattr(route, "effective_candidates", None)  # an included router (FastAPI ≥ 0.120)
        if nested is not None:
            yield from _routes(nested())
            continue
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method != "HEAD" or not isinstance(route, APIRoute):
                yield f"{method} {route.path}"


def routes_of(module: str) -> set[str]:
    service = importlib.import_module(f"kiwishop.{module}.app").SERVICE
    app = service.create_app(service.settings_class())
    return {r for r in _routes(app.routes) if r not in OPEN and not r.startswith("HEAD ")}


@pytest.mark.parametrize("module", sorted(RULES))
def test_every_route_has_a_rule(module: str) -> None:
    served = routes_of(module) - SKIPPED.get(module, set())
    assert served - set(RULES[module]) == set(), "routes without an access rule"
    assert set(RULES[module]) - served == set(), "rules for routes that do not exist"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_of(caller: str) -> str | None:
    mint = tokens()
    return {M1: mint.member(1), M2: mint.member(2), S1: mint.seller(1), S2: mint.seller(2), OPS: mint.ops()}.get(caller)


def send(base_url: str, verb: str, rule: Rule, caller: str, world: World) -> httpx.Response:
    request = rule.request(world)
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    token = token_of(caller)
    if caller == ADMIN:
        headers = emulator_admin()
    elif caller == MERCHANT:
        headers = {"Authorization": TOSS_AUTH}
    elif rule.page:
        cookies = {"kiwi_csrf": CSRF, **({"kiwi_session": token} if token else {})}
        if "data" in request:
            request["data"] = {**request["data"], "csrf": CSRF}
    elif token:
        headers = bearer(token)
    with httpx.Client(base_url=base_url, timeout=30, cookies=cookies, follow_redirects=False) as client:
        return client.request(verb, headers=headers, **request)


def expected_refusal(rule: Rule, caller: str, response: httpx.Response) -> bool:
    if caller == ANON:
        to_login = response.status_code in (302, 303) and response.headers["location"].startswith("/login")
        return response.status_code == 401 or (rule.page and to_login)
    if caller == MERCHANT and rule.wrong_caller == 403:
        return response.status_code == 401  # a Basic key is no bearer token at all
    if rule.hidden_refusal and response.status_code == 303:
        return rule.hidden_refusal in response.headers["location"]
    return response.status_code == rule.wrong_caller


@pytest.fixture(scope="module")
def world(order_url: str, emulator_url: str, review_url: str, seller_url: str) -> World:
    """Member 1's orders (two paid, one not), its review, and a seller registration, made through the APIs."""
    member_1 = bearer(tokens().member(1))
    with (
        httpx.Client(base_url=order_url, timeout=30, headers=member_1) as order,
        httpx.Client(base_url=emulator_url, timeout=30) as emulator,
    ):
        created = []
        for _ in range(3):
            checkout = order.post("/api/checkout", json={"memberNo": 1, "productNoList": [1]})
            assert checkout.status_code == 201, checkout.text
            created.append(checkout.json())
        for paid in created[:2]:
            window = {"orderId": paid["orderId"], "amount": int(paid["amount"]), "orderName": paid["orderName"]}
            authorised = emulator.post("/emulator/payments", json=window)
            assert authorised.status_code == 201, authorised.text
            confirm = {
                "paymentKey": authorised.json()["paymentKey"],
                "orderId": paid["orderId"],
                "amount": paid["amount"],
            }
            confirmed = order.post("/api/payments/confirm", json=confirm)
            assert confirmed.status_code == 200, confirmed.text
    review = httpx.post(f"{review_url}/api/product-reviews", headers=member_1, timeout=30, json={
        "productNo": 1, "memberNo": 1, "title": "좋아요", "content": "매트릭스", "starRatingType": "FIVE"})  # fmt: skip
    assert review.status_code == 201, review.text
    registration = httpx.post(f"{seller_url}/api/sellers", json={"sellerId": "matrix-world"}, timeout=30)
    assert registration.status_code == 202, registration.text
    lines = httpx.get(f"{order_url}/api/orders", params={"orderId": created[0]["orderId"]}, headers=member_1)
    assert lines.status_code == 200, lines.text
    return World(
        paid_order=created[0]["orderId"],
        paid_line=lines.json()["paymentOrderList"][0]["paymentOrderNo"], payment_event_no=created[0]["paymentEventNo"],
        cancel_order=created[1]["orderId"], unpaid_order=created[2]["orderId"],
        review_no=review.json()["productReviewNo"], registration_id=registration.json()["registrationId"],
    )  # fmt: skip


CASES = [(module, route) for module in sorted(RULES) for route in sorted(RULES[module])]


@pytest.mark.parametrize(("module", "route"), CASES, ids=[f"{m}: {r}" for m, r in CASES])
def test_each_caller_gets_past_the_door_only_if_the_rule_says_so(
    module: str, route: str, world: World, request: pytest.FixtureRequest
) -> None:
    rule = RULES[module][route]
    base_url = request.getfixturevalue(URL_FIXTURE[module])
    verb = route.split(" ", 1)[0]
    wrong: list[str] = []
    for caller in sorted(rule.callers, key=lambda c: c not in rule.allowed):  # the allowed callers first
        response = send(base_url, verb, rule, caller, world)
        if caller in rule.allowed:
            if response.status_code in (401, 403) or response.status_code >= 500:
                wrong.append(f"{caller}: allowed, got {response.status_code} {response.text[:160]}")
        elif not expected_refusal(rule, caller, response):
            wrong.append(f"{caller}: not allowed, got {response.status_code} {response.text[:160]}")
        elif not rule.page and response.headers.get("content-type", "").startswith("application/json"):
            assert {"code", "message"} <= set(response.json()), response.text
    assert not wrong, "\n".join(wrong)
