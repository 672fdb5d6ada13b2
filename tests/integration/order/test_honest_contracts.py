"""Order's share of "one rule per fact": an unknown order is a 404 on every single-order lookup, history pages
answer nextCursor under the one paging rule, lines carry no always-null field, and a decline's message
follows Accept-Language."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.order.payments import Emulator, as_buyer, checkout, confirm
from tests.support import as_member

UNKNOWN_ORDER = "no-such-order-42"


@pytest.mark.parametrize("path", [f"/api/orders?orderId={UNKNOWN_ORDER}", f"/api/payments/{UNKNOWN_ORDER}"])
async def test_an_unknown_order_is_the_same_404_on_every_single_order_lookup(
    order: httpx.AsyncClient, path: str
) -> None:
    korean = await order.get(path, headers=as_member(1))
    english = await order.get(path, headers={"Accept-Language": "en", **as_member(1)})
    assert korean.status_code == english.status_code == 404
    assert korean.json() == {"code": "PEC0004", "message": "주문이 존재하지 않습니다."}
    assert english.json() == {"code": "PEC0004", "message": "The order does not exist."}


async def test_a_member_without_orders_is_an_empty_list_not_an_error(order: httpx.AsyncClient) -> None:
    response = await order.get("/api/orders/members/919191", headers=as_member(919191))
    assert response.status_code == 200
    assert response.content == b'{"paymentEventList":[],"nextCursor":null}'


async def test_order_lines_carry_seller_no_and_no_always_null_seller_id(order: httpx.AsyncClient) -> None:
    created = await checkout(order, [1, 11], member=3)
    lines = (await order.get("/api/orders", params={"orderId": created["orderId"]}, headers=as_member(3))).json()
    lines = lines["paymentOrderList"]
    assert [(line["productNo"], line["sellerNo"]) for line in lines] == [(1, 1), (11, 8)]
    assert all(
        list(line) == ["paymentOrderNo", "orderId", "amount", "status", "sellerNo", "productNo"] for line in lines
    )


@pytest.mark.parametrize("limit", ["101", "0", "-1", "abc"])
async def test_a_history_limit_outside_1_to_100_is_a_400(order: httpx.AsyncClient, limit: str) -> None:
    response = await order.get(f"/api/orders/members/1?limit={limit}", headers=as_member(1))
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "query.limit"


async def test_history_pages_answer_next_cursor_until_the_last_page(
    paying_order: httpx.AsyncClient, emulator: Emulator
) -> None:
    member = 626262
    paid = []
    for _ in range(5):
        created = await checkout(paying_order, [1], member=member)
        key = await emulator.authorise(created["orderId"], created["amount"])
        assert (await confirm(paying_order, key, created["orderId"], created["amount"])).status_code == 200
        paid.append(created["paymentEventNo"])
    pages: list[dict] = []  # type: ignore[type-arg]
    cursor: str | None = None
    while True:
        params = {"limit": 2, **({"paymentEventNo": cursor} if cursor else {})}
        page = (
            await paying_order.get(f"/api/orders/members/{member}", params=params, headers=as_member(member))
        ).json()
        assert list(page) == ["paymentEventList", "nextCursor"]
        pages.append(page)
        cursor = page["nextCursor"]
        if cursor is None:
            break
        assert cursor == str(page["paymentEventList"][-1]["paymentEventNo"])
    assert [len(p["paymentEventList"]) for p in pages] == [2, 2, 1]
    assert [e["paymentEventNo"] for p in pages for e in p["paymentEventList"]] == sorted(paid, reverse=True)
    full = (
        await paying_order.get(f"/api/orders/members/{member}", params={"limit": 5}, headers=as_member(member))
    ).json()
    assert full["nextCursor"] is None  # a full last page says so: no empty page after it
    assert len(full["paymentEventList"]) == 5


async def test_a_declines_message_follows_accept_language(paying_order: httpx.AsyncClient, emulator: Emulator) -> None:
    created = await checkout(paying_order, [2], member=4)
    key = await emulator.authorise(created["orderId"], created["amount"], confirmErrors=["REJECT_CARD_COMPANY"])
    english = await confirm_in(paying_order, key, created, "en")
    assert english.status_code == 400
    body = english.json()
    assert (body["code"], body["status"]) == ("REJECT_CARD_COMPANY", "FAILURE")
    assert body["message"] == body["failure"]["message"] == "The card company refused the payment."
    korean = await paying_order.get(f"/api/payments/{created['orderId']}", headers=as_member(4))
    assert korean.json()["failure"] == {"code": "REJECT_CARD_COMPANY", "message": "결제 승인이 거절되었습니다."}
    again = await paying_order.get(
        f"/api/payments/{created['orderId']}", headers={"Accept-Language": "en", **as_member(4)}
    )
    assert again.json()["failure"]["message"] == "The card company refused the payment."
    replayed = await confirm_in(paying_order, key, created, "ko")
    assert replayed.json()["message"] == replayed.json()["failure"]["message"] == "결제 승인이 거절되었습니다."


async def confirm_in(order: httpx.AsyncClient, key: str, created: dict, lang: str) -> httpx.Response:  # type: ignore[type-arg]
    body = {"paymentKey": key, "orderId": created["orderId"], "amount": str(created["amount"])}
    headers = {"Accept-Language": lang, **as_buyer(created["orderId"])}
    return await order.post("/api/payments/confirm", json=body, headers=headers)
