"""Who may use the console: ops only — anonymous 401 (a page: the login), a member or seller 403 — and an ops
caller gets the overview with every part, even with every service down."""

from __future__ import annotations

import httpx
import pytest

from kiwishop.console.domain import is_error
from kiwishop.platform.page_session import SESSION_COOKIE
from tests.integration.console.conftest import overview
from tests.support import as_member, as_ops, as_seller, tokens

ROUTES = [
    ("GET", "/api/ops/overview"),
    ("GET", "/api/ops/dead-letters/kiwi-shop-payment"),
    ("POST", "/api/ops/dead-letters/kiwi-shop-payment/redrive"),
    ("POST", "/api/ops/payments/order-000001/recheck"),
    ("POST", "/api/ops/payments/order-000001/cancel-at-psp"),
    ("POST", "/api/ops/reconcile"),
    ("GET", "/api/ops/audit"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_anonymous_callers_get_401_and_members_and_sellers_403(
    console: httpx.AsyncClient, method: str, path: str
) -> None:
    body = {"reason": "x"} if path.endswith("cancel-at-psp") else None
    anonymous = await console.request(method, path, json=body)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "AUTH0001"
    for headers in (as_member(1), as_seller(1)):
        refused = await console.request(method, path, json=body, headers=headers)
        assert refused.status_code == 403
        assert refused.json()["code"] == "AUTH0002"


async def test_ops_gets_the_overview_with_every_part_and_a_down_service_is_its_parts_error(
    console: httpx.AsyncClient,
) -> None:
    o = await overview(console)
    assert {"outbox", "consumers", "deadLetters", "payments", "registrations", "services", "reconcile"} <= set(o)
    assert [r["service"] for r in o["outbox"]] == ["order", "wallet", "seller", "catalog-like", "catalog-review"]
    assert all(is_error(r) for r in o["outbox"])  # every service is down here
    assert o["payments"]["service"] == "order"
    assert "error" in o["payments"]
    assert not any(s["ready"] for s in o["services"])
    assert isinstance(o["consumers"], list)  # the broker is up: its parts are there
    assert {"group", "topic", "lag"} <= set(o["consumers"][0])
    assert isinstance(o["deadLetters"], list)
    assert {"topic", "pending", "total"} <= set(o["deadLetters"][0])


async def test_the_pages_send_anonymous_callers_to_the_login_refuse_members_and_show_ops_the_overview(
    console: httpx.AsyncClient,
) -> None:
    anonymous = await console.get("/dead-letters/kiwi-shop-payment")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/dead-letters/kiwi-shop-payment"
    member = await console.get("/", headers={"Cookie": f"{SESSION_COOKIE}={tokens().member(1)}"})
    assert member.status_code == 403
    assert "운영자" in member.text
    ops = await console.get("/", headers={"Cookie": f"{SESSION_COOKIE}={tokens().ops()}"}, timeout=60)
    assert ops.status_code == 200
    for heading in ("결제 확인 필요", "아웃박스", "컨슈머 지연", "데드레터", "판매자 등록", "미정산 주문", "대사"):
        assert heading in ops.text
    login = await console.get("/login?next=/audit")
    assert login.status_code == 200
    assert 'name="next" value="/audit"' in login.text


async def test_a_bad_request_is_a_400_and_an_unknown_topic_a_404_never_a_500(console: httpx.AsyncClient) -> None:
    unknown = await console.get("/api/ops/dead-letters/no-such-topic-at-all", headers=as_ops())
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "CON0001"
    bad_topic = await console.get("/api/ops/dead-letters/bad%20topic", headers=as_ops())
    assert bad_topic.status_code == 400
    for body in ({"partition": -1, "offset": 0}, {"partition": 0}, {"offset": 1, "x": 2}):
        response = await console.post("/api/ops/dead-letters/kiwi-shop-payment/redrive", json=body, headers=as_ops())
        assert response.status_code == 400, body
    no_reason = await console.post("/api/ops/payments/order-000001/cancel-at-psp", json={}, headers=as_ops())
    assert no_reason.status_code == 400
    bad_order = await console.post("/api/ops/payments/a/recheck", headers=as_ops())
    assert bad_order.status_code == 400


async def test_a_form_without_the_csrf_value_does_nothing_and_a_cancel_must_be_confirmed(
    console: httpx.AsyncClient,
) -> None:
    csrf = "console-test-csrf-value-0123456789abcdef"
    cookie = {"Cookie": f"{SESSION_COOKIE}={tokens().ops()}; kiwi_csrf={csrf}"}

    async def newest() -> list[dict[str, object]]:
        response = await console.get("/api/ops/audit", params={"limit": 1}, headers=as_ops())
        entries: list[dict[str, object]] = response.json()["entries"]
        return entries

    before = await newest()
    forged = await console.post("/reconcile", data={"csrf": "another-value-0123456789abcdefghij"}, headers=cookie)
    assert forged.status_code == 403
    unconfirmed = await console.post(
        "/payments/order-000001/cancel-at-psp", data={"csrf": csrf, "reason": "duplicate"}, headers=cookie
    )
    assert unconfirmed.status_code == 400
    assert "확인란" in unconfirmed.text
    bad_position = await console.post(
        "/dead-letters/kiwi-shop-payment/redrive", data={"csrf": csrf, "partition": "x", "offset": "1"}, headers=cookie
    )
    assert bad_position.status_code == 400
    assert await newest() == before  # nothing was done, so nothing recorded

    order_down = await console.post("/payments/order-000001/recheck", data={"csrf": csrf}, headers=cookie)
    assert order_down.status_code == 503  # order is down here: the error page, and the attempt is in the audit
    (entry,) = await newest()
    assert (entry["action"], entry["target"]) == ("payment-recheck", "order-000001")
    assert entry["outcome"].startswith("CON0004: ")
