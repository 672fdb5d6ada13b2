"""The payment window: the SDK script, the hosted card page, and its redirects to successUrl / failUrl."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from tests.integration.toss_emulator.conftest import CLIENT_KEY, Toss, error, new_order_id

SUCCESS = "http://localhost:8080/success"  # the local shop: an allowed origin by default
FAIL = "http://localhost:8080/fail"


def window_params(order_id: str, **changes: Any) -> dict[str, Any]:
    params = {
        "clientKey": CLIENT_KEY,
        "method": "카드",
        "amount": "6000",
        "orderId": order_id,
        "orderName": "상품A 외 2건",
        "successUrl": SUCCESS,
        "failUrl": FAIL,
        "customerName": "김토스",
    }
    params.update(changes)
    return params


async def submit(toss: Toss, order_id: str, action: str = "pay", **changes: Any) -> httpx.Response:
    form = {**window_params(order_id, **changes), "action": action}
    form.setdefault("cardNumber", "4111-1111-1111-1111")
    form.setdefault("cardExpiry", "12/30")
    body = urlencode({k: v for k, v in form.items() if v is not None})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return await toss.http.post("/emulator/window", content=body, headers=headers)


def redirect(response: httpx.Response) -> tuple[str, list[tuple[str, str]]]:
    assert response.status_code == 303, response.text
    parts = urlsplit(response.headers["location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qsl(parts.query)


async def test_the_sdk_script_defines_toss_payments_and_knows_the_client_keys(toss: Toss) -> None:
    response = await toss.http.get("/v1/payment")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    script = response.text
    assert "window.TossPayments = TossPayments" in script
    assert "requestPayment" in script
    assert "document.currentScript" in script
    assert f'["{CLIENT_KEY}"]' in script
    assert "__KIWI_CLIENT_KEYS__" not in script


async def test_the_window_shows_the_order_name_amount_and_order_id_with_a_prefilled_card(toss: Toss) -> None:
    order_id = new_order_id()
    params = window_params(order_id, orderName="<b>상품A</b> 외 2건", amount="1234567")
    response = await toss.http.get("/emulator/window", params=params)
    assert response.status_code == 200
    page = response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "&lt;b&gt;상품A&lt;/b&gt; 외 2건" in page
    assert "<b>상품A</b>" not in page
    assert "1,234,567원" in page
    assert order_id in page
    assert 'id="pay-button"' in page
    assert "결제하기" in page
    assert 'id="cancel-button"' in page
    assert "취소" in page
    assert 'value="4111-1111-1111-1111"' in page
    assert 'value="12/30"' in page
    for card in ("4000-0000-0000-0002", "4000-0000-0000-0069", "4000-0000-0000-9995"):
        assert card in page
    outside = page.replace(SUCCESS, "").replace(FAIL, "")
    assert "http://" not in outside
    assert "https://" not in outside


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"clientKey": "test_ck_unknown"}, "UNAUTHORIZED_KEY"),
        ({"method": "가상계좌"}, "NOT_SUPPORTED_METHOD"),
        ({"amount": "0"}, "INVALID_AMOUNT_VALUE"),
        ({"amount": "12.5"}, "INVALID_AMOUNT_VALUE"),
        ({"orderId": "abc"}, "INVALID_ORDER_ID"),
        ({"orderName": ""}, "INVALID_ORDER_NAME"),
        ({"successUrl": "/success"}, "INCORRECT_SUCCESS_URL_FORMAT"),
        ({"failUrl": None}, "INCORRECT_FAIL_URL_FORMAT"),
        ({"successUrl": "http://[::1/success"}, "INCORRECT_SUCCESS_URL_FORMAT"),  # unclosed IPv6 host: was a 500
        ({"failUrl": "http://[shop.test/fail"}, "INCORRECT_FAIL_URL_FORMAT"),
    ],
)
async def test_a_window_opened_with_bad_arguments_shows_the_sdk_error(
    toss: Toss, change: dict[str, Any], code: str
) -> None:
    params = {k: v for k, v in window_params(new_order_id(), **change).items() if v is not None}
    response = await toss.http.get("/emulator/window", params=params)
    assert response.status_code == 400
    assert f'id="error-code">{code}<' in response.text


async def test_paying_redirects_to_the_success_url_with_exactly_the_four_toss_parameters(toss: Toss) -> None:
    order_id = new_order_id()
    target, query = redirect(await submit(toss, order_id))
    assert target == SUCCESS
    assert [name for name, _ in query] == ["paymentType", "orderId", "paymentKey", "amount"]
    values = dict(query)
    assert (values["paymentType"], values["orderId"], values["amount"]) == ("NORMAL", order_id, "6000")
    assert values["paymentKey"].startswith("tgen_")
    payment = {"paymentKey": values["paymentKey"], "orderId": order_id, "amount": 6000}
    assert await toss.status(values["paymentKey"]) == "IN_PROGRESS"
    assert (await toss.confirm(payment)).json()["status"] == "DONE"
    assert (await toss.stats())["authorized"] == 1


async def test_the_success_url_keeps_its_own_query_and_a_decimal_amount_becomes_whole(toss: Toss) -> None:
    response = await submit(toss, new_order_id(), successUrl=SUCCESS + "?lang=ko", amount="6000.00", method="CARD")
    target, query = redirect(response)
    assert target == SUCCESS
    assert [name for name, _ in query] == ["lang", "paymentType", "orderId", "paymentKey", "amount"]
    assert dict(query)["amount"] == "6000"


async def test_the_buyer_cancelling_goes_to_the_fail_url_and_authorises_nothing(toss: Toss) -> None:
    order_id = new_order_id()
    target, query = redirect(await submit(toss, order_id, action="cancel", cardNumber=""))
    assert target == FAIL
    assert query == [
        ("code", "PAY_PROCESS_CANCELED"),
        ("message", "사용자에 의해 결제가 취소되었습니다."),
        ("orderId", order_id),
    ]
    assert (await toss.stats())["authorized"] == 0


@pytest.mark.parametrize(
    ("card", "code"),
    [
        ("4000-0000-0000-0002", "REJECT_CARD_COMPANY"),
        ("4000 0000 0000 0069", "INVALID_CARD_EXPIRATION"),
        ("4000000000009995", "EXCEED_MAX_PAYMENT_AMOUNT"),
        ("1234-5678", "INVALID_CARD_NUMBER"),
    ],
)
async def test_a_declining_card_goes_to_the_fail_url_with_the_decline_code(toss: Toss, card: str, code: str) -> None:
    order_id = new_order_id()
    target, query = redirect(await submit(toss, order_id, cardNumber=card))
    assert target == FAIL
    assert [name for name, _ in query] == ["code", "message", "orderId"]
    assert (dict(query)["code"], dict(query)["orderId"]) == (code, order_id)
    assert dict(query)["message"]
    stats = await toss.stats()
    assert (stats["authorized"], stats["declined"]) == (0, 1)


async def test_an_expired_card_expiry_declines(toss: Toss) -> None:
    _, query = redirect(await submit(toss, new_order_id(), cardExpiry="12/24"))
    assert dict(query)["code"] == "INVALID_CARD_EXPIRATION"


async def test_a_confirmed_order_id_cannot_be_authorised_again(toss: Toss) -> None:
    order_id = new_order_id()
    _, query = redirect(await submit(toss, order_id))
    await toss.confirm({"paymentKey": dict(query)["paymentKey"], "orderId": order_id, "amount": 6000})
    target, again = redirect(await submit(toss, order_id))
    assert (target, dict(again)["code"]) == (FAIL, "DUPLICATED_ORDER_ID")


async def test_authorising_an_unconfirmed_order_id_again_replaces_the_earlier_payment(toss: Toss) -> None:
    order_id = new_order_id()
    _, first = redirect(await submit(toss, order_id))
    _, second = redirect(await submit(toss, order_id))
    old_key, new_key = dict(first)["paymentKey"], dict(second)["paymentKey"]
    assert old_key != new_key
    old = await toss.confirm({"paymentKey": old_key, "orderId": order_id, "amount": 6000})
    assert error(old) == (404, "NOT_FOUND_PAYMENT")
    assert (await toss.confirm({"paymentKey": new_key, "orderId": order_id, "amount": 6000})).status_code == 200


async def test_a_tampered_window_form_is_refused_without_authorising(toss: Toss) -> None:
    response = await submit(toss, new_order_id(), clientKey="test_ck_forged", failUrl=FAIL)
    assert response.status_code == 400
    assert "UNAUTHORIZED_KEY" in response.text
    assert (await toss.stats())["authorized"] == 0


async def test_a_window_form_with_an_unparsable_url_is_refused_without_authorising(toss: Toss) -> None:
    response = await submit(toss, new_order_id(), successUrl="http://[::1/success")
    assert response.status_code == 400
    assert 'id="error-code">INCORRECT_SUCCESS_URL_FORMAT<' in response.text
    assert (await toss.stats())["authorized"] == 0
